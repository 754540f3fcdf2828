"""Draw computation graphs: an expression node by node, a GPT training step by module.

    python examples/03_graph.py [OUT_DIR]

Writes expression.svg and gpt_step.svg into OUT_DIR (default: a new temporary folder).
Needs Graphviz's `dot` or the graphviz-pure package (pip install -e ".[viz]"); without
them, the DOT text is saved instead and the message says how to install one.
"""
import sys
import tempfile
from pathlib import Path

from micrograd_gpt import GraphvizNotInstalled, Value, draw_dot, render_graph
from micrograd_gpt.viz import training_step_graph
from micrograd_gpt.viz.graph import module_summary


def main(out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    root = (a * b + c).tanh()
    root.backward()
    print(f"tanh(a*b + c) = {root.data:.4f}; grads a={a.grad:.4f} b={b.grad:.4f} c={c.grad:.4f}")

    loss, model, batch = training_step_graph("tiny", batch_size=4)
    summary = module_summary(loss)
    print(f"one training step of the tiny GPT on {len(batch)} names: {summary.nodes:,} nodes "
          f"in {len(summary.ops)} modules")

    try:
        for name, dot in (("expression.svg", draw_dot(root, edge_labels=True)),
                          ("gpt_step.svg", draw_dot(loss, collapse=True))):
            print("wrote", render_graph(dot, out_dir / name))
    except GraphvizNotInstalled as missing:
        print(missing)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="graphs-")))
