"""The step-by-step trace: it must end with exactly backward()'s gradients."""
import json
import math
import re

import pytest

from micrograd_gpt import Value, functional as F
from micrograd_gpt.cli import main as cli_main
from micrograd_gpt.autograd.value import topological_order
from micrograd_gpt.viz.expression import build_expression
from micrograd_gpt.viz.tracing import format_trace, trace, trace_html

EXPRESSIONS = [
    ("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10}),
    ("a*a + a/b - b**2 + exp(c) * sigmoid(a)", {"a": 0.5, "b": -1.5, "c": 0.3}),
    ("relu(relu(b) - 1) + gelu(a) * sqrt(abs(c))", {"a": 0.4, "b": -2, "c": -3}),
    ("log(a*a + 1) ** 3 / (2 + tanh(b*c))", {"a": 1.2, "b": 0.7, "c": -0.4}),
]


def backward_grads(text, values):
    """What backward() gives, on a graph built afresh (so nothing is shared with the trace)."""
    root, leaves = build_expression(text, values)
    root.backward()
    return {name: v.grad for name, v in leaves.items()}


@pytest.mark.parametrize("text, values", EXPRESSIONS)
def test_final_gradients_equal_backward(text, values):
    root, leaves = build_expression(text, values)
    t = trace(root)
    expected = backward_grads(text, values)
    for name in leaves:
        assert t.grad(name) == expected[name]  # exactly: the same float operations


@pytest.mark.parametrize("text, values", EXPRESSIONS)
def test_final_gradients_match_finite_differences(text, values):
    root, leaves = build_expression(text, values)
    t = trace(root)
    h = 1e-6
    for name in leaves:
        up = build_expression(text, {**values, name: values[name] + h})[0].data
        down = build_expression(text, {**values, name: values[name] - h})[0].data
        assert t.grad(name) == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-7)


def test_every_node_matches_backward_even_after_earlier_backward_calls():
    root, leaves = build_expression(*EXPRESSIONS[1])
    order = topological_order(root)
    root.backward()
    root.backward()  # leaves now hold twice the gradient; the trace replays a fresh graph
    t = trace(root)
    fresh_root, fresh_leaves = build_expression(*EXPRESSIONS[1])
    fresh_root.backward()
    fresh_order = topological_order(fresh_root)
    assert [t.grads[f"v{i}"] for i in range(len(order))] == [v.grad for v in fresh_order]


def test_trace_does_not_touch_the_values():
    root, leaves = build_expression(*EXPRESSIONS[0])
    before = [(v.data, v.grad) for v in topological_order(root)]
    trace(root)
    assert [(v.data, v.grad) for v in topological_order(root)] == before


def test_fused_n_ary_nodes_are_traced_like_the_rest(torch):
    rng = [0.3, -1.2, 0.8, 0.1, -0.5, 0.9]
    w = [Value(x, label=f"w{i}") for i, x in enumerate(rng)]
    x = [1.0, 2.0, -1.0]
    logits = [F.dot(w[0:3], x), F.dot(w[3:6], x), F.sum_values(w).tanh()]
    loss = F.cross_entropy(logits, 1)
    t = trace(loss)
    tw = torch.tensor(rng, dtype=torch.float64, requires_grad=True)
    tx = torch.tensor(x, dtype=torch.float64)
    tl = torch.stack([tw[0:3] @ tx, tw[3:6] @ tx, tw.sum().tanh()])
    torch.nn.functional.cross_entropy(tl[None], torch.tensor([1])).backward()
    for i in range(6):
        assert t.grad(f"w{i}") == pytest.approx(tw.grad[i].item(), rel=1e-12, abs=1e-14)


def test_steps_are_consistent():
    root, leaves = build_expression(*EXPRESSIONS[2])
    order = topological_order(root)
    t = trace(root)
    assert len(t.forward) == len(order)
    assert [s.value for s in t.forward] == [v.data for v in order]
    seed, *rest = t.backward
    assert seed.kind == "seed" and seed.grad == 1.0 and seed.key == t.root_key
    running = {n.key: 0.0 for n in t.nodes}
    running[t.root_key] = 1.0
    for s in rest:
        if s.kind == "skip":
            assert running[s.key] == 0.0
            continue
        assert s.node_grad == running[s.node_key]
        assert s.child_grad_before == running[s.child_key]
        assert s.contribution == s.local * s.node_grad
        assert s.child_grad_after == s.child_grad_before + s.contribution
        running[s.child_key] = s.child_grad_after
    assert running == t.grads
    assert [s.index for s in t.backward] == list(range(len(t.backward)))
    assert len(t) == len(t.forward) + len(t.backward) == len(list(t))


