"""The course in a browser tab: the built site served on 127.0.0.1, driven by headless
Chromium (Debian's, through playwright; see tests/helpers.py).

Each test opens a page and ends by checking that nothing was fetched from outside
127.0.0.1 and that the console shows no error."""
import re
import sys
from pathlib import Path

import pytest

from helpers import headless_chromium
from micrograd_gpt.teaching.exercises import EXERCISES, check

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "docs"))
from run_chapter import parse_blocks  # noqa: E402

from served_site import ROOT, assert_clean, open_page  # noqa: E402

pytestmark = pytest.mark.slow  # a build and a browser: the slow tier

browser = pytest.fixture(scope="module")(headless_chromium)
RUN_SECONDS = 240  # the whole chapter, Python's start included, on a busy 2-core machine


def recorded_outputs(chapter):
    """[(index of the python block among the chapter's python blocks, its recorded output)]"""
    found, python_index = [], -1
    for block in parse_blocks((ROOT / "docs" / chapter).read_text(encoding="utf-8")):
        if block.kind == "python":
            python_index += 1
        elif block.kind == "output":
            found.append((python_index, block.code.rstrip("\n")))
    return found


def wait_until_all_ran(page, seconds=RUN_SECONDS):
    page.wait_for_selector("[data-testid=run-all]:not([disabled])", timeout=seconds * 1000)


@pytest.mark.parametrize("chapter", ["01_value.md", "02_chain_rule.md"])
def test_run_all_prints_every_recorded_output_line(browser, server, chapter):
    page, errors, requests = open_page(browser, server + chapter.replace(".md", ".html"))
    page.click("[data-testid=run-all]")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=run-all]').disabled", timeout=5000)
    wait_until_all_ran(page)
    live = page.eval_on_selector_all("[data-testid=cell-output]",
                                     "nodes => nodes.map(n => n.innerText)")
    assert not any("Error" in text for text in live), live
    for index, recorded in recorded_outputs(chapter):
        for line in recorded.split("\n"):
            assert line.strip() in live[index], (index, line, live[index])
    assert_clean(errors, requests)


def type_in_scratch(page, code):
    """Type `code` into the free cell, line by line as a learner would (no indented lines:
    the editor indents after a colon by itself)."""
    page.click("[data-testid=scratch-input] .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(code)


def run_scratch(page, code):
    type_in_scratch(page, code)
    page.click("[data-testid=scratch-run]")
    page.wait_for_function(
        "() => { const o = document.querySelector('[data-testid=scratch-output]');"
        " return o.textContent.length > 0 && !o.classList.contains('mg-running'); }",
        timeout=RUN_SECONDS * 1000)
    return page.inner_text("[data-testid=scratch-output]")


def test_the_free_cell_runs_typed_code_and_errors_are_one_line(browser, server):
    page, errors, requests = open_page(browser, server + "01_value.html")
    shown = run_scratch(page, "from micrograd_gpt import Value\nx = Value(4.0)\n"
                              "y = x ** 3\ny.backward()\nprint('grad', x.grad * 7)\n")
    assert "grad 336.0" in shown
    shown = run_scratch(page, "from micrograd_gpt.training import TrainConfig\n"
                              "TrainConfig(lr=float('nan'))\n")
    assert shown.strip() == "ValueError: lr: must be a finite number > 0, got nan (line 2)"
    assert_clean(errors, requests)


def test_hostile_text_shows_as_text(browser, server):
    page, errors, requests = open_page(browser, server + "01_value.html")
    page.evaluate("window.hacked = 0")
    hostile = "<img src=x onerror=window.hacked=1></script><b>bold</b>"
    shown = run_scratch(page, f"print({hostile!r})\n{hostile!r}\n")
    assert shown.count(hostile) == 2
    assert page.evaluate("window.hacked") == 0
    assert page.query_selector("[data-testid=scratch-output] img") is None
    assert page.query_selector("[data-testid=scratch-output] b") is None
    assert_clean(errors, requests)


def test_a_graph_block_shows_an_svg(browser, server):
    page, errors, requests = open_page(browser, server + "03_graph.html")
    cells = page.query_selector_all("[data-testid=cell-run]")
    cells[0].click()   # draw_dot(...)
    cells[1].click()   # `dot` as the last line: the picture
    selector = "[data-testid=cell-output] >> nth=1 >> svg g.node"
    page.wait_for_selector(selector, timeout=RUN_SECONDS * 1000)
    nodes = page.query_selector_all("[data-testid=cell-output] >> nth=1 >> svg g.node")
    assert len(nodes) == 6 + 3   # as draw_dot draws it: 6 Values, 3 operations
    assert "grad" in page.inner_text("[data-testid=cell-output] >> nth=1")
    assert_clean(errors, requests)


def check_in_page(page, text):
    """Put `text` in the exercise editor (as a paste would), press Check, read the report."""
    page.click("[data-testid=exercise-editor] .cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    page.click("[data-testid=exercise-check]")
    page.wait_for_selector("[data-testid=exercise-check]:not([disabled])",
                           timeout=RUN_SECONDS * 1000)
    return page.inner_text("[data-testid=exercise-report]")


def cli_report(path):
    """What `micrograd-gpt exercise check` prints for the file at `path`."""
    return str(check(path))


def test_exercise_one_is_checked_by_the_tutor(browser, server, tmp_path):
    page, errors, requests = open_page(browser, server + "exercises.html")
    page.wait_for_selector("[data-testid=exercise-editor] .cm-content", timeout=RUN_SECONDS * 1000)
    first = EXERCISES[0]
    stub = first.stub.read_text(encoding="utf-8")
    report = check_in_page(page, stub)
    local = tmp_path / "exercises" / first.filename
    local.parent.mkdir()
    local.write_text(stub, encoding="utf-8")
    expected = cli_report(local)
    assert "[todo]" in report and report.strip().endswith("then check again.")
    assert report.replace(f"checking exercises/{first.filename}", "") == \
        expected.replace(f"checking {local}", "")
    solution = (ROOT / "exercise_solutions" / first.filename).read_text(encoding="utf-8")
    report = check_in_page(page, solution)
    assert "Well done!" in report and "[wrong]" not in report and "[todo]" not in report
    # the work is kept in the browser: after a reload the editor holds the solution
    page.reload()
    page.wait_for_selector("[data-testid=exercise-editor] .cm-content", timeout=RUN_SECONDS * 1000)
    assert "def " in page.inner_text("[data-testid=exercise-editor]")
    kept = page.evaluate("localStorage.getItem('micrograd-gpt/exercise/1')")
    assert kept == solution
    assert_clean(errors, requests)


def test_an_endless_loop_is_stopped_and_python_comes_back(browser, server):
    page, errors, requests = open_page(browser, server + "exercises.html?check-seconds=5")
    page.wait_for_selector("[data-testid=exercise-editor] .cm-content", timeout=RUN_SECONDS * 1000)
    report = check_in_page(page, "while True:\n    pass\n")
    assert report.startswith("Your code ran for more than 5 s and was stopped")
    stub = EXERCISES[0].stub.read_text(encoding="utf-8")
    assert "[todo]" in check_in_page(page, stub)   # a fresh Python checks the next one
    assert_clean(errors, requests)


def test_stop_ends_a_running_block_and_the_page_goes_on(browser, server):
    page, errors, requests = open_page(browser, server + "01_value.html")
    assert "ready" in run_scratch(page, "print('ready')")
    type_in_scratch(page, "import time\nprint('working', flush=True)\nwhile True: time.sleep(0.01)")
    page.click("[data-testid=scratch-run]")
    page.wait_for_function("() => document.querySelector('[data-testid=scratch-output]')"
                           ".textContent.includes('working')", timeout=RUN_SECONDS * 1000)
    page.click("[data-testid=stop]")
    page.wait_for_selector("[data-testid=scratch-output] [data-testid=error]", timeout=5000)
    assert "stopped: Python was restarted" in page.inner_text("[data-testid=scratch-output]")
    assert "4" in run_scratch(page, "print(2 + 2)")
    assert_clean(errors, requests)
