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
    return parser


def _add_demo(sub):
    p = sub.add_parser("demo", help="run the seed's end-to-end demo and print its results")
    p.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    p.set_defaults(handler="micrograd_gpt.book:main_demo")


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
