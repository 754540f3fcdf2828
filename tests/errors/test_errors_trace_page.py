"""The trace page with hostile labels: the template is filled in one pass, every piece is
escaped for where it goes (HTML text, attribute, JSON inside <script>), and in a real
browser no label runs a script while the page still steps through backward."""
import json
import re
from pathlib import Path

import pytest

from helpers import headless_chromium
from micrograd_gpt import functional as F
from micrograd_gpt.autograd.value import Value
from micrograd_gpt.viz.tracing import fill_template, save_trace_html, script_json, trace, trace_html

HOSTILE = [
    "{{DATA}}", "{{SVG}}", "{{TITLE}}", "{{NOPE}}",
    "<img src=x onerror=window.__pwned=1>",
    "<!--<script>",
    "</script><script>window.__pwned=2</script>",
    "<svg onload=window.__pwned=3>",
    '"><img src=x onerror=window.__pwned=4>',
    "' onmouseover='window.__pwned=5",
    "&lt;b&gt;", "]]><script>window.__pwned=6</script>", "<![CDATA[",
    "a\u2028b\u2029c", "</SCRIPT >", "<scr<script>ipt>", "\\u003cscript\\u003e",
]


def hostile_graph(labels=HOSTILE, op="<img src=x onerror=window.__pwned=7>"):
    """A small graph whose inputs carry `labels` and whose output node has a hostile op
    name: out = op(Σ_i x_i * (i + 1))."""
    leaves = [Value(float(i + 1), label=label) for i, label in enumerate(labels)]
    with F.fused_ops(False):
        total = F.sum_values([x * float(i + 1) for i, x in enumerate(leaves)])
    out = Value(total.data * 2.0, (total,), (2.0,), op)
    return out, leaves


def page_data(page):
    found = re.findall(r'<script id="trace-data" type="application/json">(.*?)</script>',
                       page, re.S)
    assert len(found) == 1
    return json.loads(found[0])


# ---- the page as text -------------------------------------------------------------------------

def test_fill_template_is_one_pass():
    template = "<t>{{TITLE}}</t><s>{{SVG}}</s><d>{{DATA}}</d>"
    filled = fill_template(template, {"TITLE": "{{DATA}}", "SVG": "{{TITLE}}{{SVG}}",
                                      "DATA": "{{SVG}}"})
    assert filled == "<t>{{DATA}}</t><s>{{TITLE}}{{SVG}}</s><d>{{SVG}}</d>"
    with pytest.raises(ValueError, match="no value for DATA"):
        fill_template(template, {"TITLE": "", "SVG": ""})


@pytest.mark.parametrize("text", HOSTILE + ["", "plain", "é ☃ 🚀", "&amp;", "\x00\x1f"])
def test_script_json_round_trips_and_cannot_break_out(text):
    data = {"name": text, "list": [text, 1.5, None, True], text: 2}
    encoded = script_json(data)
    assert json.loads(encoded) == data
    for forbidden in ("<", ">", "&", "\u2028", "\u2029"):
        assert forbidden not in encoded
    assert encoded.isascii()


def test_script_json_writes_non_finite_numbers_as_text():
    encoded = script_json({"grads": [float("inf"), float("-inf"), float("nan"), 1.0]})
    assert json.loads(encoded) == {"grads": ["inf", "-inf", "nan", 1.0]}


@pytest.mark.slow
@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_labels_and_titles_stay_text(title):
    out, leaves = hostile_graph()
    page = trace_html(out, title=title)
    # exactly the page's own two scripts, no element made by a label
    assert len(re.findall(r"<script\b", page, re.I)) == 2
    assert not re.search(r"<img\b|<svg onload|<!\[CDATA\[|<!--<script", page, re.I)
    assert page.count('"root": ') == 1          # the data is in the page once, not spliced
    data = page_data(page)
    names = [n["name"] for n in data["nodes"]]
    for leaf in leaves:
        assert leaf.label in names                         # the labels survive exactly
    assert data["nodes"][-1]["op"] == out._op
    head = page.split("</head>")[0]
    assert f"<title>{html_escape(title)}</title>" in head


def html_escape(text):
    import html
    return html.escape(text, quote=True)


