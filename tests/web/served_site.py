"""What the page tests share: the project's root, a page that records its console errors
and requests, and the check that nothing left 127.0.0.1."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def open_page(browser, url, width=1300):
    """A new page at `url` that records console errors and every request made:
    (page, errors, requests)."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    return page, errors, requests


def assert_clean(errors, requests):
    """No console error, and no request left 127.0.0.1."""
    assert errors == []
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1:", "data:", "blob:"))]
    assert outside == []
