"""Graph drawing: the DOT text (no Graphviz needed), real rendering, and life without `dot`."""
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import graphviz
import pytest

from micrograd_gpt import Value, functional as F
from micrograd_gpt.viz import graph as viz
from micrograd_gpt.cli import main as cli_main
from micrograd_gpt.autograd.modes import module_scope
from micrograd_gpt.autograd.value import topological_order
from micrograd_gpt.viz.expression import build_expression
from micrograd_gpt.viz.training_step import training_step_graph
from micrograd_gpt.viz.graph import (GraphvizNotInstalled, draw_dot, draw_modules, format_number,
                               module_summary, render_graph)

HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's `dot` is not installed")
REPO = Path(__file__).resolve().parents[2]


def records(dot):
    return [line for line in dot.body if "shape=record" in line]


def ops(dot):
    return [line for line in dot.body if "shape=ellipse" in line]


def edges(dot):
    return [line for line in dot.body if "->" in line]


def neuron():
    root, leaves = build_expression("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})
    root.backward()
    return root, leaves


# ---- the DOT text ----------------------------------------------------------------------
def test_one_record_per_value_one_op_node_per_operation():
    root, leaves = neuron()
    dot = draw_dot(root)
    order = topological_order(root)
    interior = [v for v in order if v._prev]
    assert isinstance(dot, graphviz.Digraph)
    assert len(records(dot)) == len(order) == 6
    assert len(ops(dot)) == len(interior) == 3
    # one edge from each op to its result, one from each input into the op
    assert len(edges(dot)) == len(interior) + sum(len(v._prev) for v in interior) == 8
    assert "rankdir=LR" in dot.source


def test_records_show_label_data_and_grad():
    root, leaves = neuron()
    source = draw_dot(root).source
    for name, v in leaves.items():
        line = next(r for r in source.splitlines() if f"{{ {name} |" in r or f'"{name} |' in r)
        assert f"data {format_number(v.data)}" in line
        assert f"grad {format_number(v.grad)}" in line
    assert f"grad {format_number(1.0)}" in source  # the output's own gradient


def test_edge_labels_are_the_local_derivatives():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = a * b
    plain = draw_dot(out)
    labelled = draw_dot(out, edge_labels=True)
    assert not any("label=" in e for e in edges(plain))
    labels = sorted(re.search(r"label=(\S+)", e).group(1) for e in edges(labelled)
                    if "label=" in e)
    assert labels == sorted([f"{b.data:.4g}", f"{a.data:.4g}"])  # d(ab)/da = b, d(ab)/db = a


def test_a_value_used_twice_has_two_edges():
    a = Value(3.0, label="a")
    dot = draw_dot(a * a)
    into_op = [e for e in edges(dot) if re.match(r"\s*v0 -> v1_op", e)]
    assert len(into_op) == 2
    assert {re.search(r'id="([^"]+)"', e).group(1) for e in into_op} == {"edge-v1-0", "edge-v1-1"}


def test_rankdir_and_escaping():
    x = Value(1.0, label='we{ir}d|<name>"')
    dot = draw_dot(x * 2, rankdir="TB")
    assert "rankdir=TB" in dot.source
    assert r'we\{ir\}d\|\<name\>\"' in dot.source
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(x, rankdir="sideways")


def test_group_by_module_draws_nested_frames():
    with module_scope("block"):
        x = Value(1.0, label="x") * 2
        with module_scope("block.attn"):
            y = x.exp()
    out = y + 1  # outside any module
    dot = draw_dot(out, group="module")
    source = dot.source
    assert source.count("subgraph cluster_") == 2

    def depth_at(text):  # how many { are open where `text` appears
        before = source[:source.index(text)]
        return before.count("{") - before.count("}")
    assert depth_at("label=block ") == 2          # digraph { cluster {
    assert depth_at('label="block.attn"') == 3    # ... inside the block's frame
    assert depth_at('"n3 |') == 1                 # the output: outside every frame
    assert len(records(dot)) == len(topological_order(out))


def test_max_nodes_guard_says_what_to_do():
    xs = [Value(float(i)) for i in range(40)]
    with F.fused_ops(False):
        total = F.sum_values(xs)  # a chain: 40 leaves + 39 sums
    with pytest.raises(ValueError) as info:
        draw_dot(total, max_nodes=50)
    assert "collapse=True" in str(info.value) and "max_nodes=" in str(info.value)
    assert len(records(draw_dot(total, max_nodes=None))) == 79


# ---- collapsed: one box per module -----------------------------------------------------
def scoped_graph():
    """Two 'layers' with parameters made outside any module, then a loss outside."""
    w1 = [Value(0.1 * i, label=f"w1_{i}") for i in range(3)]
    w2 = [Value(-0.2 * i, label=f"w2_{i}") for i in range(3)]
    x = [Value(1.0 + i) for i in range(3)]
    with module_scope("layer1"):
        h = [(wi * xi).tanh() for wi, xi in zip(w1, x)]
    with module_scope("layer2"):
        y = F.dot(w2, h)
    loss = (y - 1.0) ** 2
    return loss


def test_module_summary_counts_every_node_and_cross_edge():
    loss = scoped_graph()
    order = topological_order(loss)
    summary = module_summary(loss)
    assert summary.nodes == len(order)
    assert sum(sum(c.values()) for c in summary.ops.values()) == len(order)
    # parameters belong to the one module that uses them
    # (the inputs x too: leaves used only by layer1)
    assert summary.ops["layer1"]["leaf"] == 6 and summary.ops["layer2"]["leaf"] == 3
    assert summary.ops["layer1"]["tanh"] == 3 and summary.ops["layer2"]["dot"] == 1
    assert summary.ops["layer1"]["*"] == 3
    # the loss's own code runs after the modules, and its constant 1.0 with it
    assert summary.ops[viz.OUTPUTS] == {"-": 1, "**2": 1, "leaf": 1}
    assert viz.INPUTS not in summary.ops
    assert summary.edges[("layer1", "layer2")] == 3
    assert summary.root_module == viz.OUTPUTS
    assert summary.describe("layer1") == "12 nodes: leaf 6, * 3, tanh 3"


def test_collapsed_drawing_has_one_box_per_module():
    loss = scoped_graph()
    summary = module_summary(loss)
    dot = draw_dot(loss, collapse=True)
    boxes = [line for line in dot.body if "shape=box" in line]
    assert len(boxes) == len(summary.ops)
    assert len(edges(dot)) == len(summary.edges)
    assert any("layer2\\n" in b and "dot 1" in b for b in boxes)


def test_depth_merges_nested_modules():
    with module_scope("blocks.0.attn.wq"):
        a = Value(1.0) * 2
    with module_scope("blocks.0"):
        b = a + 1
    summary = module_summary(b, depth=2)
    assert set(summary.ops) == {"blocks.0"}


# ---- rendering -------------------------------------------------------------------------
@needs_dot
@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"),
                                           (".pdf", b"%PDF")])
