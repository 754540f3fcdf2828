"""The site, built once for the page tests and served on 127.0.0.1.

MICROGRAD_GPT_SITE=/path/to/site uses a site built before (`python web/build.py --out
DIR`) instead of building one (about 20 s)."""
import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from served_site import ROOT


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The folder of a freshly built site."""
    given = os.environ.get("MICROGRAD_GPT_SITE")
    if given:
        return Path(given)
    if shutil.which("npm") is None:
        pytest.skip("building the site needs npm (apt-get install nodejs npm)")
    pytest.importorskip("mkdocs", reason="building the site needs MkDocs "
                                         '(pip install -e ".[web]")')
    out = tmp_path_factory.mktemp("web") / "site"
    done = subprocess.run([sys.executable, str(ROOT / "web" / "build.py"), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def server(site):
    """The site served on 127.0.0.1 (a free port): its base URL, ending in /."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
