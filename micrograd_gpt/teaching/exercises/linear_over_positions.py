"""Checks exercise 17: a linear layer over T positions at once, as matrix operations, and
its backward: the step from scalars to tensors.

The forward is compared with `Linear` applied position by position; the backward (dX, dW,
db) with backward() on Σ dY·Y built from Values (`backward_parts`), where the shared
weights' gradient is a sum over the positions.
"""
from __future__ import annotations

import random

from ...autograd import functional as F
from .backward_parts import Spec, check_backward, weighted_sum
from .tutor import Wrong, close, run_part


def _cases(rng):
    cases = []
    for T, n, m in ((1, 3, 2), (4, 3, 2), (5, 2, 4), (3, 4, 4)):   # the last one square
        def matrix(rows, columns):
            return [[rng.gauss(0, 1) for _ in range(columns)] for _ in range(rows)]
        cases.append({"X": matrix(T, n), "W": matrix(m, n), "b": matrix(1, m)[0],
                      "dY": matrix(T, m)})
    return cases


CASES = _cases(random.Random(17))


def forward_values(v):
    """Y [T][m]: the layer at every position, from Values (the reference)."""
    return [F.linear(x, v["W"], v["b"]) for x in v["X"]]


SPEC = Spec(
    function="linear_backward", wrt={"X": "dX", "W": "dW", "b": "db"}, cases=CASES,
    scalar=lambda v: weighted_sum([g for row in v["dY"] for g in row],
                                  [y for row in forward_values(v) for y in row]),
    call=lambda f, case: f([list(r) for r in case["X"]], [list(r) for r in case["W"]],
                           [list(r) for r in case["dY"]]),
    hints={"dX": "row t of X meets W at position t only: exercise 8's dx at every "
                 "position, all rows at once; the result has X's shape, [T][n]",
           "dW": "W is used at every position, so its gradient adds up one term per "
                 "position (exercise 8's dW at each t); as one matrix product, which two "
                 "matrices, in which order, give W's shape?",
           "db": "b is added at every position: its gradient adds up over the positions"})


def check(learner):
    """The parts of exercise 17."""
    return [run_part("linear_forward", lambda: _check_forward(learner)),
            *check_backward(learner, SPEC)]


def _check_forward(learner):
    forward = learner.function("linear_forward")
    for case in CASES:
        right = [F.linear(x, case["W"], case["b"]) for x in case["X"]]
        got = forward([list(r) for r in case["X"]], [list(r) for r in case["W"]],
                      list(case["b"]))
        T, m = len(right), len(right[0])
        if not (isinstance(got, (list, tuple)) and len(got) == T and all(
                isinstance(row, (list, tuple)) and len(row) == m for row in got)):
            raise Wrong(f"for X [{T}][{len(case['X'][0])}] and W [{m}][{len(case['W'][0])}], "
                        f"Y must be [{T}][{m}]: a row per position, an entry per output; got "
                        f"{_shape(got)}")
        for t, (row, want) in enumerate(zip(got, right)):
            if not all(close(a, b, 1e-12) for a, b in zip(row, want)):
                raise Wrong(f"row {t} of Y is {_rounded(row)}, Linear gives {_rounded(want)} "
                            f"at that position: Y[t][i] = Σ_j X[t][j]·W[i][j] + b[i], so "
                            f"Y = X·Wᵀ + b")
    return f"Y = X·Wᵀ + b equals Linear at every position, {len(CASES)} shapes"


def _shape(value):
    if not isinstance(value, (list, tuple)):
        return type(value).__name__
    rows = {len(row) if isinstance(row, (list, tuple)) else None for row in value}
    if rows == {None}:
        return f"a flat list of {len(value)}"
    return f"[{len(value)}][{'/'.join(str(r) for r in sorted(rows, key=str))}]"


def _rounded(values):
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"