def test_render_each_format(tmp_path, suffix, magic):
    root, _ = neuron()
    path = render_graph(draw_dot(root, edge_labels=True), tmp_path / f"graph{suffix}")
    assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"graph{suffix}"]  # no temp files


@needs_dot
def test_svg_keeps_the_stable_ids():
    root, _ = neuron()
    svg = html.unescape(viz.pipe_graph(draw_dot(root), "svg").decode())  # "-" is &#45;
    order = topological_order(root)      # a, b, a*b, c, a*b + c, tanh
    product = order.index(next(v for v in order if v._op == "*"))
    assert 'id="node-v0"' in svg and 'id="op-v5"' in svg
    assert f'id="edge-v{product}-1"' in svg and f'id="op-v{product}"' in svg


def test_source_suffix_and_bad_suffix(tmp_path):
    root, _ = neuron()
    dot = draw_dot(root)
    assert render_graph(dot, tmp_path / "g.gv").read_text() == dot.source
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf"):
        render_graph(dot, tmp_path / "g.jpg")


@needs_dot
def test_jupyter_display_is_svg():
    root, _ = neuron()
    bundle = draw_dot(root)._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")


# ---- without the dot program -------------------------------------------------------------
@pytest.fixture
def no_graphviz(monkeypatch, tmp_path):
    """Neither `dot` (PATH is an empty folder) nor graphviz-pure."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(viz, "find_fallback_renderer", lambda: None)


def test_missing_dot_saves_the_source_and_explains(no_graphviz, tmp_path):
    root, _ = neuron()
    dot = draw_dot(root)
    with pytest.raises(GraphvizNotInstalled) as info:
        render_graph(dot, tmp_path / "out" / "graph.svg")
    message = str(info.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "winget", "graphviz.org"):
        assert hint in message
    source = tmp_path / "out" / "graph.gv"
    assert info.value.source_path == source and source.read_text() == dot.source
    assert str(source) in message
    assert not (tmp_path / "out" / "graph.svg").exists()


def test_missing_dot_in_jupyter_shows_text_not_a_traceback(no_graphviz):
    root, _ = neuron()
    bundle = draw_dot(root)._repr_mimebundle_()
    assert "apt-get install graphviz" in bundle["text/plain"]


def run_cli(args, path_dir, extra_code=""):
    """Run the CLI in a fresh Python with PATH set to `path_dir` (so `dot` is missing)."""
    code = ("import sys\n" + extra_code +
            "from micrograd_gpt.cli import main\nsys.exit(main(sys.argv[1:]))\n")
    env = dict(os.environ, PATH=str(path_dir), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, timeout=60)


def test_cli_without_dot_prints_one_message_and_no_traceback(tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    out = tmp_path / "graph.svg"
    no_fallback = "import micrograd_gpt.viz.graph as v\nv.find_fallback_renderer = lambda: None\n"
    done = run_cli(["graph", "tanh(a*b + c)", "--values", "a=2,b=-3,c=10", "-o", str(out)],
                   empty, no_fallback)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "apt-get install graphviz" in done.stderr
    assert (tmp_path / "graph.gv").read_text().startswith("digraph")
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.skipif(viz.find_fallback_renderer() is None,
                    reason="graphviz-pure is not installed (pip install graphviz-pure)")
def test_graphviz_pure_draws_when_dot_is_missing(tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    out = tmp_path / "graph.svg"
    done = run_cli(["graph", "tanh(a*b + c)", "--values", "a=2,b=-3,c=10", "-o", str(out)],
                   empty)
    assert done.returncode == 0, done.stderr
    assert "graphviz-pure" in out.read_text()  # its SVG says who drew it
    # it cannot write PDF: one clear message, the DOT text saved
    done = run_cli(["graph", "a*b", "--values", "a=1,b=2", "-o", str(tmp_path / "g.pdf")],
                   empty)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot write PDF" in done.stderr and (tmp_path / "g.gv").exists()


# ---- the command line ------------------------------------------------------------------
def test_cli_graph_runs_backward_first(tmp_path, capsys):
    out = tmp_path / "graph.gv"
    assert cli_main(["graph", "tanh(a*b + c)", "--values", "a=2,b=-3,c=10",
                     "--edge-labels", "-o", str(out)]) == 0
    root, leaves = neuron()
    text = out.read_text()
    assert f"grad {format_number(leaves['a'].grad)}" in text
    assert "label=-3" in text  # d(a*b)/da = b on the edge
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("args, fragment", [
    (["graph", "a.b"], "not allowed"),
    (["graph", "a*b", "--values", "a=1"], "no value for variable"),
    (["graph"], "give an expression"),
    (["graph", "a", "--values", "a=1", "-o", "x.jpg"], "extension"),
])
def test_cli_graph_errors_are_one_line(args, fragment, capsys):
    assert cli_main(args) == 2
    assert fragment in capsys.readouterr().err


# ---- a whole GPT training step ---------------------------------------------------------
@pytest.fixture(scope="module")
def gpt_step():
    loss, model, batch = training_step_graph("tiny", batch_size=2, seed=0)
    return loss, model, batch


def test_collapsed_gpt_step_names_its_modules(gpt_step):
    loss, model, batch = gpt_step
    order = topological_order(loss)
    summary = module_summary(loss)
    assert summary.nodes == len(order) > 5000
    assert sum(sum(c.values()) for c in summary.ops.values()) == len(order)
    for name in ("blocks.0.attn", "blocks.0.attn.wq", "blocks.0.mlp.fc", "ln_f",
                 viz.INPUTS, viz.OUTPUTS):
        assert name in summary.ops, name
    assert summary.root_module == viz.OUTPUTS
    assert summary.ops[viz.OUTPUTS]["cross_entropy"] == sum(len(d) - 1 for d in batch)
    # every parameter is counted once, somewhere
    leaves = sum(c["leaf"] for c in summary.ops.values())
    assert leaves == sum(1 for v in order if not v._prev)
    # cross-module edges, counted independently
    dot = draw_dot(loss, collapse=True)
    assert len([line for line in dot.body if "shape=box" in line]) == len(summary.ops)
    with pytest.raises(ValueError, match="collapse=True"):
        draw_dot(loss)


@pytest.mark.slow
@needs_dot
def test_cli_gpt_graph(tmp_path, capsys, gpt_step):
    out = tmp_path / "gpt.svg"
    assert cli_main(["graph", "--gpt", "--preset", "tiny", "--batch-size", "2",
                     "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert re.search(r"[\d,]+ nodes of one training step summarised in \d+ module boxes", said)
    assert "blocks.0.attn" in out.read_text()


@needs_dot
def test_a_failing_dot_is_one_error_with_its_message():
    broken = graphviz.Digraph()
    broken.body.append("this is { not dot\n")
    with pytest.raises(RuntimeError, match="dot failed: .*syntax error"):
        viz.pipe_graph(broken, "svg")


def _has_cycle(edges):
    """True if the directed graph given by (src, dst) pairs has a cycle."""
    after = {}
    for src, dst in edges:
        after.setdefault(src, set()).add(dst)
    state = {}  # 1: on the current path, 2: done

    def visit(node):
        state[node] = 1
        for nxt in after.get(node, ()):
            if state.get(nxt) == 1 or (nxt not in state and visit(nxt)):
                return True
        state[node] = 2
        return False
    return any(node not in state and visit(node) for node in list(after))


def test_collapsed_gpt_step_reads_top_to_bottom_without_a_loop(gpt_step):
    loss, model, batch = gpt_step
    summary = module_summary(loss, names=model.named_parameters())
    # the two residual additions are boxes of their own, so the picture has no loop
    assert summary.ops["blocks.0.residual_1"] == {"+": 16 * sum(len(d) - 1 for d in batch)}
    assert "blocks.0.residual_2" in summary.ops and "blocks.0" not in summary.ops
    assert not _has_cycle(summary.edges)
    assert _has_cycle([("a", "b"), ("b", "c"), ("c", "a")])  # the check itself can fail
    # each parameter sits in its module's box: the token table is one box, read by the
    # embedding sums and, tied, by the unembedding: positions x |V| x d edges
    config = model.config
    assert summary.ops["wte"] == {"leaf": config.vocab_size * config.d_model}
    positions = sum(len(d) - 1 for d in batch)
    assert summary.edges[("wte", viz.OUTPUTS)] == positions * config.vocab_size * config.d_model
    assert summary.edges[("wte", viz.INPUTS)] == positions * config.d_model
    assert (viz.INPUTS, viz.OUTPUTS) not in summary.edges
    # blocks.0 makes no node of its own now, but still frames its modules
    dot = draw_modules(summary)
    assert 'label="blocks.0"' in dot.source or "label=blocks.0" in dot.source


# ---- the legend of a module picture ----------------------------------------------------

def test_the_gpt_picture_has_a_legend_and_no_box_inside_itself(tmp_path, capsys):
    from micrograd_gpt.cli import main
    from micrograd_gpt.viz.training_step import training_step_graph
    from micrograd_gpt.viz.graph import module_legend
    loss, model, _ = training_step_graph("tiny", 2)
    summary = module_summary(loss, names=model.named_parameters())
    legend = "\n".join(module_legend(summary))
    for op in ("leaf:", "dot:", "exp(x-max):", "cross_entropy:", "An arrow's number"):
        assert op in legend
    tied = next(line for line in module_legend(summary) if line.startswith("wte -> (outputs)"))
    assert f"{summary.edges[('wte', '(outputs)')]:,} edges: weight tying" in tied
    untied = training_step_graph("microgpt", 2)
    assert "weight tying" not in "\n".join(module_legend(module_summary(
        untied[0], names=untied[1].named_parameters())))
    gv = tmp_path / "gpt.gv"
    assert main(["graph", "--gpt", "--batch-size", "2", "-o", str(gv)]) == 0
    text = gv.read_text(encoding="utf-8")
    assert "How to read it: a box is a module" in text and "weight tying" in text
    frames = re.findall(r'label="(blocks\.0\.(?:attn|mlp))" labeljust', text)
    assert sorted(frames) == ["blocks.0.attn", "blocks.0.mlp"]
    for frame in frames:  # a frame's own nodes are not a box named like the frame
        assert f'label="{frame}\\n' not in text and f'label="own nodes of {frame}\\n' in text
    assert "…" not in text  # every operation listed, none cut
