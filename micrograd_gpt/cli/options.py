"""Argument types shared by the commands: a bad value is a usage error (exit 2) that
argparse reports with the option's name."""
from __future__ import annotations

import argparse
import math


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
