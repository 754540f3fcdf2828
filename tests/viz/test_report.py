"""The `micrograd-gpt inspect` page in a real headless browser: it loads with no console
error and nothing from the network, shows every heatmap, shows a cell's weight on hover and
on click, and shows a hostile text as text.

Needs the `playwright` package and Chromium at /usr/bin/chromium, as tests/viz/test_browser.py;
without them the tests skip and say why.
"""
import json

import pytest

from helpers import headless_chromium
from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.cli import main
from micrograd_gpt.viz.inspection import inspect_text
from micrograd_gpt.training.loop import train
from micrograd_gpt.training.settings import TrainConfig

pytestmark = pytest.mark.slow  # a real browser and a short training run


HOSTILE = "<img src=x onerror=alert(1)>"
# documents whose characters make the hostile text (and worse) possible to read
LINES = [HOSTILE, "</script><script>alert(2)</script>", "a\u2028b & {{DATA}} \"'", "emma"]


browser = pytest.fixture(scope="module")(headless_chromium)  # or a skip saying what is missing


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """Two pages from one short run (2 layers x 2 heads, health recorded): a hostile text
    and a plain one. Returns (folder, checkpoint)."""
    folder = tmp_path_factory.mktemp("page")
    data = folder / "lines.txt"
    data.write_text("\n".join(LINES * 3) + "\n", encoding="utf-8")
    checkpoint = folder / "run.json"
    config = TrainConfig.from_preset("tiny", data=str(data), steps=3, eval_interval=2,
                                     eval_docs=5, batch_size=2, record_health=True,
                                     model={"d_model": 8, "num_heads": 2, "num_layers": 2,
                                            "max_seq_len": 40})
    train(config, out=checkpoint, quiet=True)
    for name, text in (("hostile", HOSTILE), ("plain", "emma")):
        assert main(["inspect", "--checkpoint", str(checkpoint), text, "-o",
                     str(folder / f"{name}.html")]) == 0
    return folder, checkpoint


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    problems, requests = [], []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


@pytest.mark.parametrize("name", ["plain", "hostile"])
def test_the_page_loads_cleanly_with_every_heatmap(browser, pages, name):
    folder, checkpoint = pages
    page, problems, requests = open_page(browser, folder / f"{name}.html")
    saved = load_checkpoint(checkpoint)
    config = saved.model.config
    maps = page.locator("#attention .attention-map")
    assert maps.count() == config.num_layers * config.num_heads == 4
    text = "emma" if name == "plain" else HOSTILE
    size = len(text) + 1  # BOS and the characters
    assert page.locator("#attention .cell").count() == 4 * size * (size + 1) // 2
    for layer in range(2):
        for head in range(2):
            assert maps.nth(2 * layer + head).get_attribute("data-layer") == str(layer)
    assert page.locator("table.predictions tbody tr").count() == size
    assert page.locator("#loss svg").count() == 1
    assert page.locator("#health .chart > svg").count() == 4         # the four health charts
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert problems == []
    assert [u for u in requests if not u.startswith("file:")] == []   # nothing from the network
    page.close()


def test_pointing_at_or_clicking_a_cell_shows_its_weight(browser, pages):
    folder, checkpoint = pages
    page, problems, _ = open_page(browser, folder / "plain.html")
    saved = load_checkpoint(checkpoint)
    attention = inspect_text(saved.model, saved.tokenizer, "emma").attention
    cell = page.locator('#attention .cell[data-layer="1"][data-head="0"][data-row="3"]'
                        '[data-col="1"]')
    cell.hover()
    info = page.locator("#cell-info")
    weight = attention[1][0][3][1]
    assert info.get_attribute("data-weight") == repr(weight)        # the exact number
    assert f"m (position 3) looks at e (position 1) with weight {weight:.3f}" in \
        info.inner_text()
    other = page.locator('#attention .cell[data-layer="0"][data-head="1"][data-row="4"]'
                         '[data-col="4"]')
    other.click()
    assert f"with weight {attention[0][1][4][4]:.3f}" in info.inner_text()
    assert "picked" in other.get_attribute("class")
    page.mouse.move(5, 5)                                           # away from the maps:
    assert f"with weight {attention[0][1][4][4]:.3f}" in info.inner_text()  # the pick stays
    assert problems == []
    page.close()


