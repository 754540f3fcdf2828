"""Checks exercise 1: sin, cos, log1p and softplus as Value operations.

For each operation: it returns a Value, with the right number, with x among its inputs,
and with a local derivative that agrees with the nudges (gradcheck) at several points.
Then all four together in one expression.
"""
from __future__ import annotations

import math

from ...autograd.value import Value
from .tutor import RIGHT, NotYet, Wrong, check_gradient, close, run_part

# name -> (the true function on floats, points to check at, a hint for a wrong slope)
OPERATIONS = {
    "sin": (math.sin, [-2.0, -0.5, 0.3, 1.7],
            "the slope of sin at x is the cosine of x (at x.data, not at the result)"),
    "cos": (math.cos, [-2.0, -0.5, 0.3, 1.7],
            "cos goes down where sin is positive: mind the sign"),
    "log1p": (math.log1p, [-0.5, 0.0, 0.3, 2.5],
              "d ln(u)/du = 1/u, and here u = 1 + x"),
    "softplus": (lambda x: math.log1p(math.exp(x)), [-3.0, -0.2, 0.5, 4.0],
                 "softplus(x) is ln(u) with u = 1 + e^x: the chain rule, d ln(u)/du "
                 "times du/dx. Check yours at x = 0, where the slope is exactly 1/2"),
}


def check(learner):
    """The parts of exercise 1."""
    parts = [run_part(name, lambda name=name: _check_operation(learner, name))
             for name in OPERATIONS]
    alone = all(part.state == RIGHT for part in parts)
    parts.append(run_part("all four together", lambda: _check_together(learner, alone)))
    return parts


def _check_operation(learner, name):
    op = learner.function(name)
    true_function, points, hint = OPERATIONS[name]
    for x in points:
        leaf = Value(x, label="x")
        out = op(leaf)
        if not isinstance(out, Value):
            raise Wrong(f"{name}(Value({x})) returned {type(out).__name__} {out!r}, not a "
                        f"Value: wrap the result, Value(result, (x,), (derivative,), {name!r})")
        if not close(out.data, true_function(x), 1e-12):
            raise Wrong(f"the value is wrong: {name}({x}) gave {out.data!r}, but it is "
                        f"{true_function(x)!r}")
        if leaf not in out._prev:
            raise Wrong(f"{name}(x) does not list x among its inputs, so backward() can "
                        f"never reach x: pass (x,) as the second argument of Value(...)")
    for x in points:
        table = check_gradient(op, [x], names=["x"], yours_label="backward()")
        if table:
            raise Wrong(f"the values are right, but the derivative is not. At x = {x}, "
                        f"backward() (your local derivative) and the nudges disagree:\n"
                        f"{table}\nHint: {hint}.")
    return (f"right values and derivatives at x = {', '.join(map(str, points))} "
            f"(checked with gradcheck)")


def _check_together(learner, alone):
    """The four in one expression; only once each is right alone (`alone`)."""
    if not alone:
        raise NotYet("waits for the four operations above: each must be right alone "
                     "before they are tried together")
    sin, cos, log1p, softplus = (learner.function(n) for n in OPERATIONS)

    def expression(x, y):
        return sin(x) * cos(y) + log1p(softplus(x * y))
    table = check_gradient(expression, [0.7, -1.3], names=["x", "y"],
                           yours_label="backward()")
    if table:
        raise Wrong("each works alone, but not together: for sin(x)·cos(y) + "
                    f"log1p(softplus(x·y)) at x = 0.7, y = -1.3:\n{table}")
    return ("sin(x)·cos(y) + log1p(softplus(x·y)): backward() agrees with the nudges "
            "through all four")
