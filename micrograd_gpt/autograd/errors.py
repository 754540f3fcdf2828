"""What can go wrong in the engine, and the errors that say so: bad inputs, numbers that
overflow, and gradients that stop being finite, traced back to the node where it happened.

The engine promises that every Value holds a finite float and every local derivative is
finite. The checks that keep that promise are here, so that `value.py` shows each
operation in a few lines: a check there is one call to a function of this file.

* Where numbers come in: `Value("3")`, `Value(nan)`, `x + "a"` and a node built by hand
  with the wrong shape of arguments are refused with one message that says what to write
  instead.
* Where numbers are made: an operation whose result or derivative overflows (`exp(1000)`,
  `1e200 * 1e200`, `log(5e-324)`'s derivative) raises a `FloatOverflowError` naming it.
* Where gradients flow: `backward()` checks each node's gradient once, before passing it
  on, and the leaves' at the end. A gradient that became inf or nan raises a
  `NonFiniteGradientError` that names the node, its module and how it happened.

Every error here is also a `ValueError` (what this library raises for every bad input),
and also the built-in exception Python itself would raise (TypeError, ZeroDivisionError,
OverflowError), so either `except` catches it.
"""
from __future__ import annotations

import math
import numbers
from operator import attrgetter

__all__ = ["OperandError", "DivisionByZeroError", "FloatOverflowError",
           "NonFiniteGradientError"]


class OperandError(TypeError, ValueError):
    """A non-number where a number was needed (`Value("3")`, `Value(1) + "a"`), or a
    node built by hand from the wrong kind of arguments. Both a TypeError and a ValueError."""


class DivisionByZeroError(ZeroDivisionError, ValueError):
    """x / 0 or 0 ** -1. Both a ZeroDivisionError and a ValueError."""


class FloatOverflowError(OverflowError, ValueError):
    """A result (or its derivative) too large for a float: exp(1000), 10.0 ** 400,
    1e200 * 1e200. Both an OverflowError and a ValueError."""


class NonFiniteGradientError(ArithmeticError, ValueError):
    """backward() met a gradient that is not a finite number (it overflowed to inf, or
    became nan). The message names the node and the edge it came through. Both an
    ArithmeticError and a ValueError."""


# ---- numbers coming in ----------------------------------------------------------------

def as_float(x, op):
    """A finite float from a plain number, or one error that says what was wrong and
    names `op` (the operation or argument that received it)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise OperandError(
            f"{op}: expected a number or a Value, got {type(x).__name__} {x!r}"
            + (" (convert text with float() first)" if isinstance(x, str) else ""))
    try:
        f = float(x)
    except OverflowError:
        raise FloatOverflowError(f"{op}: {x!r} is too large for a float") from None
    if f - f != 0.0:
        raise ValueError(f"{op}: got {f!r}; only finite numbers are allowed")
    return f


def checked_number(data):
    """The slow path of Value(): convert a number that is not a float, or say what is wrong."""
    if hasattr(data, "_local_grads"):  # a Value (this file does not import the class)
        raise OperandError(
            "Value(): data: the number you gave Value() is a Value, not a float. Its first "
            "argument is a plain number, computed from x.data (like math.sin(x.data)).")
    if type(data) is not float:
        return as_float(data, "Value()")
    raise ValueError(f"Value() got {data!r}: only finite numbers are allowed")


def bad_operand(x, op):
    """The error for an operand that Value() refused (it is not a finite number), in the
    words of the operation `op` that received it."""
    try:
        as_float(x, op)
    except ValueError as error:
        return error
    raise AssertionError(f"{x!r} was refused by Value() but not by as_float")


def check_node(children, local_grads):
    """Refuse the arguments of a node made by hand, `Value(data, children, local_grads,
    op)`, unless `children` is a tuple of Values (the inputs) and `local_grads` a tuple of
    as many plain numbers, d(node)/d(input). Each message is a lesson: the commonest slip
    is Python's own, `(x)` where the tuple `(x,)` was meant. (The engine's operations skip
    this: they make their nodes through a faster path.)"""
    from .value import Value  # (here, not at the top: value.py imports this file)
    if type(children) is not tuple:
        raise OperandError("Value(): children: " + _not_a_tuple(
            "the inputs you gave Value() are", children, Value, "x", "one input"))
    for i, child in enumerate(children):
        if not isinstance(child, Value):
            raise OperandError(
                f"Value(): children[{i}]: the inputs you gave Value() hold "
                f"{type(child).__name__} {child!r}, not a Value. The inputs are the Values "
                "themselves, (x,), not their numbers.")
    if type(local_grads) is not tuple:
        raise OperandError("Value(): local_grads: " + _not_a_tuple(
            "the local derivatives you gave Value() are", local_grads, Value, "d",
            "one derivative, one per input"))
    for i, local in enumerate(local_grads):
        _check_local_derivative(i, local, Value)
    if len(children) != len(local_grads):
        raise ValueError(
            f"Value(): you gave Value() {len(children)} input(s) but {len(local_grads)} "
            "local derivative(s) (local_grads). Give one derivative per input, in order.")


def _not_a_tuple(what, given, value_class, one, a_tuple_of_one):
    """The lesson for a tuple argument that is not a tuple."""
    if isinstance(given, value_class) or isinstance(given, numbers.Real):
        return (f"{what} not a tuple: `({one})` is just {one} in parentheses. Note the "
                f"comma: ({one},) is a tuple of {a_tuple_of_one}.")
    return (f"{what} {type(given).__name__} {given!r:.60}. Give a tuple, like ({one},) "
            "(note the comma).")


def _check_local_derivative(i, local, value_class):
    if isinstance(local, value_class):
        raise OperandError(
            f"Value(): local_grads[{i}]: the local derivative you gave Value() is a Value, "
            "not a number: it was computed from the Value x (like 1 / (1 + x)). Compute it "
            "from the number x.data instead (1 / (1 + x.data)): a Value there would make "
            "backward() build new graph nodes while it runs.")
    if isinstance(local, bool) or not isinstance(local, numbers.Real):
        raise OperandError(
            f"Value(): local_grads[{i}]: the local derivative you gave Value() is "
            f"{type(local).__name__} {local!r:.60}. It must be a plain number, d(result)/dx "
            "at x.data.")


# ---- numbers being made -----------------------------------------------------------------

def overflow(op, a, b, result):
    """The error for an operation on a and b whose result is not a finite float."""
    return FloatOverflowError(f"the operation {op!r} on {a.data:g} and {b.data:g} produced "
                              f"{result!r}: the result overflows a float")


def check_power(x, p, exponent_is_a_value=False):
    """Refuse x ** p where it or its derivative is not a real number: for a number p (the
    derivative p·x^(p-1)), 0 to a negative power, a negative base to a fractional power,
    0 ** 0.5; for a Value p (also d/dp = x^p·ln(x)), a base that is not positive."""
    if exponent_is_a_value and x <= 0:
        raise ValueError(f"{x:g} ** Value: with a Value exponent the base must be positive, "
                         f"because d(a^b)/db = a^b · ln(a) needs ln(a); got base {x:g}")
    if x == 0.0 and p < 0:
        raise DivisionByZeroError(f"0 ** {p:g} is a division by zero (the base is 0)")
    if x < 0 and not p.is_integer():
        raise ValueError(
            f"{x:g} ** {p:g}: a negative base to a fractional power is not a real number")
    if x == 0.0 and p < 1 and p != 0:
        raise ValueError(
            f"0 ** {p:g}: the derivative {p:g}·0**{p - 1:g} is infinite (the base is 0)")


def power_overflow(x, p):
    """The error for x ** p when it (or its derivative) is too large for a float."""
    return FloatOverflowError(f"{x:g} ** {p:g} (or its derivative) overflows a float")


def check_derivatives(locals_, what):
    """Refuse a local derivative that overflowed (1/x at x = 5e-324, for example): every
    derivative stored in a node is finite, so backward only has to watch the products."""
    for local in locals_:
        if not math.isfinite(local):
            raise FloatOverflowError(
                f"{what}: its derivative is {local!r}, too large for a float (the input is "
                "too close to where the derivative is infinite)")


# ---- gradients: the seed, each node once, and the error that says where and how --------

def seed_gradient(grad):
    """backward()'s `grad` as a finite float, or one ValueError saying what is wrong."""
    if type(grad) is float and math.isfinite(grad):
        return grad
    if isinstance(grad, bool) or not isinstance(grad, numbers.Real):
        raise OperandError(
            f"backward: grad must be a finite number (d output / d self, usually 1.0), got "
            f"{type(grad).__name__} {grad!r}"
            + (" (convert text with float() first)" if isinstance(grad, str) else ""))
    try:
        grad = float(grad)
    except OverflowError:
        raise FloatOverflowError(f"backward: grad {grad!r} is too large for a float") from None
    if not math.isfinite(grad):
        raise ValueError(f"backward: grad must be a finite number (d output / d self, "
                         f"usually 1.0), got {grad!r}")
    return grad


