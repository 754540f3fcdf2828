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
