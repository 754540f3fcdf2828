"""The `micrograd-gpt` command line (also `python -m micrograd_gpt`).

One module per command in this folder: each defines `add_arguments(parser)` and
`run(args)`, which calls the library and prints (the one-line help of every command is in
COMMANDS below). Only
the command being run is imported, so `micrograd-gpt --help` loads nothing but this file
and `micrograd-gpt demo` never loads the training or drawing code.

Errors: a library function raises a ValueError for a bad input; this file prints it as one
line, `micrograd-gpt COMMAND: error: ...`, and exits with status 2 (as argparse does for
a bad option). Other failures a user can fix (a missing Graphviz) exit with 1, Ctrl-C
with 130, and a closed output pipe (`... | head`) ends the command quietly.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from .. import __version__

# command -> one line of help, in the order `--help` lists them
COMMANDS = {
    "demo": "the book's GPT functions run once on an untrained GPT, each result explained",
    "graph": "draw the computation graph of an expression, or of a GPT training step",
    "trace": "print every step of forward and backward for an expression",
    "train": "train a small GPT on names (default) or any text file",
    "sample": "generate text from a trained checkpoint",
    "plot": "draw a checkpoint's loss curves as an SVG picture",
    "exercise": "exercises beside the course: list, start (copy them out), check your answers",
    "inspect": "look inside a trained model: predictions, attention, training health",
}


def build_parser(command=None):
    """The parser of the whole command line; only `command`'s own options are added (its
    module imported), so the parser for `--help` imports no command at all."""
    parser = argparse.ArgumentParser(
        prog="micrograd-gpt",
        description="A tiny scalar autograd engine with a GPT built on top, in pure Python.")
    parser.add_argument("--version", action="version", version=f"micrograd-gpt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == command:
            module = importlib.import_module(f"{__name__}.{name}")
            module.add_arguments(p)
            p.set_defaults(run=module.run)
    return parser


def main(argv=None):
    """Run the command line with `argv` (default: sys.argv[1:]); returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        command = None  # argparse reports the unknown command, or prints the help
    parser = build_parser(command)
    args, extras = parser.parse_known_args(argv)
    if extras:  # arguments argparse did not know: a command may claim them, or it is an error
        take = getattr(args, "take_extras", None)
        if take is None:
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        take(parser, args, extras)
    if not getattr(args, "run", None):
        build_parser().print_help()
        return 0
    try:
        return args.run(args) or 0
    except ValueError as error:  # a bad input: one clear line
        return fail(command, error, status=2)
    except RuntimeError as error:  # the input was fine, something around it was not
        return fail(command, error, status=1)
    except KeyboardInterrupt:
        if is_first_process():
            print(f"micrograd-gpt {command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): stop quietly, as Unix tools do
        _silence_stdout()
        return 0


def fail(command, error, status=2):
    """Print `error` as `micrograd-gpt COMMAND: error: ...` on stderr; returns `status`.

    Under torchrun every process runs the same command and meets the same error: the first
    process alone prints it, once, with the exit status all of them stop with (torchrun then
    lists the processes that failed)."""
    if not is_first_process():
        return status
    processes = os.environ.get("WORLD_SIZE", "1")
    every = (f" (all {processes} processes stop with exit status {status})"
             if processes.strip() not in ("", "1") else "")
    print(f"micrograd-gpt {command}: error: {error}{every}", file=sys.stderr)
    return status


def is_first_process():
    """False in the processes torchrun starts after the first (RANK 1, 2, ...), which say
    nothing of their own; True everywhere else."""
    return os.environ.get("RANK", "0").strip() in ("", "0")


def _silence_stdout():
    """After a broken pipe, point stdout at /dev/null, so Python's own flush at exit does
    not fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass
