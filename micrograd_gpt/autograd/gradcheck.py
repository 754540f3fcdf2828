"""Check `backward()` against finite differences, on any function of Values you write.

The numeric derivative of f at x is the central difference

    (f(x + h) - f(x - h)) / (2h)

whose error shrinks like h². If it agrees with the gradient `backward()` computed, the
derivatives of every operation in f are (very probably) right.

>>> from micrograd_gpt import Value, gradcheck
>>> result = gradcheck(lambda x, y: (x * y).tanh() + x ** 2, [0.5, -1.5])
>>> result.passed
True
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..common.checks import check_number, check_numbers
from .errors import NonFiniteGradientError
from .value import Value

__all__ = ["gradcheck", "GradcheckResult"]


@dataclass
class GradcheckResult:
    """What `gradcheck` found.

    analytic[i] is backward()'s gradient for input i, numeric[i] the finite-difference one;
    errors[i] = |analytic - numeric| / max(1, |numeric|) (absolute for small gradients,
    relative for large ones); worst_error is the largest; passed says worst_error <= tol.
    backward_error is the message of backward()'s NonFiniteGradientError when a gradient
    overflowed or became nan ("" otherwise): then the check fails, whatever the errors say.
    """

    inputs: list
    analytic: list
    numeric: list
    errors: list
    worst_error: float
    tol: float
    passed: bool = field(default=False)
    backward_error: str = ""

    def __str__(self):
        lines = [f"{'input':>5} {'x':>12} {'backward()':>16} {'numeric':>16} {'error':>9}"]
        for i, (x, a, n, e) in enumerate(zip(self.inputs, self.analytic, self.numeric,
                                             self.errors)):
            lines.append(f"{i:>5} {x:>12.6g} {a:>16.10g} {n:>16.10g} {e:>9.2e}")
        verdict = "PASSED" if self.passed else "FAILED"
        lines.append(f"{verdict}: worst error {self.worst_error:.2e} (tolerance {self.tol:.0e})")
        if self.backward_error:
            lines.append(self.backward_error)
        return "\n".join(lines)

    def __bool__(self):
        return self.passed


def gradcheck(func, inputs, h=1e-6, tol=1e-6):
    """Compare backward()'s gradients of `func` with central differences.

    func: takes one Value per input and returns a single Value.
    inputs: the numbers to check at.
    h: the finite-difference step; tol: the largest error that still passes.
    Returns a GradcheckResult (print it for a table; `result.passed` for the verdict).
    """
    if not callable(func):
        raise ValueError(f"func: must be a function of Values, got {type(func).__name__}")
    if hasattr(inputs, "__iter__") and not isinstance(inputs, (str, bytes, dict)):
        inputs = list(inputs)  # any sequence of numbers: a tuple, a range, an array
    xs = check_numbers("inputs", inputs)
    h = check_number("h", h, 0, low_open=True)
    tol = check_number("tol", tol, 0)

    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    out = func(*leaves)
    if not isinstance(out, Value):
        raise ValueError(
            f"gradcheck: func must return a single Value, got {type(out).__name__}")
    backward_error = ""
    try:
        out.backward()
    except NonFiniteGradientError as error:  # a derivative is nan or overflows: a failure
        backward_error = str(error)
    analytic = [leaf.grad for leaf in leaves]

    def f_at(values):
        return func(*[Value(v) for v in values]).data

    numeric = []
    for i in range(len(xs)):
        plus, minus = list(xs), list(xs)
        plus[i] += h
        minus[i] -= h
        numeric.append((f_at(plus) - f_at(minus)) / (2 * h))

    errors = [_error(a, n) for a, n in zip(analytic, numeric)]
    worst = max(errors)
    return GradcheckResult(xs, analytic, numeric, errors, worst, tol,
                           worst <= tol and not backward_error, backward_error)


def _error(analytic, numeric):
    """|a - n| / max(1, |n|); a nan or infinite gradient counts as an infinite error."""
    e = abs(analytic - numeric) / max(1.0, abs(numeric))
    return e if e == e else math.inf  # nan != nan