_grad_of = attrgetter("grad")


def check_leaf_gradients(leaves, order):
    """After backward: every leaf's gradient must be finite. One sum in C over all of them
    (a nan or inf anywhere makes the sum non-finite); only if it is not finite, look at
    each leaf to find which one (a sum of large finite gradients can overflow by itself)."""
    total = sum(map(_grad_of, leaves))
    if total - total:
        for leaf in leaves:
            if not math.isfinite(leaf.grad):
                raise non_finite_gradient(leaf, order)


def non_finite_gradient(node, order):
    """The error for `node`, whose gradient is inf or nan: which node, and how it got there.

    Every node that uses `node` (its parents, in `order`) has already passed its share:
    local derivative × its own gradient. Those gradients were finite (backward checks each
    node before it passes anything on), and the local derivatives are finite (checked when
    the node was made), so the culprit is a product that overflowed, or the sum of the
    shares, or a gradient that was not finite before this backward() began (a leaf)."""
    shares = [(parent, local, parent.grad) for parent in order
              for child, local in zip(parent._prev, parent._local_grads) if child is node]
    how = "it was already not finite before this backward() (leaves accumulate: reset " \
          "it with zero_grad())"
    for parent, local, g in shares:
        if not math.isfinite(local * g):
            how = (f"{describe(parent)} passes it local derivative × gradient = "
                   f"{local:.6g} × {g:.6g} = {local * g!r}, too large for a float")
            break
    else:
        total = sum(local * g for _, local, g in shares)
        if shares and not math.isfinite(total):
            how = f"the sum of its {len(shares)} shares (local derivative × gradient) overflows"
    return NonFiniteGradientError(
        f"backward: the gradient of {describe(node)} became {node.grad!r}: {how}. The "
        "numbers are too large somewhere above it (scale the inputs or the loss down, or "
        "lower the learning rate); the gradients of this backward() are incomplete.")


def describe(node):
    """A node in words, for error messages: its label or operation, data and module."""
    name = f"{node.label!r}" if node.label else (
        f"the result of {node._op!r}" if node._prev else "a constant")
    kind = "" if node._prev or not node.label else "a leaf, "
    scope = getattr(node, "_scope", "")  # the module that made it, if one was recorded
    where = f", in module {scope}" if scope else ""
    return f"{name} ({kind}data {node.data:.6g}{where})"