def test_names_given_by_the_caller_are_escaped_too():
    x = Value(2.0)
    y = x * 3.0
    page = trace_html(y, names={x: "<img src=x onerror=window.__pwned=8>"})
    assert "<img" not in page
    assert "<img src=x onerror=window.__pwned=8>" in [n["name"] for n in page_data(page)["nodes"]]


def test_the_data_is_the_trace():
    out, _ = hostile_graph()
    data = page_data(trace_html(out))
    t = trace(out)
    assert [s["kind"] for s in data["steps"]] == [s.kind for s in t.backward]
    assert data["steps"][-1]["child_grad_after"] == t.backward[-1].child_grad_after


# ---- in a real browser ------------------------------------------------------------------------

browser = pytest.fixture(scope="module")(headless_chromium)  # or a skip saying what is missing


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    problems = []
    page.on("pageerror", lambda e: problems.append(f"error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: problems.append(f"request: {r.url}")
            if not r.url.startswith("file:") else None)
    page.goto(Path(path).as_uri())
    page.wait_for_load_state("load")
    return page, problems


@pytest.mark.slow
@pytest.mark.parametrize("title", ["{{DATA}} <img src=x onerror=window.__pwned=9>",
                                   "</title><script>window.__pwned=10</script>"])
def test_no_label_runs_a_script_and_the_page_still_works(browser, tmp_path, title):
    out, leaves = hostile_graph()
    path = save_trace_html(out, tmp_path / "hostile.html", title=title)
    page, problems = open_page(browser, path)
    t = trace(out)
    total = len(t.backward)
    assert page.inner_text("#step-counter") == f"step 0 / {total}"
    assert page.evaluate("document.title") == title
    assert page.inner_text("h1") == title
    # every label is shown as text in the table of running gradients
    cells = page.eval_on_selector_all("#grads tbody tr td:first-child",
                                      "cells => cells.map(c => c.textContent)")
    for leaf in leaves:
        assert leaf.label in cells
    # step all the way through: the explanations name the hostile nodes as text
    seen = []
    for _ in range(total):
        page.click("#next")
        seen.append(page.text_content("#explain"))
    assert page.inner_text("#step-counter") == f"step {total} / {total}"
    assert any(HOSTILE[1] in text for text in seen)
    assert any("<!--<script>" in text for text in seen)
    out.backward()
    for leaf in leaves:
        key = next(n.key for n in t.nodes if n.name == leaf.label)
        shown = page.get_attribute(f"#grad-{key}", "data-value")
        assert float(shown) == leaf.grad
    page.mouse.move(300, 300)          # hover over the drawing: no on* handler may fire
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert page.evaluate("document.scripts.length") == 2
    assert problems == []
    page.close()


# ---- the drawing shows hostile names exactly, as text ---------------------------------------

def svg_texts(svg):
    import xml.dom.minidom
    doc = xml.dom.minidom.parseString(svg)
    return ["".join(n.data for n in t.childNodes if n.nodeType == n.TEXT_NODE)
            for t in doc.getElementsByTagName("text")]


@pytest.mark.slow
@pytest.mark.parametrize("op", ["<img src=x onerror=window.__pwned=7>", "<b>bold</b>",
                                "&lt;i&gt;", "a\\Nb", "{x|y}"])
def test_the_graph_draws_any_label_and_op_as_plain_text(op):
    from micrograd_gpt.viz.graph import draw_dot, draw_modules, module_summary, pipe_graph
    from micrograd_gpt.viz.graph import renderer_available
    if not renderer_available():
        pytest.skip("drawing needs Graphviz's dot or graphviz-pure")
    labels = ["<img src=x onerror=1>", "&amp;", "back\\slash", "{brace}", 'quote"d', "|pipe|"]
    out, _ = hostile_graph(labels, op=op)
    texts = svg_texts(pipe_graph(draw_dot(out, title=op)).decode("utf-8"))
    for label in labels:
        assert label in texts
    assert op in texts and texts.count(op) >= 2      # the op's oval and the title
    boxes = svg_texts(pipe_graph(draw_modules(module_summary(out), title=op)).decode("utf-8"))
    assert op in boxes
