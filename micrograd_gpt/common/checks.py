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

from ..autograd.value import Value

__all__ = ["check_int", "check_number", "check_choice", "check_bool", "check_rng",
           "check_token_ids", "check_numbers", "check_values", "check_fields", "check_str",
           "check_instance", "check_text", "describe", "finite_float"]


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


def finite_float(value):
    """`value` as a finite float, or None if it is not a finite real number (a bool, a
    string, nan, inf, or an int too big for a float)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except OverflowError:  # an int too big for a float
        return None
    return x if math.isfinite(x) else None


def check_number(name, value, low=-math.inf, high=math.inf, *, low_open=False,
                 high_open=False, none_ok=False):
    """`value` as a float if it is a finite real number between `low` and `high`.

    The bounds are included unless `low_open`/`high_open` say otherwise:
    `check_number("lr", lr, 0, low_open=True)` asks for lr > 0.
    """
    if value is None and none_ok:
        return None
    x = finite_float(value)
    ok = (x is not None and (x > low if low_open else x >= low)
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


def check_numbers(name, values, low=-math.inf, *, min_length=1, length=None):
    """`values` as a list of floats if it is a list (or tuple) of finite real numbers,
    each >= `low`, holding at least `min_length` of them (exactly `length` if given).

    The place to stop a nan or an inf before it spreads: logits to sample from, an
    optimizer's saved buffers, a loss history read from a file.
    """
    if not isinstance(values, (list, tuple)):
        raise ValueError(f"{name}: must be a list of numbers, got {_kind(values)}")
    if length is not None and len(values) != length:
        raise ValueError(f"{name}: must hold {length} number(s), got {len(values)}")
    if len(values) < min_length:
        raise ValueError(f"{name}: must hold at least {min_length} number(s), "
                         f"got {len(values)}")
    out = []
    for i, value in enumerate(values):
        x = finite_float(value)
        if x is None or x < low:
            wanted = "finite numbers" if low == -math.inf else f"finite numbers >= {low:g}"
            raise ValueError(f"{name}: must hold only {wanted}, got {describe(value)} "
                             f"at index {i}")
        out.append(x)
    return out


def check_values(name, values):
    """`values` as a list if it is a non-empty list of distinct `Value`s (the parameters an
    optimizer updates): plain numbers have no `.grad`, and a Value given twice would be
    updated twice per step."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name}: must be a list of Values (e.g. model.parameters()), "
                         f"got {_kind(values)}")
    values = list(values)
    if not values:
        raise ValueError(f"{name}: got an empty list; give at least one Value "
                         "(e.g. model.parameters())")
    seen = {}
    for i, v in enumerate(values):
        if not isinstance(v, Value):
            raise ValueError(f"{name}: must hold only Values (e.g. model.parameters()), "
                             f"got {describe(v)} ({_kind(v)}) at index {i}")
        if id(v) in seen:
            raise ValueError(f"{name}: the same Value is at index {seen[id(v)]} and {i}; "
                             "give each parameter once")
        seen[id(v)] = i
    return values


def check_fields(name, mapping, known, required=()):
    """`mapping` if it is a dict whose keys are all in `known` and include `required`:
    the shape of a record read from a file (a checkpoint, a saved optimizer state)."""
    if not isinstance(mapping, dict):
        raise ValueError(f"{name}: must be a dict (a JSON object), got {_kind(mapping)}")
    unknown = [k for k in mapping if k not in known]
    if unknown:
        raise ValueError(f"{name}: unknown field(s) {', '.join(describe(k) for k in unknown)}"
                         f" (known: {', '.join(known)})")
    missing = [k for k in required if k not in mapping]
    if missing:
        raise ValueError(f"{name}: missing field(s) {', '.join(missing)}")
    return mapping


def check_str(name, value, *, none_ok=False, empty_ok=False):
    """`value` if it is a string (non-empty unless `empty_ok`)."""
    if value is None and none_ok:
        return None
    if not isinstance(value, str) or not (value or empty_ok):
        raise ValueError(f"{name}: must be a{'' if empty_ok else ' non-empty'} string"
                         f"{' or None' if none_ok else ''}, got {describe(value)}")
    return value


def check_text(name, text, max_chars, why=""):
    """`text` if it is a string of at most `max_chars` characters; `why` says what the
    limit protects (", the most a page of predictions shows"). A model without a context
    limit would read a text of any length, in time and memory that grow with it: a
    limit at the door answers at once instead."""
    if not isinstance(text, str):
        raise ValueError(f"{name}: must be a string, got {describe(text)}")
    if len(text) > max_chars:
        raise ValueError(f"{name}: at most {max_chars:,} characters{why}, got "
                         f"{len(text):,}: {describe(text, 40)}")
    return text


def check_instance(name, value, kind, example):
    """`value` if it is an instance of `kind` (a class or a tuple of classes); `example`
    says what to give instead ("a GPT", "the Digraph from draw_dot")."""
    if not isinstance(value, kind):
        raise ValueError(f"{name}: must be {example}, got {describe(value)} ({_kind(value)})")
    return value


def _kind(value):
    """ "a list", "an int", "None": the type of `value`, for messages."""
    if value is None:
        return "None"
    type_name = type(value).__name__
    return f"{'an' if type_name[0] in 'aeiou' else 'a'} {type_name}"
