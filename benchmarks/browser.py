"""The course in a browser tab, measured: cold start to first output, and a training step in
the page (Pyodide, in headless Chromium) against CPython on the same machine.

    python benchmarks/browser.py                 # builds the site (about 20 s), then measures
    python benchmarks/browser.py --site DIR      # a site built before with web/build.py
    python benchmarks/browser.py --rounds 5      # more turns (default 3)

Cold start: a fresh browser context (nothing cached) opens chapter 1 and clicks its first
block's Run at once; the clock runs from the navigation to the block's printed line, so it
holds downloading Pyodide and the wheels, starting Python and running the block.

A step: the same Python text runs in the page's free cell and in this CPython: a
`TrainingRun` of the preset (microgpt or tiny) on the names, one warm-up step, then STEPS
steps one by one, printing the median milliseconds of a step. The two take turns, round
after round, so that a busy machine slows both alike; ratios are of medians from this run.
Needs what the page tests need: npm and MkDocs to build, playwright and Chromium to run.
"""
from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import io
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

STEPS = {"microgpt": 30, "tiny": 8}
TIMING = """\
import statistics
from micrograd_gpt.training import TrainConfig
from micrograd_gpt.training.sliced import TrainingRun
run = TrainingRun(TrainConfig.from_preset({preset!r}, steps=1000, eval_interval=0), quiet=True)
for _ in range({steps} + 1):
    run.advance(0)
print("ms per step", round(1000 * statistics.median(run.step_times[1:]), 3))
"""


def ms_from(printed):
    line = next(line for line in printed.splitlines() if line.startswith("ms per step"))
    return float(line.split()[-1])


def time_in_cpython(preset):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(TIMING.format(preset=preset, steps=STEPS[preset]), {"__name__": "__timing__"})
    return ms_from(out.getvalue())


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def served(site):
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def cold_start(browser, url):
    """Seconds from opening chapter 1 in a fresh context to its first block's output."""
    context = browser.new_context()
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url + "01_value.html")
    page.click("[data-testid=cell-run] >> nth=0")
    page.wait_for_function("() => document.querySelector('[data-testid=cell-output]')"
                           ".textContent.includes('slope')", timeout=300_000)
    seconds = time.perf_counter() - started
    context.close()
    return seconds


def time_in_page(page, preset):
    page.click("[data-testid=scratch-input] .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(TIMING.format(preset=preset, steps=STEPS[preset]))
    page.evaluate("document.querySelector('[data-testid=scratch-output]').textContent = ''")
    page.click("[data-testid=scratch-run]")
    page.wait_for_function("() => /ms per step|Error/.test(document.querySelector("
                           "'[data-testid=scratch-output]').textContent)", timeout=600_000)
    return ms_from(page.inner_text("[data-testid=scratch-output]"))


def measure(site, rounds):
    from helpers import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright
    results = {"cold": [], **{(p, where): [] for p in STEPS for where in ("page", "cpython")}}
    with served(site) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(rounds):
            results["cold"].append(cold_start(browser, url))
        page = browser.new_page()
        page.goto(url + "01_value.html")
        for _ in range(rounds):
            for preset in STEPS:   # taking turns: the page, then CPython, every round
                results[(preset, "page")].append(time_in_page(page, preset))
                results[(preset, "cpython")].append(time_in_cpython(preset))
        browser.close()
    return results


def report(results):
    cold = results["cold"]
    print(f"cold start to first output: median {statistics.median(cold):.1f} s "
          f"(runs: {', '.join(f'{s:.1f}' for s in cold)})")
    print(f"{'preset':<10} {'page ms/step':>13} {'CPython ms/step':>16} {'ratio':>7}")
    for preset in STEPS:
        page = statistics.median(results[(preset, "page")])
        cpython = statistics.median(results[(preset, "cpython")])
        print(f"{preset:<10} {page:>13.1f} {cpython:>16.1f} {page / cpython:>6.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default=None, help="a site built with web/build.py")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each (default 3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        site = Path(args.site) if args.site else Path(scratch) / "site"
        if not args.site:
            subprocess.run([sys.executable, str(ROOT / "web" / "build.py"), "--out",
                            str(site)], check=True)
        report(measure(site, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
