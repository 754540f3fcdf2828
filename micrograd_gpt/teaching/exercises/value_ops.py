"""Checks exercise 1: sin, cos, log1p and softplus as Value operations.

For each operation: it returns a Value built the way backward() needs it (a float as its
number, a tuple of input Values, a tuple of plain-number local derivatives, one per
input), with the right number, with x among its inputs, and with a local derivative that
agrees with the nudges (gradcheck) at several points. Then all four together in one
expression.

The slips of Python itself are named at the learner's line: `(x)` is x, not a tuple (note
the comma: `(x,)`), and a derivative computed from the Value x instead of the number
x.data is a Value, which would make backward() build graph nodes while it runs.
"""
from __future__ import annotations

import math
import numbers

from ...autograd.value import Value
from .tutor import NotYet, Wrong, brief, check_gradient, close, run_part

# name -> (the true function on floats, points to check at, a hint for a wrong slope)
OPERATIONS = {
    "sin": (math.sin, [-2.0, -0.5, 0.3, 1.7],
            "the slope of sin at x is the cosine of x (at x.data, not at the result)"),
    "cos": (math.cos, [-2.0, -0.5, 0.3, 1.7],
            "cos goes down where sin is positive: mind the sign"),
    "log1p": (math.log1p, [-0.5, 0.0, 0.3, 2.5],
              "d ln(u)/du = 1/u, and here u = 1 + x"),
    "softplus": (lambda x: math.log1p(math.exp(x)), [-3.0, -0.2, 0.5, 4.0],
                 "chain rule: d ln(1 + e^x)/dx = e^x / (1 + e^x)"),
}


def check(learner):
    """The parts of exercise 1."""
    parts = [run_part(name, lambda name=name: _check_operation(learner, name))
             for name in OPERATIONS]
    parts.append(run_part("all four together", lambda: _check_together(learner)))
    return parts


def _check_operation(learner, name):
    op = learner.function(name)
    true_function, points, hint = OPERATIONS[name]
    for x in points:
        leaf = Value(x, label="x")
        out = op(leaf)
        if not isinstance(out, Value):
            raise Wrong(f"{name}(Value({x})) returned {type(out).__name__} {brief(out)}, "
                        f"not a Value: wrap the result, Value(result, (x,), (derivative,), "
                        f"{name!r})")
        slip = node_slip(out)
        if slip:
            raise Wrong(slip + learner.line_calling(name, "Value("))
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


def _check_together(learner):
    sin, cos, log1p, softplus = ops = [learner.function(n) for n in OPERATIONS]
    unfinished = []
    for name, op in zip(OPERATIONS, ops):
        try:
            node = op(Value(0.5))
        except NotYet:
            raise NotYet("waits for the four operations above") from None
        except Wrong:  # Value() refused how the node was made: said above, at its line
            unfinished.append(name)
            continue
        if not isinstance(node, Value) or node_slip(node):
            unfinished.append(name)
    if unfinished:  # said above, part by part: not again here
        named = ", ".join(unfinished[:-1]) + " and " * (len(unfinished) > 1) + unfinished[-1]
        raise Wrong(f"waits for {named} above")

    def expression(x, y):
        return sin(x) * cos(y) + log1p(softplus(x * y))
    table = check_gradient(expression, [0.7, -1.3], names=["x", "y"],
                           yours_label="backward()")
    if table:
        raise Wrong("each works alone, but not together: for sin(x)·cos(y) + "
                    f"log1p(softplus(x·y)) at x = 0.7, y = -1.3:\n{table}")
    return ("sin(x)·cos(y) + log1p(softplus(x·y)): backward() agrees with the nudges "
            "through all four")


# ---------------------------------------------------------------------------------------
# The slips that build a node backward() cannot use (Value() itself refuses them, with the
# same lessons, in autograd/errors.py; these catch a node made some other way)
# ---------------------------------------------------------------------------------------
def node_slip(node):
    """What is wrong with how `node` was built, as a lesson, or None when nothing is:
    its number must be a float, its inputs a tuple of Values, its local derivatives a
    tuple of plain numbers, one per input."""
    return (_number_slip(node.data) or _inputs_slip(node._prev)
            or _derivatives_slip(node._local_grads, len(node._prev)
                                 if isinstance(node._prev, tuple) else None))


def _number_slip(data):
    if isinstance(data, Value):
        return ("the number you gave Value() is a Value, not a float.\n"
                "Its first argument is the plain number of the result, computed from x.data "
                "(like math.sin(x.data)).")
    if not _is_number(data):
        return (f"the number you gave Value() is {type(data).__name__} {brief(data)}.\n"
                "Its first argument must be a float, the result computed from x.data.")
    return None


def _inputs_slip(children):
    if isinstance(children, Value):
        return ("the inputs you gave Value() are not a tuple: `(x)` is just x in "
                "parentheses.\nNote the comma: (x,) is a tuple of one input.")
    if not isinstance(children, tuple):
        return (f"the inputs you gave Value() are {type(children).__name__} "
                f"{brief(children)}.\nGive a tuple of the input Values, like (x,).")
    for child in children:
        if not isinstance(child, Value):
            return (f"the inputs you gave Value() hold {type(child).__name__} {brief(child)}, "
                    "not a Value.\nThe inputs are the Values themselves, (x,), not their "
                    "numbers.")
    return None


def _derivatives_slip(grads, num_inputs):
    if isinstance(grads, Value) or _is_number(grads):
        return ("the local derivatives you gave Value() are not a tuple: `(d)` is just d "
                "in parentheses.\nNote the comma: (d,) is a tuple of one derivative, one "
                "per input.")
    if not isinstance(grads, tuple):
        return (f"the local derivatives you gave Value() are {type(grads).__name__} "
                f"{brief(grads)}.\nGive a tuple with one number per input, like (d,).")
    for grad in grads:
        if isinstance(grad, Value):
            return ("the local derivative you gave Value() is a Value, not a number: it was "
                    "computed from the Value x (like 1 / (1 + x)).\nCompute it from the "
                    "number x.data instead (1 / (1 + x.data)): a Value there would make "
                    "backward() build new graph nodes while it runs.")
        if not _is_number(grad):
            return (f"the local derivative you gave Value() is {type(grad).__name__} "
                    f"{brief(grad)}.\nIt must be a plain number, d(result)/dx at x.data.")
    if num_inputs is not None and len(grads) != num_inputs:
        return (f"you gave Value() {num_inputs} input(s) but {len(grads)} local "
                "derivative(s).\nGive one derivative per input, in the same order.")
    return None


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)
