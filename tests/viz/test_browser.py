"""The HTML trace in a real headless browser: step through backward, read the gradients.

Needs the `playwright` Python package and a Chromium at /usr/bin/chromium (Debian's
`apt-get install chromium`; `.ci/run` installs both). Playwright's own browser download is
never used. Without them the tests skip and say why.
"""

import pytest

from helpers import headless_chromium
from micrograd_gpt.viz.expression import build_expression
from micrograd_gpt.viz.tracing import save_trace_html, trace
from micrograd_gpt.viz.graph import format_number, renderer_available

pytestmark = pytest.mark.slow  # a real browser: the slow tier


TEXT = "tanh(a*b + c) * a + relu(relu(b) - 1)"
VALUES = {"a": 2.0, "b": -3.0, "c": 1.0}


browser = pytest.fixture(scope="module")(headless_chromium)  # or a skip saying what is missing


@pytest.fixture(scope="module")
def page_file(tmp_path_factory):
    root, _ = build_expression(TEXT, VALUES)
    return save_trace_html(root, tmp_path_factory.mktemp("trace") / "trace.html")


@pytest.fixture
def page(browser, page_file):
    pg = browser.new_page(viewport={"width": 1300, "height": 800})
    errors, requests = [], []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(page_file.as_uri())
    yield pg
    assert errors == []
    assert [u for u in requests if not u.startswith("file:")] == []  # nothing from the network
    pg.close()


def running_grads(k):
    """The gradients after the first k backward steps, from the Python trace."""
    root, leaves = build_expression(TEXT, VALUES)
    t = trace(root)
    grads = {n.key: 0.0 for n in t.nodes}
    for s in t.backward[:k]:
        if s.kind == "seed":
            grads[s.key] = s.grad
        elif s.kind == "backward":
            grads[s.child_key] = s.child_grad_after
    names = {n.name: n.key for n in t.nodes}
    return {name: grads[names[name]] for name in VALUES}, t


def shown(page, name):
    return float(page.get_attribute(f"#var-{name} .grad", "data-value"))


def test_next_walks_to_backwards_gradients(page):
    _, t = running_grads(0)
    total = len(t.backward)
    assert page.inner_text("#step-counter") == f"step 0 / {total}"
    assert all(shown(page, n) == 0.0 for n in VALUES)
    for k in range(1, total + 1):
        page.click("#next")
        if k in (1, 5, total // 2, total - 1, total):
            expected, _ = running_grads(k)
            for name in VALUES:
                assert shown(page, name) == expected[name], (k, name)
    assert page.inner_text("#step-counter") == f"step {total} / {total}"
    assert page.is_disabled("#next")
    root, leaves = build_expression(TEXT, VALUES)
    root.backward()
    for name, leaf in leaves.items():
        assert shown(page, name) == leaf.grad  # exactly backward()'s number
        assert page.inner_text(f"#var-{name} .grad") == format_number(leaf.grad)


def test_arrow_keys_and_prev_undo_steps(page):
    _, t = running_grads(0)
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    after_7, _ = running_grads(7)
    assert all(shown(page, n) == after_7[n] for n in VALUES)
    page.keyboard.press("ArrowLeft")
    page.click("#prev")
    after_5, _ = running_grads(5)
    assert all(shown(page, n) == after_5[n] for n in VALUES)
    page.keyboard.press("End")
    assert page.inner_text("#step-counter") == f"step {len(t.backward)} / {len(t.backward)}"
    page.keyboard.press("Home")
    assert all(shown(page, n) == 0.0 for n in VALUES)


@pytest.mark.skipif(not renderer_available(), reason="drawing the graph needs Graphviz")
def test_the_step_is_highlighted_and_explained(page, tmp_path):
    _, t = running_grads(0)
    k = next(i for i, s in enumerate(t.backward) if s.kind == "backward" and s.child == "a")
    s = t.backward[k]
    for _ in range(k + 1):
        page.click("#next")
    classes = page.get_attribute(f"#node-{s.child_key}", "class")
    assert "hl-child" in classes
    assert "hl-edge" in page.get_attribute(f"#edge-{s.node_key}-{s.position}", "class")
    assert "hl-node" in page.get_attribute(f"#node-{s.node_key}", "class")
    explain = page.inner_text("#explain")
    assert f"grad(a) += local × grad({s.node})" in explain
    assert format_number(s.child_grad_after) in explain
    # the drawing's own "grad" line follows along
    assert f"grad {format_number(s.child_grad_after)}" in page.text_content(f"#node-{s.child_key}")
    page.screenshot(path=str(tmp_path / "trace.png"), full_page=True)
    assert (tmp_path / "trace.png").stat().st_size > 10_000


def test_skips_are_explained(page):
    _, t = running_grads(0)
    k = next(i for i, s in enumerate(t.backward) if s.kind == "skip")
    for _ in range(k + 1):
        page.keyboard.press("ArrowRight")
    assert "nothing to pass on" in page.inner_text("#explain")


def test_the_last_step_ends_with_a_summary_of_the_pass(page):
    grads, t = running_grads(len(running_grads(0)[1].backward))
    assert page.locator("#summary").count() == 0  # not before the end
    page.click("#end")
    summary = page.inner_text("#summary")
    updates = sum(s.kind == "backward" for s in t.backward)
    skips = sum(s.kind == "skip" for s in t.backward)
    assert summary.startswith(f"Backward is done: {updates} updates along edges ({skips} nodes")
    root = t.nodes[-1].name
    for name, grad in grads.items():
        assert f"∂{root}/∂{name} = {format_number(grad)}" in summary
    page.click("#prev")
    assert page.locator("#summary").count() == 0
