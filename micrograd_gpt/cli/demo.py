"""`micrograd-gpt demo [--seed N]`: the founding document's end-to-end demo (book.demo),
printed."""
from __future__ import annotations

from ..teaching.book import demo

def add_arguments(parser):
    parser.description = ("Build the founding document's demo GPT (|V|=100, d=32, 4 heads, 2 layers, "
                          "context 64), score a prompt and sample ten tokens.")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")


def run(args):
    print(format_demo(demo(seed=args.seed)))
    return 0


def format_demo(result):
    """The demo dict as aligned `key: value` lines (numbers rounded for reading)."""
    lines = []
    for key, value in result.items():
        if isinstance(value, float):
            text = f"{value:.6f}"
        elif isinstance(value, int):
            text = f"{value:,}"
        elif isinstance(value, list) and value and isinstance(value[0], float):
            text = "[" + ", ".join(f"{x:+.5f}" for x in value) + "]"
        else:
            text = str(value)
        lines.append(f"{key + ':':<17} {text}")
    return "\n".join(lines)