def test_a_node_with_zero_gradient_is_skipped_like_backward_does():
    root, leaves = build_expression("relu(relu(b) - 1) + a", {"a": 1, "b": -2})
    t = trace(root)
    skipped = [s for s in t.backward if s.kind == "skip"]
    assert [s.node for s in skipped] == ["n2", "n1"]  # relu(b) - 1, then relu(b)
    assert t.grad("b") == 0.0 and t.grad("a") == 1.0


def test_formulas_and_names():
    root, _ = build_expression("-(a * b) + a ** 2 + exp(c) - 3", {"a": 1, "b": 2, "c": 0})
    formulas = [s.formula for s in trace(root).forward]
    assert "a = input" in formulas and "n1 = a * b" in formulas and "n2 = -n1" in formulas
    assert "n3 = a ** 2" in formulas and "n5 = exp(c)" in formulas and "3 = constant" in formulas
    with pytest.raises(ValueError, match="no node named 'zz'"):
        trace(root).grad("zz")


def test_format_trace_prints_the_arithmetic():
    root, leaves = build_expression("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})
    t = trace(root)
    text = format_trace(t)
    assert "grad(child) += local × grad(node)" in text
    assert "grad(n3) = 1" in text
    last = [line for line in text.splitlines() if re.match(r"\s+6\s+n1\s+b\s", line)]
    assert len(last) == 1 and f"{t.grad('b'):.6g}" in last[0]
    final = text.split("Gradients at the end")[1]
    for name in "abc":
        assert re.search(rf"^{name}\s+\S+\s+{re.escape(f'{t.grad(name):.6g}')}$", final, re.M)
    # the columns line up: every row of the backward table puts the child in one column
    table = text.split("Backward pass")[1].split("\n\n")[0].splitlines()[1:]
    rule = table[1]
    assert all(len(row) <= len(rule) + 40 for row in table)


def test_format_trace_can_shorten_long_tables():
    xs = [Value(float(i), label=f"x{i}") for i in range(30)]
    with F.fused_ops(False):
        total = F.sum_values(xs)
    text = format_trace(trace(total), max_rows=10)
    assert "more rows" in text and len(text.splitlines()) < 60


def test_html_page_is_self_contained_and_carries_the_steps():
    root, leaves = build_expression("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})
    page = trace_html(root)
    t = trace(root)
    assert "<svg" in page and 'id="graph"' in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched
    assert "<link" not in page and "@import" not in page
    data = json.loads(re.search(r'<script id="trace-data" type="application/json">(.*?)</script>',
                                page, re.S).group(1))
    assert len(data["steps"]) == len(t.backward)
    assert data["steps"][-1]["child_grad_after"] == t.grads[data["steps"][-1]["child_key"]]


def test_html_page_refuses_big_graphs():
    xs = [Value(float(i)) for i in range(30)]
    with F.fused_ops(False):
        total = F.sum_values(xs)
    with pytest.raises(ValueError, match="max_nodes=20"):
        trace_html(total, max_nodes=20)


def test_html_page_escapes_labels():
    x = Value(1.0, label="</script><b>x")
    page = trace_html(x * 2)
    assert "</script><b>x" not in page


def test_cli_trace_prints_and_writes_html(tmp_path, capsys):
    out = tmp_path / "trace.html"
    assert cli_main(["trace", "tanh(a*b + c)", "--values", "a=2,b=-3,c=10",
                     "--html", str(out)]) == 0
    said = capsys.readouterr().out
    expected = backward_grads("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})
    assert f"{expected['a']:.6g}" in said
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_cli_trace_errors(capsys):
    assert cli_main(["trace", "a*b", "--values", "a=1,b=x"]) == 2
    assert "'x' (for b) is not a number" in capsys.readouterr().err
    assert cli_main(["trace", "os.system('ls')"]) == 2
    assert "not allowed" in capsys.readouterr().err


def test_trace_refuses_non_values():
    with pytest.raises(ValueError, match="root: must be a Value"):
        trace(3.0)
    assert math.isfinite(trace(Value(2.0)).grads["v0"])
