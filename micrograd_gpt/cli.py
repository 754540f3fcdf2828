"""The `micrograd-gpt` command line (also `python -m micrograd_gpt`).

Each subcommand is a thin layer: it parses arguments here and calls the library function
that does the work, imported only when that subcommand runs (so `--help` is instant).
"""
from __future__ import annotations

import argparse
import sys

from . import __version__


def build_parser():
    parser = argparse.ArgumentParser(
        prog="micrograd-gpt",
        description="A tiny scalar autograd engine with a GPT built on top, in pure Python.")
    parser.add_argument("--version", action="version", version=f"micrograd-gpt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # Subcommands register themselves below; each sets `handler` to a "module:function"
    # string that is imported only when that subcommand runs.
    _add_demo(sub)
    _add_graph(sub)
    _add_trace(sub)
    _add_train(sub)
    _add_sample(sub)
    _add_plot(sub)
    return parser


def _add_demo(sub):
    p = sub.add_parser("demo", help="run the seed's end-to-end demo and print its results")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.set_defaults(handler="micrograd_gpt.book:main_demo")


def _add_graph(sub):
    p = sub.add_parser(
        "graph", help="draw the computation graph of an expression, or of a GPT training step",
        description="Draw the graph of EXPRESSION after backward() (so every node shows its "
                    "data and grad), or with --gpt one training step of a small GPT, one "
                    "box per module. The format follows the extension of -o: .svg, .png, "
                    ".pdf, or .gv for the DOT text. Needs Graphviz's `dot` (or the "
                    "graphviz-pure package) for pictures.",
        epilog='example: micrograd-gpt graph "tanh(a*b + c)" --values a=2,b=-3,c=10 -o graph.svg')
    p.add_argument("expression", nargs="?", help='e.g. "tanh(a*b + c)": numbers, names, '
                   "+ - * / **, exp log sqrt tanh sigmoid relu gelu abs")
    p.add_argument("--values", default="", help="the variables' values, e.g. a=2,b=-3,c=10")
    p.add_argument("-o", "--output", default="graph.svg",
                   help="output file: .svg, .png, .pdf or .gv (default graph.svg)")
    p.add_argument("--edge-labels", action="store_true",
                   help="write each edge's local derivative d(node)/d(input) on it")
    p.add_argument("--rankdir", choices=["LR", "TB"], default="LR",
                   help="LR: inputs on the left (default); TB: inputs at the top")
    p.add_argument("--max-nodes", type=int, default=500,
                   help="refuse to draw bigger graphs node by node (default 500)")
    p.add_argument("--gpt", action="store_true",
                   help="draw one training step of a small GPT, one box per module")
    p.add_argument("--preset", default="tiny", help="with --gpt: the model preset (default tiny)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="with --gpt: names in the batch (default: the preset's)")
    p.add_argument("--depth", type=int, default=None,
                   help="with --gpt: merge modules nested deeper than this (e.g. 2: blocks.0)")
    p.add_argument("--seed", type=int, default=0, help="with --gpt: the model's init seed")
    p.set_defaults(handler="micrograd_gpt.viz:main_graph")


def _add_trace(sub):
    p = sub.add_parser(
        "trace", help="print every step of forward and backward for an expression",
        description="Print the forward values and every backward update "
                    "grad(child) += local x grad(node) of EXPRESSION, with the numbers; "
                    "--html also writes a page that steps through backward on the graph.",
        epilog='example: micrograd-gpt trace "tanh(a*b + c)" --values a=2,b=-3,c=10 '
               "--html trace.html")
    p.add_argument("expression", help='e.g. "tanh(a*b + c)"')
    p.add_argument("--values", default="", help="the variables' values, e.g. a=2,b=-3,c=10")
    p.add_argument("--html", metavar="PATH", help="also write a step-by-step page to PATH")
    p.add_argument("--max-rows", type=int, default=None,
                   help="show at most this many rows of each table")
    p.set_defaults(handler="micrograd_gpt.trace:main_trace")


def _count(minimum):
    """An argparse type: an integer >= minimum (a bad value is a usage error, exit 2)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def _positive_float(text, upper=None):
    """An argparse type: a finite number > 0 (and <= upper when given)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf") or (upper is not None and value > upper):
        allowed = f"in (0, {upper:g}]" if upper is not None else "a finite number > 0"
        raise argparse.ArgumentTypeError(f"must be {allowed}, got {text}")
    return value


def _probability(text):
    return _positive_float(text, upper=1.0)


def _add_train(sub):
    p = sub.add_parser(
        "train", help="train a small GPT on names (default) or any text file",
        description="Train a GPT on characters. With no options: the `tiny` preset on the "
                    "embedded names (about a minute), then the final losses and 10 sampled "
                    "names. Options override the preset. A checkpoint is written every "
                    "eval interval and at the end; --resume continues a run exactly.",
        epilog="examples: micrograd-gpt train | micrograd-gpt train --preset microgpt | "
               "micrograd-gpt train --data text --preset small | "
               "micrograd-gpt train --data my_lines.txt --steps 2000")
    p.add_argument("--data", default=None, metavar="names|text|PATH",
                   help="'names' (embedded first names, default), 'text' (Shakespeare's "
                        "sonnets) or a UTF-8 text file with one document per line")
    p.add_argument("--text", action="store_true",
                   help="treat the data as one continuous text cut into context-sized pieces")
    p.add_argument("--preset", default=None, choices=["tiny", "microgpt", "small"],
                   help="model size and training settings (default tiny)")
    p.add_argument("--steps", type=_count(1), default=None, help="training steps in total")
    p.add_argument("--batch-size", type=_count(1), default=None, help="documents per step")
    p.add_argument("--lr", type=_positive_float, default=None, help="peak learning rate")
    p.add_argument("--eval-interval", type=_count(0), default=None,
                   help="validation loss and checkpoint every N steps (0: at the end only)")
    p.add_argument("--eval-docs", type=_count(1), default=None,
                   help="documents each loss evaluation uses (default 200; fewer is faster)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="checkpoint file (default out/<data>_<preset>.json; with --resume, "
                        "the resumed file)")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue the run saved in CHECKPOINT (to --steps in total)")
    p.add_argument("--samples", type=_count(0), default=10,
                   help="texts to sample at the end (default 10)")
    p.add_argument("--temperature", type=_positive_float, default=0.8,
                   help="sampling temperature for those samples (default 0.8)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(handler="micrograd_gpt.train:main_train")


def _add_sample(sub):
    p = sub.add_parser(
        "sample", help="generate text from a trained checkpoint",
        description="Generate texts from a checkpoint. Each starts after BOS (and the "
                    "--prompt); for documents (e.g. names) it ends where the model emits BOS.",
        epilog="example: micrograd-gpt sample --checkpoint out/names_tiny.json --num 10 "
               "--temperature 0.8 --top-k 10 --prompt ma --seed 1")
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="a file from `train`")
    p.add_argument("--num", type=_count(1), default=10, help="how many texts (default 10)")
    p.add_argument("--temperature", type=_positive_float, default=0.8,
                   help="below 1: safer, above 1: wilder (default 0.8)")
    p.add_argument("--top-k", type=_count(1), default=None,
                   help="sample only among the k most likely tokens")
    p.add_argument("--top-p", type=_probability, default=None,
                   help="sample only among the most likely tokens covering probability p")
    p.add_argument("--prompt", default="", help="characters every text starts with")
    p.add_argument("--max-new-tokens", type=_count(1), default=None,
                   help="length cap (default: the context length; 4x for text)")
    p.add_argument("--seed", type=int, default=0, help="random seed for sampling (default 0)")
    p.set_defaults(handler="micrograd_gpt.train:main_sample")


def _add_plot(sub):
    p = sub.add_parser(
        "plot", help="draw a checkpoint's loss curves as an SVG picture",
        description="Write the training and validation loss of a run (kept in its "
                    "checkpoint) as an SVG line chart.",
        epilog="example: micrograd-gpt plot --checkpoint out/names_tiny.json -o loss.svg")
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="a file from `train`")
    p.add_argument("-o", "--output", default=None, metavar="PATH",
                   help="the SVG file (default: the checkpoint's name with .svg)")
    p.set_defaults(handler="micrograd_gpt.loss_plot:main_plot")


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    module_name, func_name = args.handler.split(":")
    import importlib
    handler = getattr(importlib.import_module(module_name), func_name)
    try:
        return handler(args) or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
