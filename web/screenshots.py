"""Take the pictures of the site shown in web/README.md: the playground's four parts, a
chapter, the exercises page, at a desktop's width and at a phone's (390 px).

    python web/screenshots.py --site DIR      # a site built with web/build.py

Written to web/screenshots/ (PNG). Needs playwright and Chromium, as the page tests do.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
from browser import served  # noqa: E402  (the benchmark's 127.0.0.1 server)

OUT = ROOT / "web" / "screenshots"
WAIT = 300_000


def playground(page, url, suffix, train_seconds):
    page.goto(url + "playground.html")
    page.wait_for_selector("[data-testid=expr-graph] svg g.node", timeout=WAIT)
    stepper = page.frame_locator("[data-testid=expr-stepper]")
    for _ in range(4):
        stepper.locator("#next").click()
    time.sleep(0.5)
    page.locator("#expression").screenshot(path=OUT / f"playground_expression{suffix}.png")
    page.hover("#train h2")   # the mouse leaves the frame first, as a real one does
    page.select_option("[data-testid=train-preset]", "microgpt")
    page.click("[data-testid=train-start]")
    time.sleep(train_seconds)
    if page.get_attribute("#train", "data-state") == "running":
        page.click("[data-testid=train-stop]")
    page.wait_for_selector("#train[data-state=finished]", timeout=WAIT)
    page.locator("#train").screenshot(path=OUT / f"playground_train{suffix}.png")
    page.click("[data-testid=inspect-run]")
    page.wait_for_selector("[data-testid=next-token] .mg-bar", timeout=WAIT)
    time.sleep(2)   # the inspect page settles in its frame
    page.locator("#inspect").screenshot(path=OUT / f"playground_inspect{suffix}.png")
    page.hover("[data-testid=step-graph-run]")
    page.click("[data-testid=step-graph-run]")
    page.wait_for_selector("[data-testid=step-graph] svg", timeout=WAIT)
    page.locator("#step").screenshot(path=OUT / f"playground_step{suffix}.png")


def course(page, url, suffix):
    page.goto(url + "03_graph.html")
    page.click("[data-testid=run-all]")
    page.wait_for_selector("[data-testid=run-all]:not([disabled])", timeout=WAIT)
    page.locator("[data-testid=cell-output] >> nth=1").scroll_into_view_if_needed()
    page.screenshot(path=OUT / f"chapter{suffix}.png")
    page.goto(url + "exercises.html")
    page.wait_for_selector("[data-testid=exercise-editor] .cm-content", timeout=WAIT)
    page.click("[data-testid=exercise-check]")
    page.wait_for_selector("[data-testid=exercise-check]:not([disabled])", timeout=WAIT)
    page.locator("#exercise-app").scroll_into_view_if_needed()
    page.screenshot(path=OUT / f"exercises{suffix}.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", required=True, help="a site built with web/build.py")
    parser.add_argument("--train-seconds", type=float, default=90)
    args = parser.parse_args(argv)
    from helpers import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright
    OUT.mkdir(exist_ok=True)
    with served(args.site) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width, suffix in ((1300, ""), (390, "_390")):
            page = browser.new_page(viewport={"width": width, "height": 900})
            playground(page, url, suffix, args.train_seconds if not suffix else 10)
            course(page, url, suffix)
            page.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
