"""`micrograd-gpt trace EXPR --values ...`: print every step of forward and backward;
--html also writes a page that steps through backward on the graph."""
from __future__ import annotations

import sys

from ..viz.expression import build_expression, parse_values
from ..viz.tracing import print_trace, save_trace_html, trace
from ..viz.graph import INSTALL_HELP, renderer_available
from .options import count, output_file, take_expression, wrote


def add_arguments(parser):
    parser.description = ("Print the forward values and every backward update "
                          "grad(child) += local x grad(node) of EXPRESSION, with the numbers; "
                          "--html also writes a page that steps through backward on the graph.")
    parser.epilog = ('example: micrograd-gpt trace "tanh(a*b + c)" --values a=2,b=-3,c=10 '
                     "--html trace.html")
    parser.add_argument("expression", nargs="?",
                        help='e.g. "tanh(a*b + c)" (one that starts with "-" works too: "-a*b")')
    parser.set_defaults(take_extras=take_expression)  # "-a*b" is an expression
    parser.add_argument("--values", default="",
                        help="the variables' values, e.g. a=2,b=-3,c=10")
    parser.add_argument("--html", metavar="PATH", help="also write a step-by-step page to PATH")
    parser.add_argument("--max-rows", type=count(2), default=None,
                        help="show at most this many rows of each table")


def run(args):
    if not args.expression:
        raise ValueError("give an expression, e.g. micrograd-gpt trace 'tanh(a*b + c)' "
                         "--values a=2,b=-3,c=10")
    if args.html:
        html_path, existed = output_file(args.html, "--html")  # before any work
    root, _ = build_expression(args.expression, parse_values(args.values))
    print_trace(trace(root), max_rows=args.max_rows)
    if args.html:
        path = save_trace_html(root, html_path,
                               title=f"Backpropagation through {args.expression}")
        print(f"\n{wrote(path, existed)}: open it in a browser and press → to step "
              f"through the backward pass")
        if not renderer_available():
            print(INSTALL_HELP.replace("so the graph could not be drawn",
                                       "so the page shows no drawing"), file=sys.stderr)
    return 0
