"""Argument types and options shared by the commands: a bad value is a usage error (exit 2)
that argparse reports with the option's name."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..common.files import check_output_path
from ..common.install import INSTALL_TORCH
from ..viz.expression import parse_expression


def count(minimum):
    """An argparse type: an integer >= minimum."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def positive_float(text, upper=None):
    """An argparse type: a finite number > 0 (and <= upper when given)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < math.inf or (upper is not None and value > upper):
        allowed = f"in (0, {upper:g}]" if upper is not None else "a finite number > 0"
        raise argparse.ArgumentTypeError(f"must be {allowed}, got {text}")
    return value


def probability(text):
    """An argparse type: a number in (0, 1]."""
    return positive_float(text, upper=1.0)


def add_engine_arguments(p, what):
    """--engine, --device, --dtype and --threads: which engine runs the model (engines.py)."""
    p.add_argument("--engine", choices=("values", "torch"), default="values",
                   help=f"what to {what}: 'values' (pure Python, the default) or 'torch' "
                        f"(PyTorch: fast, CPU or GPU; {INSTALL_TORCH})")
    p.add_argument("--device", default=None, metavar="cpu|cuda|cuda:N",
                   help="with --engine torch: where to compute (default: cuda if there is a "
                        "GPU, else cpu; cuda:N for the GPU numbered N)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="with --engine torch: the number type (default float32; float64 "
                        "gives the Value engine's numbers)")
    p.add_argument("--threads", type=count(1), default=None,
                   help="with --engine torch on a CPU: threads per process (default 1: for "
                        "models this small, more threads mostly wait for each other; at "
                        "most the machine's CPUs)")


def output_file(path, option, inputs=()):
    """Check the output `path` of option `option` before any work starts (see
    `files.check_output_path`; `inputs` are the files the command reads, which it must not
    overwrite). Returns (path, whether a file is already there, to say it is replaced)."""
    return Path(path), check_output_path(path, option, inputs=inputs).exists()


def wrote(path, existed):
    """ "wrote PATH", saying so when it replaced a file that was there."""
    return f"wrote {path}" + (" (it replaced the file that was there)" if existed else "")


def take_expression(parser, args, extras):
    """For commands with an EXPRESSION: an expression that starts with a minus ("-a*b")
    looks like an option to argparse, which leaves it over. The one leftover argument that
    starts with a single "-" and reads as an expression is the expression; anything else
    left over is an error, reported as argparse reports it."""
    text = extras[0]
    if (len(extras) == 1 and args.expression is None and text.startswith("-")
            and not text.startswith("--")):
        try:
            parse_expression(text)
        except ValueError:
            pass
        else:
            args.expression = text
            return
    parser.error(f"unrecognized arguments: {' '.join(extras)}")


def checkpoint_given(path):
    """`--checkpoint` as given, or (when it was left out) a ValueError that says which to
    give: the default run's checkpoint when it is there, else those in out/, else how to
    train one."""
    if path is not None:
        return path
    from ..training.settings import TrainConfig  # only now: a missing option needs it
    from .train import default_out
    default = default_out(TrainConfig.from_preset())
    found = sorted(str(p) for p in Path("out").glob("*.json")) if Path("out").is_dir() else []
    if str(default) in found:
        hint = f"the default run's is here: --checkpoint {default}"
    elif found:
        hint = f"found here: {', '.join(found[:5])}{', ...' if len(found) > 5 else ''}"
    else:
        hint = f"`micrograd-gpt train` trains one and writes {default}"
    raise ValueError(f"--checkpoint: which trained model? Give --checkpoint PATH, a file "
                     f"from `micrograd-gpt train`; {hint}")


class ExamplesFormatter(argparse.HelpFormatter):
    """argparse's help, except that an epilog starting with "examples:" keeps its lines:
    one command a line, as they are typed (joined into one paragraph they read like one
    long shell pipeline)."""

    def _fill_text(self, text, width, indent):
        if text.startswith("examples:"):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)
