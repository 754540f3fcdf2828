"""Draw every picture of the docs with the project's own code, as SVG in docs/figures/.

    python docs/make_figures.py                 # redraw all figures into docs/figures/
    python docs/make_figures.py --out /tmp/fig  # somewhere else (the tests do this)
    python docs/make_figures.py expr_graph      # only some of them

Graph pictures come from `micrograd_gpt.viz.graph` (Graphviz's `dot`, or graphviz-pure), the loss
curve, the attention heatmaps and the health charts from `micrograd_gpt.viz.plots` after
training runs (chapter 10's: the default run of 500 steps and three 150-step runs), the
ladder's bar chart from its recorded results (docs/recorded/ladder.json), and chapter 13's
shape diagram from plain SVG boxes. With the environment variable MICROGRAD_GPT_QUICK=1
the training run is shortened (the tests use that).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
from pathlib import Path

from micrograd_gpt import Value
from micrograd_gpt import functional as F
from micrograd_gpt.autograd.modes import record_scopes
from micrograd_gpt.common.files import atomic_write_text as write_svg
from micrograd_gpt.models.nn import Linear, Module
from micrograd_gpt.viz import training_step_graph
from micrograd_gpt.viz.graph import draw_dot, module_summary, draw_modules, \
    render_graph

FIGURES = Path(__file__).resolve().parent / "figures"
RECORDED = Path(__file__).resolve().parent / "recorded"   # results of docs/record.py
QUICK = os.environ.get("MICROGRAD_GPT_QUICK") == "1"


def expr_graph(out):
    """tanh(a*b + c) at a=2, b=-3, c=10, after backward, local derivatives on the edges."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    root = (a * b + c).tanh()
    root.backward()
    render_graph(draw_dot(root, edge_labels=True), out / "expr_graph.svg")


def chain_rule(out):
    """Chapter 2's L = (a*b + c) * f, every node named."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c, f = Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    L.backward()
    render_graph(draw_dot(L, edge_labels=True), out / "chain_rule.svg")


class TinyMLP(Module):
    """The two-layer network of chapter 4: 2 -> 3 -> tanh -> 1."""

    def __init__(self, rng):
        self.hidden = Linear(2, 3, rng=rng, std=1.0)
        self.out = Linear(3, 1, rng=rng, std=1.0)

    def forward(self, x):
        return self.out([h.tanh() for h in self.hidden(x)])[0]


def mlp_modules(out):
    """The loss of one XOR example, (0, 1) -> +1, for chapter 4's untrained MLP, each
    module's nodes in a frame."""
    model = TinyMLP(random.Random(0))
    names = model.named_parameters()
    x = [Value(0.0, label="x0"), Value(1.0, label="x1")]
    with record_scopes():  # tag each node with the module that made it
        loss = (model(x) - 1.0) ** 2
    loss.backward()
    render_graph(draw_dot(loss, group="module", names=names), out / "mlp_modules.svg")


def dot_plain_and_fused(out):
    """w·x + b for three inputs: plain binary nodes, then one fused `dot` node."""
    for fused, name in ((False, "dot_plain.svg"), (True, "dot_fused.svg")):
        w = [Value(v, label=f"w{i}") for i, v in enumerate((0.5, -1.0, 2.0))]
        x = [Value(v, label=f"x{i}") for i, v in enumerate((1.0, 2.0, 3.0))]
        with F.fused_ops(fused):
            y = F.dot(w, x) + Value(0.1, label="b")
        y.backward()
        render_graph(draw_dot(y), out / name)


def gpt_step(out):
    """One training step of the `tiny` preset GPT on four names, one box per module, top
    to bottom; each parameter in the box of the module that owns it (so the token table
    `wte`, used at both ends of the tied model, is a box of its own)."""
    loss, model, batch = training_step_graph("tiny", batch_size=4, seed=0)
    summary = module_summary(loss, names=model.named_parameters())
    predictions = sum(len(doc) - 1 for doc in batch)
    title = (f"One training step of the tiny GPT on {len(batch)} names ({predictions} "
             f"predictions): {summary.nodes:,} nodes, one box per module.\\l"
             f"A number on an arrow counts the edges (child -> parent) from one box to "
             f"the other.\\l")
    render_graph(draw_modules(summary, rankdir="TB", title=title), out / "gpt_step.svg")


