"""The playground page in headless Chromium, served on 127.0.0.1: the expression explorer,
training in the tab, checkpoints both ways with the command line, the inspect view, the
step picture, and hostile text in every input.

One page serves the whole file (Python starts once); every test leaves it usable for the
next, and the last one checks that nothing left 127.0.0.1 and no console error was shown."""
import json
import random
import time

import pytest

from helpers import headless_chromium, run_main
from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.training.sampling import sample
from micrograd_gpt.viz.expression import build_expression, parse_values
from micrograd_gpt.viz.graph import format_number
from served_site import assert_clean, open_page

pytestmark = pytest.mark.slow  # a build and a browser: the slow tier

browser = pytest.fixture(scope="module")(headless_chromium)
WAIT_MS = 240_000   # Python's start, or a step on a busy 2-core machine
HOSTILE = "<img src=x onerror=window.hacked=1></script><b>x</b>"


@pytest.fixture(scope="module")
def playground(browser, server):
    page, errors, requests = open_page(browser, server + "playground.html")
    page.wait_for_selector("#playground-app[data-ready=true]", timeout=WAIT_MS)
    page.evaluate("window.hacked = 0")
    yield page, errors, requests
    page.close()


def explore(page, text, values):
    page.fill("[data-testid=expr-input]", text)
    page.fill("[data-testid=expr-values]", values)
    page.evaluate("delete document.querySelector('#expression').dataset.state")
    page.click("[data-testid=expr-run]")
    page.wait_for_selector("#expression[data-state]", timeout=WAIT_MS)
    return page.get_attribute("#expression", "data-state")


def test_the_explorer_draws_the_graph_and_steps_to_backwards_gradients(playground):
    page = playground[0]
    assert explore(page, "tanh(a*b + c)", "a=2,b=-3,c=10") == "drawn"
    nodes = page.query_selector_all("[data-testid=expr-graph] svg g.node")
    ovals = [n for n in nodes if n.query_selector("ellipse")]
    assert (len(nodes) - len(ovals), len(ovals)) == (6, 3)  # as draw_dot draws them
    stepper = page.frame_locator("[data-testid=expr-stepper]")
    stepper.locator("#end").click()
    root, leaves = build_expression("tanh(a*b + c)", parse_values("a=2,b=-3,c=10"))
    root.backward()
    for name, leaf in leaves.items():
        shown = stepper.locator(f"#var-{name} .grad")
        assert float(shown.get_attribute("data-value")) == leaf.grad
        assert shown.inner_text() == format_number(leaf.grad)
    stepper.locator("#start").click()
    assert stepper.locator("#step-counter").inner_text().startswith("step 0 /")
    page.hover("#expression h2")  # the mouse leaves the frame, as a real one does: a click
    #                               made without moving there first is lost in the frame


def test_a_bad_expression_shows_the_parsers_one_line_error(playground):
    page = playground[0]
    with pytest.raises(ValueError) as expected:
        build_expression("tanh(a*b + ", parse_values("a=2,b=1"))
    assert explore(page, "tanh(a*b + ", "a=2,b=1") == "error"
    assert page.inner_text("[data-testid=expr-error]") == f"ValueError: {expected.value}"
    assert explore(page, "a*b", "a=2,b=3") == "drawn"   # the page lives on
    assert page.inner_text("[data-testid=expr-error]") == ""


def cli_checkpoint(tmp_path, engine="values"):
    path = tmp_path / f"cli_{engine}.json"
    code, out, err = run_main(["train", "--preset", "microgpt", "--steps", "3", "--quiet",
                               "--eval-docs", "10", "--engine", engine, "--out", str(path)])
    assert code == 0, err
    return path


@pytest.mark.parametrize("engine", ["values", "torch"])
def test_a_checkpoint_from_the_command_line_loads_into_the_page(playground, tmp_path, engine):
    if engine == "torch":
        pytest.importorskip("torch", reason="a torch-engine checkpoint needs torch")
    page = playground[0]
    path = cli_checkpoint(tmp_path, engine)
    page.set_input_files("[data-testid=checkpoint-upload]", str(path))
    page.wait_for_selector(f"#train[data-loaded='{path.name}']", timeout=WAIT_MS)
    saved = load_checkpoint(path)
    expected = sample(saved.model, saved.tokenizer, 8, rng=random.Random(saved.step))
    shown = page.eval_on_selector_all("[data-testid=train-samples] li",
                                      "items => items.map(i => i.textContent)")
    assert shown == expected   # the page samples the very model the file holds