def test_a_hostile_text_shows_as_text(browser, pages):
    folder, _ = pages
    page, problems, _ = open_page(browser, folder / "hostile.html")
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.querySelectorAll('script').length") == 2  # data + ours
    assert HOSTILE in page.locator("h1").inner_text()
    assert HOSTILE in page.title()
    assert page.locator("table.predictions td.context").last.inner_text() == HOSTILE
    data = json.loads(page.locator("#inspection-data").text_content())
    assert data["text"] == HOSTILE and data["labels"][1] == "<"
    cell = page.locator('#attention .cell[data-row="1"][data-col="0"]').first
    cell.hover()
    assert "< (position 1) looks at BOS (position 0)" in page.locator("#cell-info").inner_text()
    assert problems == []
    page.close()


def test_the_page_json_is_safe_for_any_text(pages):
    folder, checkpoint = pages
    saved = load_checkpoint(checkpoint)
    text = "</script><script>alert(2)</script>"[:saved.model.max_context - 1]
    result = inspect_text(saved.model, saved.tokenizer, text)
    from micrograd_gpt.viz.report import inspection_page, script_json
    page = inspection_page(result, title="a\u2028b {{DATA}}")
    body = page.split('id="inspection-data">', 1)[1].split("</script>", 1)[0]
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in body
    assert json.loads(body) == json.loads(json.dumps(result.to_dict()))
    assert script_json({"x": "\u2028</script>"}) == '{"x": "\\u2028\\u003c/script\\u003e"}'
    assert page.count('id="inspection-data"') == 1       # "{{DATA}}" in the title stayed text
    assert "a\u2028b {{DATA}}" in page.split("<title>", 1)[1]


def test_at_390_px_nothing_scrolls_sideways(browser, pages):
    """A phone: every section fits the screen (the pictures shrink, the prediction table
    puts the guesses under the numbers, which say what they are)."""
    folder, _ = pages
    page = browser.new_page(viewport={"width": 390, "height": 800})
    page.goto((folder / "plain.html").as_uri())
    page.wait_for_load_state("load")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sections = page.evaluate("""() => Array.from(document.querySelectorAll('section')).map(
        s => [s.id, s.scrollWidth, s.clientWidth])""")
    assert len(sections) == 4
    for name, scrolled, width in sections:
        assert scrolled <= width, name
    widths = page.evaluate("""() => Array.from(document.querySelectorAll('section svg'))
        .filter(s => !s.parentElement.closest('svg'))
        .map(s => [s.getBoundingClientRect().width, s.closest('section').clientWidth])""")
    assert widths and all(svg <= section for svg, section in widths)
    first = page.locator("table.predictions tbody tr").first
    assert first.locator("td.p").evaluate("e => getComputedStyle(e, '::before').content") == '"p "'
    guesses, numbers = (first.locator(f"td.{c}").bounding_box() for c in ("guesses", "p"))
    assert guesses["y"] > numbers["y"]  # the guesses on a line of their own
    page.close()


def test_the_health_section_explains_a_last_step_drop():
    from micrograd_gpt.viz.report import _last_step_note
    records = [{"step": 1, "lr": 0.001}, {"step": 100, "lr": 0.0084},
               {"step": 500, "lr": 2.1e-05}]
    note = _last_step_note(records)
    assert note.startswith("The update / data ratio falls at step 500: the learning rate "
                           "there is 2.1e-05, against 0.0084 at step 100")
    assert _last_step_note(records[:2]) is None  # no drop, nothing to explain