def rnn_step(out):
    """One training step of the `rnn` preset on four names, one box per module: the cell,
    called at every position, is one box, and the recurrence an arrow back into it."""
    loss, _, batch = training_step_graph("rnn", batch_size=4, seed=0)
    summary = module_summary(loss)
    title = (f"One training step of the rnn preset on {len(batch)} names: {summary.nodes:,} "
             f"nodes, one box per module")
    render_graph(draw_modules(summary, title=title), out / "rnn_step.svg")


def loss_curve(out):
    """The loss curves of a short run of the tiny preset on names, with the dashed
    reference lines: the uniform guess (ln |V|) and bigram counts on the same data."""
    from micrograd_gpt.viz.plots import write_loss_plot
    from micrograd_gpt.training import TrainConfig, reference_losses, train

    steps = 8 if QUICK else 300
    config = TrainConfig.from_preset("tiny", steps=steps, eval_interval=max(1, steps // 6),
                                     eval_docs=20 if QUICK else 200)
    result = train(config, quiet=True)
    references = reference_losses(config)
    write_loss_plot(result.history, out / "loss_curve.svg",
                    title=f"tiny preset on names, {steps} steps",
                    vocab_size=result.model.config.vocab_size, bigram=references["bigram"])


def looking_inside(out):
    """Chapter 10: the default run (the tiny preset, 500 steps, as `micrograd-gpt train`
    trains it; health recorded, which changes no number) read on "emma": its attention
    heatmaps and its health curves."""
    from micrograd_gpt.viz.inspection import inspect_text
    from micrograd_gpt.viz.plots import health_curves
    from micrograd_gpt.training import TrainConfig, train

    config = TrainConfig.from_preset("tiny", record_health=True,
                                     **(dict(steps=8, eval_interval=4, eval_docs=20)
                                        if QUICK else {}))
    result = train(config, quiet=True)
    inspection = inspect_text(result.model, result.tokenizer, "emma")
    inspection.attention_maps(f"the tiny GPT after {result.step} steps, reading 'emma'").save(
        out / "attention_emma.svg")
    health_curves(result.history).save(out / "health_tiny.svg")


INITS = {0.08: ("init_std 0.08 (the preset)", "#2ca02c"), 1.0: ("1.0: too large", "#d62728"),
         0.001: ("0.001: too small", "#1f77b4")}


def health_init(out):
    """Chapter 10: the tiny preset started from three weight scales, 150 steps each, with
    its health recorded: the loss and three health numbers side by side."""
    from micrograd_gpt.viz.plots import LineChart, PictureGrid
    from micrograd_gpt.training import TrainConfig, train

    steps = 4 if QUICK else 150
    runs = {std: train(TrainConfig.from_preset(
        "tiny", steps=steps, eval_interval=max(1, steps // 6), eval_docs=20 if QUICK else 100,
        record_health=True, model={"init_std": std}), quiet=True).history for std in INITS}
    panels = [("validation loss", "loss", lambda h: h["val"]),
              ("GELU inputs below -3 (saturated)", "share",
               _health_points("activations", "blocks.0.mlp.gelu", "saturated")),
              ("spread of the residual stream", "std",
               _health_points("activations", "blocks.0", "std")),
              ("update / data ratio of mlp.fc.weight", "log10",
               _health_points("parameters", "blocks.0.mlp.fc.weight", "update_ratio"))]
    charts = []
    for title, y_label, points in panels:  # one legend, in the first chart
        chart = LineChart(title, x_label="step", y_label=y_label, width=480, height=300,
                          legend="none" if charts else "upper right")
        for std, (label, color) in INITS.items():
            chart.add(points(runs[std]), label, color, markers=True)
        charts.append(chart)
    charts[3].add_reference(-3, "-3", label_at="left")
    PictureGrid(charts, columns=2).save(out / "health_init.svg")


def _health_points(part, name, key):
    return lambda history: [(r["step"], r[part][name][key]) for r in history["health"]
                            if r[part][name][key] is not None]


# the ladder's families: counting and its learned twin, the nets with a window or a memory,
# and the GPT
LADDER_COLORS = {"bigram": "#ff7f0e", "neural_bigram": "#ffbb78", "mlp": "#2ca02c",
                 "rnn": "#98df8a", "gru": "#98df8a", "tiny": "#1f77b4"}


def ladder_losses(out):
    """Chapter 11: the validation loss of every rung as recorded in docs/recorded/ladder.json
    (python docs/record.py ladder), with the counting bigram's loss as a dashed line."""
    from micrograd_gpt.viz.plots import BarChart

    run = json.loads((RECORDED / "ladder.json").read_text(encoding="utf-8"))["runs"][-1]
    rows = run["results"]["ladder"]
    bigram = next(r["val"] for r in rows if r["preset"] == "bigram")
    chart = BarChart(f"validation loss of each rung after {rows[-1]['steps']:,} steps of 8 names",
                     y_label="loss on the validation names (bars start at 2.0)", y_from=2.0,
                     height=360)
    for row in rows:
        chart.add(row["preset"], row["val"], LADDER_COLORS.get(row["preset"], "#7f7f7f"))
    chart.add_reference(bigram, f"counting letter pairs: {bigram:.3f}", "#d62728")
    chart.save(out / "ladder_losses.svg")


def rnn_gradient_by_distance(out):
    """Chapter 11: |dL/dh_t| of a fresh RNN (the rnn preset's sizes) against how far back
    h_t is from the last prediction, on a logarithmic axis."""
    from micrograd_gpt.models.rnn import RNN, RNNConfig
    from micrograd_gpt.training.data import CharTokenizer, load_dataset, split_lines
    from micrograd_gpt.viz.plots import LineChart

    tok = CharTokenizer.from_documents(split_lines(load_dataset("names")))
    rnn = RNN(RNNConfig(vocab_size=tok.vocab_size, d_embed=16, d_hidden=40),
              rng=random.Random(0))
    text = [tok.bos] + tok.encode("maximilianabcd")
    state, hidden = rnn.new_state(), []
    for token in text[:-1]:
        logits = rnn.step(token, state)
        hidden.append(state.h)
    F.cross_entropy(logits, text[-1]).backward()
    sizes = [math.sqrt(sum(v.grad ** 2 for v in h)) for h in hidden]
    chart = LineChart("how much gradient reaches each earlier hidden state (a fresh RNN)",
                      x_label="steps back from the last prediction",
                      y_label="|dL/dh_t| (log scale)", y_log=True, legend="none", height=360)
    chart.add([(back, size) for back, size in enumerate(reversed(sizes))], "|dL/dh_t|",
              "#1f77b4", markers=True)
    chart.save(out / "rnn_gradient_by_distance.svg")


def linear_shapes(out):
    """Chapter 13: the linear layer over a batch, forward and backward, as boxes whose sides
    are the sizes of the dimensions (B·T = 24 positions, d_in = 16, d_out = 27)."""
    rows = [("forward", [("X", "BT", "din"), "·", ("Wᵀ", "din", "dout"), "+", ("bias", 1, "dout"),
                         "=", ("Y", "BT", "dout")],
             "the bias is added at every one of the B·T positions: broadcast"),
            ("backward", [("dX", "BT", "din"), "=", ("dY", "BT", "dout"), "·", ("W", "dout", "din")],
             "each position's dx from its own dy"),
            ("", [("dW", "dout", "din"), "=", ("dYᵀ", "dout", "BT"), "·", ("X", "BT", "din")],
             "the product adds dyᵀ·x over the B·T positions: W was used at every one"),
            ("", [("dbias", 1, "dout"), "=", "Σ over B·T of", ("dY", "BT", "dout")],
             "a broadcast forward is a sum backward")]
    write_svg(out / "linear_shapes.svg", _shape_rows(rows))


SIZES = {"BT": 24, "din": 16, "dout": 27, 1: 1}
NAMES = {"BT": "B·T", "din": "d_in", "dout": "d_out", 1: "1"}
UNIT = 4  # pixels per row or column of a matrix


def _shape_rows(rows):
    """The SVG of `linear_shapes`: one line of boxes and operators per row."""
    parts, y = [], 44
    for title, items, note in rows:
        height = max(SIZES[item[1]] * UNIT for item in items if isinstance(item, tuple))
        parts.append(f'<text x="12" y="{y + height / 2 + 4:.0f}" font-weight="bold">{title}</text>')
        x = 96
        for item in items:
            if isinstance(item, str):
                parts.append(f'<text x="{x + 4}" y="{y + height / 2 + 5:.0f}" font-size="16">'
                             f'{item}</text>')
                x += 14 + 8 * len(item)
                continue
            name, rows_of, cols_of = item
            w, h = SIZES[cols_of] * UNIT, SIZES[rows_of] * UNIT
            top = y + (height - h) / 2
            color = "#fdd0a2" if name.startswith("d") else "#c6dbef"
            parts += [f'<rect x="{x}" y="{top:.0f}" width="{w}" height="{max(h, 3)}" '
                      f'fill="{color}" stroke="#555"/>',
                      f'<text x="{x + w / 2:.0f}" y="{top - 4:.0f}" text-anchor="middle">{name}</text>',
                      f'<text x="{x + w / 2:.0f}" y="{top + h + 13:.0f}" text-anchor="middle" '
                      f'font-size="10" fill="#555">[{NAMES[rows_of]}, {NAMES[cols_of]}]</text>']
            x += w + 16
        parts.append(f'<text x="96" y="{y + height + 34:.0f}" fill="#555" '
                     f'font-style="italic">{note}</text>')
        y += height + 72
    width = 640
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
            f'viewBox="0 0 {width} {y}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="{width}" height="{y}" fill="white"/>\n<text x="{width / 2}" y="20" '
            'text-anchor="middle" font-size="15">the linear layer over a batch, as shapes '
            '(B·T = 24, d_in = 16, d_out = 27)</text>')
    return "\n".join([head, *parts, "</svg>"]) + "\n"


ALL = {"expr_graph": expr_graph, "chain_rule": chain_rule, "mlp_modules": mlp_modules,
       "dot_plain_and_fused": dot_plain_and_fused, "gpt_step": gpt_step,
       "loss_curve": loss_curve, "rnn_step": rnn_step, "looking_inside": looking_inside,
       "health_init": health_init, "ladder_losses": ladder_losses,
       "rnn_gradient_by_distance": rnn_gradient_by_distance, "linear_shapes": linear_shapes}
# the files each figure function writes (the tests check they all exist)
FILES = {"expr_graph": ["expr_graph.svg"], "chain_rule": ["chain_rule.svg"],
         "mlp_modules": ["mlp_modules.svg"],
         "dot_plain_and_fused": ["dot_plain.svg", "dot_fused.svg"],
         "gpt_step": ["gpt_step.svg"], "loss_curve": ["loss_curve.svg"],
         "rnn_step": ["rnn_step.svg"],
         "looking_inside": ["attention_emma.svg", "health_tiny.svg"],
         "health_init": ["health_init.svg"], "ladder_losses": ["ladder_losses.svg"],
         "rnn_gradient_by_distance": ["rnn_gradient_by_distance.svg"],
         "linear_shapes": ["linear_shapes.svg"]}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Draw the docs' figures.")
    parser.add_argument("names", nargs="*", help=f"figures to draw (default all): {', '.join(ALL)}")
    parser.add_argument("--out", default=str(FIGURES), help="folder (default docs/figures)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in ALL]
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name in args.names or ALL:
        ALL[name](out)
        print(f"wrote {', '.join(str(out / f) for f in FILES[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
