"""Checking arguments: one function per kind of check, shared by every public entry point.

A bad argument should stop a call at the door with one line that names the argument, says
what was expected and shows what came instead:

    steps: must be an integer >= 1, got 0
    temperature: must be a finite number > 0, got nan
    norm: must be one of 'layernorm', 'rmsnorm', got 'batchnorm'

rather than an IndexError or a ZeroDivisionError from deep inside. Every error is a
`ValueError` (Python's usual type for a bad value), so a caller needs one `except`.

Two rules hold for every check here:

* `True`/`False` are not numbers (in Python `True == 1`, but `steps=True` is a mistake);
* numbers must be finite: nan and ±inf are refused wherever a number is expected.
"""
from __future__ import annotations

import math
import numbers
import random

__all__ = ["check_int", "check_number", "check_choice", "check_bool", "check_rng",
           "check_token_ids", "describe"]


def describe(value, limit=60):
    """`repr(value)`, cut to `limit` characters (a huge list should not flood a message)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_int(name, value, low=None, high=None, *, none_ok=False):
    """`value` if it is an int in [low, high] (either bound may be None: no limit)."""
    if value is None and none_ok:
        return None
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if ok:
        ok = (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        raise ValueError(f"{name}: must be {_int_range(low, high)}"
                         f"{' or None' if none_ok else ''}, got {describe(value)}")
    return int(value)


def _int_range(low, high):
    if low is not None and high is not None:
        return f"an integer in [{low}, {high}]"
    if low is not None:
        return f"an integer >= {low}"
    if high is not None:
        return f"an integer <= {high}"
    return "an integer"


def check_number(name, value, low=-math.inf, high=math.inf, *, low_open=False,
                 high_open=False, none_ok=False):
    """`value` as a float if it is a finite real number between `low` and `high`.

    The bounds are included unless `low_open`/`high_open` say otherwise:
    `check_number("lr", lr, 0, low_open=True)` asks for lr > 0.
    """
    if value is None and none_ok:
        return None
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        try:
            x = float(value)
        except OverflowError:  # an int too big for a float
            ok = False
        else:
            ok = (math.isfinite(x) and (x > low if low_open else x >= low)
                  and (x < high if high_open else x <= high))
    if not ok:
        raise ValueError(f"{name}: must be {_number_range(low, high, low_open, high_open)}"
                         f"{' or None' if none_ok else ''}, got {describe(value)}")
    return x


def _number_range(low, high, low_open, high_open):
    has_low, has_high = low != -math.inf, high != math.inf
    if has_low and has_high:
        return (f"a number in {'(' if low_open else '['}{low:g}, {high:g}"
                f"{')' if high_open else ']'}")
    if has_low:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    if has_high:
        return f"a finite number {'<' if high_open else '<='} {high:g}"
    return "a finite number"


def check_choice(name, value, choices):
    """`value` if it is one of `choices` (compared with ==, types included)."""
    choices = tuple(choices)
    if not any(type(value) is type(c) and value == c for c in choices):
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name}: must be one of {options}, got {describe(value)}")
    return value


def check_bool(name, value):
    """`value` if it is True or False (not 0, 1 or "yes")."""
    if not isinstance(value, bool):
        raise ValueError(f"{name}: must be True or False, got {describe(value)}")
    return value


def check_rng(name, rng):
    """A `random.Random` to draw from: `rng` itself, or a new `random.Random(0)` for None
    (so a call without an rng is still repeatable). Never the global `random` module."""
    if rng is None:
        return random.Random(0)
    if not isinstance(rng, random.Random):
        raise ValueError(f"{name}: must be a random.Random (e.g. random.Random(0)) or None, "
                         f"got {describe(rng)}")
    return rng


def check_token_ids(name, tokens, vocab_size, min_length=1, max_length=None):
    """`tokens` if it is a list (or tuple) of min_length..max_length ints in [0, vocab_size)."""
    if not isinstance(tokens, (list, tuple)):
        raise ValueError(f"{name}: must be a list of token ids, got {type(tokens).__name__}")
    if len(tokens) < min_length:
        raise ValueError(f"{name}: must hold at least {min_length} token(s), got {len(tokens)}")
    if max_length is not None and len(tokens) > max_length:
        raise ValueError(f"{name}: must hold at most {max_length} tokens, got {len(tokens)}")
    for i, token in enumerate(tokens):
        if isinstance(token, bool) or not isinstance(token, int) or not 0 <= token < vocab_size:
            raise ValueError(f"{name}: token ids must be ints in [0, {vocab_size - 1}] "
                             f"(vocab_size={vocab_size}), got {describe(token)} at index {i}")
    return tokens
