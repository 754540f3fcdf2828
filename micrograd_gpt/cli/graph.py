"""`micrograd-gpt graph`: draw an expression's graph after backward(), or one training step
of a model (a GPT, an RNN, ...: `--model`) one box per module."""
from __future__ import annotations

import time

from ..autograd.value import topological_order
from ..viz.expression import build_expression, parse_values
from ..models.gpt import GPT
from ..models.registry import DEFAULT_KIND, MODELS
from ..training.presets import PRESETS, default_preset, preset_kind
from ..viz.training_step import training_step_graph
from ..viz.graph import (RANKDIRS, check_graph_path, draw_dot, draw_modules, format_number,
                   module_summary, render_graph)
from .options import count, output_file, take_expression, wrote


def add_arguments(parser):
    parser.description = (
        "Draw the graph of EXPRESSION after backward() (so every node shows its data and "
        "grad), or with --model (--gpt) one training step of a small model, one box per "
        "module: an RNN's cell, called at every position, is one box. The "
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
                             "inputs at the top (the default for --model and --gpt)")
    parser.add_argument("--max-nodes", type=count(1), default=500,
                        help="refuse to draw bigger graphs node by node (default 500)")
    parser.add_argument("--gpt", action="store_true",
                        help="draw one training step of a small GPT, one box per module "
                             "(the same as --model gpt)")
    parser.add_argument("--model", default=None, choices=list(MODELS),
                        help="draw one training step of this kind of model, one box per "
                             "module (its own preset unless --preset says otherwise)")
    parser.add_argument("--preset", default=None, choices=list(PRESETS),
                        help="with --gpt or --model: the model preset (default: the model's "
                             "own; tiny for the GPT)")
    parser.add_argument("--batch-size", type=count(1), default=None,
                        help="with --model: names in the batch (default: the preset's)")
    parser.add_argument("--depth", type=count(1), default=None,
                        help="with --model: merge modules nested deeper than this (e.g. 2: "
                             "blocks.0)")
    parser.add_argument("--checkpoint", default=None, metavar="PATH",
                        help="one training step of a checkpoint's model (from `train`, with "
                             "either engine), on the first documents of its data")
    parser.add_argument("--seed", type=int, default=0,
                        help="with --model: the model's init seed")


def run(args):
    output, existed = output_file(check_graph_path(args.output, "--output"), "--output")
    if args.gpt or args.model or args.preset or args.checkpoint:
        return _draw_training_step(args, output, existed)
    if not args.expression:
        raise ValueError("give an expression (e.g. 'tanh(a*b + c)') or --model (or --gpt)")
    root, _ = build_expression(args.expression, parse_values(args.values))
    root.backward()
    dot = draw_dot(root, edge_labels=args.edge_labels, rankdir=args.rankdir or "LR",
                   max_nodes=args.max_nodes)
    path = render_graph(dot, output)
    print(f"{wrote(path, existed)} ({len(topological_order(root))} nodes; "
          f"output {format_number(root.data)})")
    return 0


# the most nodes a training step may have to be built and summarised: about half a KB
# each (the Value, its children and local derivatives, its module tag), so 1,000,000 is
# about 500 MB and a minute of work; the picture, one box per module, looks the same for
# a smaller batch
MAX_STEP_NODES = 1_000_000


def _check_step_size(args, preset):
    """A --batch-size whose step would make more than MAX_STEP_NODES nodes is refused
    before that step is built: the step of the first document alone is built and counted,
    and the batch would make about --batch-size times as many."""
    if args.batch_size is None or args.batch_size == 1:
        return  # the preset's own batch, or the checkpoint's (already built when trained)
    loss, _, _ = training_step_graph(preset, 1, args.seed, checkpoint=args.checkpoint)
    per_document = len(topological_order(loss))
    if per_document * args.batch_size > MAX_STEP_NODES:
        most = max(1, MAX_STEP_NODES // per_document)
        raise ValueError(
            f"--batch-size {args.batch_size}: one training step would make about "
            f"{per_document * args.batch_size:,} graph nodes ({per_document:,} for the "
            f"first document alone), more than the {MAX_STEP_NODES:,} a drawing builds; "
            f"the module boxes look the same for a smaller batch: give --batch-size {most} "
            "or less")


def _preset(args):
    """The preset to draw: --preset, else the default one of --model (the GPT's for --gpt)."""
    if args.expression:
        raise ValueError(f"give either an expression ({args.expression!r}) or --model/--gpt, "
                         "not both")
    kind = GPT.kind if args.gpt else args.model
    if args.gpt and args.model not in (None, GPT.kind):
        raise ValueError(f"--gpt and --model {args.model} ask for two different models; "
                         "give one")
    preset = args.preset or default_preset(kind or DEFAULT_KIND)
    if kind is not None and preset_kind(preset) != kind:
        raise ValueError(f"--preset {preset} is for --model {preset_kind(preset)}, not {kind}")
    return preset


def _draw_training_step(args, output, existed):
    if args.checkpoint and (args.model or args.preset):
        raise ValueError("--checkpoint draws its own model: leave out --model and --preset")
    preset = _preset(args) if not args.checkpoint or args.expression else None
    _check_step_size(args, preset)
    started = time.perf_counter()
    loss, model, batch = training_step_graph(preset, args.batch_size, args.seed,
                                             checkpoint=args.checkpoint)
    built = time.perf_counter() - started
    started = time.perf_counter()
    # names: each parameter is drawn in the box of the module that owns it
    summary = module_summary(loss, depth=args.depth, names=model.named_parameters())
    source = f"checkpoint {args.checkpoint}" if args.checkpoint else f"preset {preset}"
    documents = f"{len(batch)} document{'s' if len(batch) != 1 else ''}"
    title = (f"One training step of {type(model).__name__} (model {model.kind}, {source}, "
             f"{documents}): {summary.nodes:,} nodes in {len(summary.ops)} module "
             "boxes.\\l")
    path = render_graph(draw_modules(summary, rankdir=args.rankdir or "TB", title=title,
                                     legend=True), output)
    took = time.perf_counter() - started
    print(f"{wrote(path, existed)}: {summary.nodes:,} nodes of one training step summarised "
          f"in {len(summary.ops)} module boxes (forward+backward {built:.2f} s, "
          f"summary and render {took:.2f} s)")
    return 0