def test_the_inspect_view_shows_every_heads_map(playground, tmp_path):
    page = playground[0]
    page.set_input_files("[data-testid=checkpoint-upload]", str(cli_checkpoint(tmp_path)))
    page.wait_for_selector("#train[data-loaded='cli_values.json']", timeout=WAIT_MS)
    page.fill("[data-testid=inspect-input]", "emma")
    page.click("[data-testid=inspect-run]")
    page.wait_for_selector("[data-testid=next-token] .mg-bar", timeout=WAIT_MS)
    assert page.get_attribute("#inspect", "data-heads") == "4"   # microgpt: 1 layer, 4 heads
    inside = page.frame_locator("[data-testid=inspect-page]")
    for head in range(4):
        assert inside.get_by_text(f"layer 0, head {head}", exact=True).count() == 1
    assert inside.get_by_text("layer 0, head 4", exact=True).count() == 0
    bars = page.eval_on_selector_all("[data-testid=next-token] small",
                                     "items => items.map(i => Number(i.textContent))")
    page.eval_on_selector("[data-testid=sample-top-k]", "k => { k.value = '2';"
                          " k.dispatchEvent(new Event('input')); }")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=next-token] .mg-bar')"
                           ".length <= 3", timeout=WAIT_MS)
    assert len(bars) > 3   # every token had a bar; top-k 2 leaves two (three with a tie)


def test_training_lowers_the_loss_and_stop_answers_at_once(playground):
    page = playground[0]
    page.select_option("[data-testid=train-preset]", "microgpt")
    page.select_option("[data-testid=train-data]", "names")
    page.click("[data-testid=train-start]")
    page.wait_for_function("() => /^\\d/.test(document.querySelector("
                           "'[data-testid=train-loss]').textContent)", timeout=WAIT_MS)
    first = float(page.inner_text("[data-testid=train-loss]"))
    page.click("[data-testid=train-pause]")
    page.wait_for_selector("#train[data-state=paused]", timeout=1000)
    time.sleep(1.0)   # the slice in flight ends
    paused_at = page.inner_text("[data-testid=train-step]")
    time.sleep(1.5)
    assert page.inner_text("[data-testid=train-step]") == paused_at   # paused: no step
    page.click("[data-testid=train-pause]")   # Resume
    page.wait_for_function(f"() => document.querySelector('[data-testid=train-step]')"
                           f".textContent !== {paused_at!r}", timeout=WAIT_MS)
    time.sleep(30)
    last = float(page.inner_text("[data-testid=train-loss]"))
    assert first - last > 0.3, (first, last)
    clicked = time.perf_counter()
    page.click("[data-testid=train-stop]")
    page.wait_for_selector("#train[data-state=stopped], #train[data-state=finished]",
                           timeout=1000)
    assert time.perf_counter() - clicked < 1.0
    step = page.inner_text("[data-testid=train-step]")
    page.wait_for_selector("#train[data-state=finished]", timeout=WAIT_MS)
    assert page.inner_text("[data-testid=train-step]") == step   # no step after Stop


def test_the_downloaded_checkpoint_loads_with_the_command_line(playground, tmp_path):
    page = playground[0]
    with page.expect_download() as download:
        page.click("[data-testid=checkpoint-download]")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.suffix == ".json" and json.loads(path.read_text())["step"] >= 1
    code, out, err = run_main(["sample", "--checkpoint", str(path), "--num", "3"])
    assert code == 0, err
    assert len(out.strip().splitlines()) >= 3


def test_one_step_is_drawn_one_box_per_module(playground):
    page = playground[0]
    page.click("[data-testid=step-graph-run]")
    page.wait_for_selector("[data-testid=step-graph] svg g.node", timeout=WAIT_MS)
    text = page.inner_text("[data-testid=step-graph]")
    assert "blocks.0" in text or "attn" in text


def test_hostile_text_in_every_input_shows_as_text(playground):
    page, errors, requests = playground
    assert explore(page, HOSTILE, "a=1") == "error"
    assert HOSTILE in page.inner_text("[data-testid=expr-error]")
    assert explore(page, "a", HOSTILE) == "error"
    page.fill("[data-testid=inspect-input]", HOSTILE)
    page.click("[data-testid=inspect-run]")
    page.wait_for_function("() => document.querySelector('[data-testid=inspect-error]')"
                           ".textContent.length > 0", timeout=WAIT_MS)
    page.select_option("[data-testid=train-data]", "pasted")
    page.fill("[data-testid=train-text]", (HOSTILE + "\n") * 30)
    page.select_option("[data-testid=train-preset]", "bigram")
    page.click("[data-testid=train-start]")
    page.wait_for_selector("#train[data-state=finished]", timeout=WAIT_MS)
    page.fill("[data-testid=inspect-input]", "<img")
    page.click("[data-testid=inspect-run]")
    page.wait_for_selector("[data-testid=sample-output] li", timeout=WAIT_MS)
    assert page.query_selector("#playground-app img") is None
    assert page.query_selector("#playground-app b") is None
    assert page.evaluate("window.hacked") == 0
    assert_clean(errors, requests)
