"""`micrograd-gpt graph`: draw an expression's graph after backward(), or a GPT training
step one box per module."""
from __future__ import annotations

import time

from ..engine import topological_order
from ..expr import build_expression, parse_values
from ..presets import PRESETS
from ..train import training_step_graph
from ..viz import (RANKDIRS, check_graph_path, draw_dot, draw_modules, format_number,
                   module_summary, render_graph)
from .options import count, output_file, take_expression, wrote


def add_arguments(parser):
    parser.description = (
        "Draw the graph of EXPRESSION after backward() (so every node shows its data and "
        "grad), or with --gpt one training step of a small GPT, one box per module. The "
        "format follows the extension of -o: .svg, .png, .pdf, or .gv for the DOT text. "
        "Needs Graphviz's `dot` (or the graphviz-pure package) for pictures.")
    parser.epilog = 'example: micrograd-gpt graph "tanh(a*b + c)" --values a=2,b=-3,c=10 -o graph.svg'
    parser.add_argument("expression", nargs="?", help='e.g. "tanh(a*b + c)": numbers, names, '
                        "+ - * / **, exp log sqrt tanh sigmoid relu gelu abs")
    parser.set_defaults(take_extras=take_expression)  # "-a*b" is an expression
    parser.add_argument("--values", default="",
                        help="the variables' values, e.g. a=2,b=-3,c=10")
    parser.add_argument("-o", "--output", default="graph.svg",
                        help="output file: .svg, .png, .pdf or .gv (default graph.svg)")
    parser.add_argument("--edge-labels", action="store_true",
                        help="write each edge's local derivative d(node)/d(input) on it")
    parser.add_argument("--rankdir", choices=RANKDIRS[:2], default=None,
                        help="LR: inputs on the left (the default for an expression); TB: "
                             "inputs at the top (the default for --gpt)")
    parser.add_argument("--max-nodes", type=count(1), default=500,
                        help="refuse to draw bigger graphs node by node (default 500)")
    parser.add_argument("--gpt", action="store_true",
                        help="draw one training step of a small GPT, one box per module")
    parser.add_argument("--preset", default="tiny", choices=list(PRESETS),
                        help="with --gpt: the model preset (default tiny)")
    parser.add_argument("--batch-size", type=count(1), default=None,
                        help="with --gpt: names in the batch (default: the preset's)")
    parser.add_argument("--depth", type=count(1), default=None,
                        help="with --gpt: merge modules nested deeper than this (e.g. 2: "
                             "blocks.0)")
    parser.add_argument("--seed", type=int, default=0, help="with --gpt: the model's init seed")


def run(args):
    output, existed = output_file(check_graph_path(args.output, "--output"), "--output")
    if args.gpt:
        return _draw_training_step(args, output, existed)
    if not args.expression:
        raise ValueError("give an expression (e.g. 'tanh(a*b + c)') or --gpt")
    root, _ = build_expression(args.expression, parse_values(args.values))
    root.backward()
    dot = draw_dot(root, edge_labels=args.edge_labels, rankdir=args.rankdir or "LR",
                   max_nodes=args.max_nodes)
    path = render_graph(dot, output)
    print(f"{wrote(path, existed)} ({len(topological_order(root))} nodes; "
          f"output {format_number(root.data)})")
    return 0


def _draw_training_step(args, output, existed):
    started = time.perf_counter()
    loss, model, batch = training_step_graph(args.preset, args.batch_size, args.seed)
    built = time.perf_counter() - started
    started = time.perf_counter()
    # names: each parameter is drawn in the box of the module that owns it
    summary = module_summary(loss, depth=args.depth, names=model.named_parameters())
    title = (f"One training step of a GPT (preset {args.preset}, {len(batch)} names): "
             f"{summary.nodes:,} nodes in {len(summary.ops)} module boxes.\\lArrows: "
             f"how many edges (child -> parent) go from one module to the next.\\l")
    path = render_graph(draw_modules(summary, rankdir=args.rankdir or "TB", title=title),
                        output)
    took = time.perf_counter() - started
    print(f"{wrote(path, existed)}: {summary.nodes:,} nodes of one training step summarised "
          f"in {len(summary.ops)} module boxes (forward+backward {built:.2f} s, "
          f"summary and render {took:.2f} s)")
    return 0
