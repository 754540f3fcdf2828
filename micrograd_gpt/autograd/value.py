"""The autograd engine: `Value`, one scalar node of a computation graph. Read this first.

Each operation makes a new Value that keeps its children (`_prev`) and the local
derivative toward each (`_local_grads`: d(node)/d(child), computed while the inputs are at
hand). Every operation below reads: compute, check, local derivative, return. Then
`backward()` is one loop, from the output back to the inputs, along every edge:

    child.grad += local_derivative * node.grad

Leaves accumulate over `backward()` calls (call `zero_grad()` between steps), interior
nodes restart from zero, as in PyTorch. Beside this file: errors.py (the checks that keep
every number finite), modes.py (no_grad), tape.py (backward without a search), fused.py
(one node for a whole sum), functional.py (lists of Values) and gradcheck.py.
"""
from __future__ import annotations

import math

from .activations import gelu_and_derivative, sigmoid_and_derivative
from .errors import (as_float, bad_operand, check_derivatives, check_leaf_gradients,
                     check_node, check_power, checked_number, non_finite_gradient,
                     overflow, power_overflow, seed_gradient, DivisionByZeroError,
                     FloatOverflowError)

__all__ = ["Value", "topological_order"]


class Value:
    """One scalar in a computation graph, with its gradient.

    >>> a = Value(2.0, label="a")
    >>> b = a * a + 3 * a          # b = a² + 3a;  b.backward() then sets a.grad = 2a + 3 = 7.0

    data: the number (a float); grad: d(output)/d(self), filled in by `backward()`; label:
    a name for graphs and traces. `Value(data, children, local_grads, op)` makes a node by
    hand, as an operation does: children a tuple of Values, local_grads a tuple of numbers
    d(node)/d(child), op the operation's name.
    """

    # Two slots most nodes never fill: _scope, the module that made the node (modes.py),
    # and _tape, the recorded nodes below a loss (tape.py).
    __slots__ = ("data", "grad", "_prev", "_local_grads", "_op", "label", "_scope", "_tape")

    def __init__(self, data, children=(), local_grads=(), op="", label=""):
        if type(data) is not float or data - data:  # x - x is 0.0 only for a finite float
            data = checked_number(data)
        if children is not _LEAF or local_grads is not _LEAF:  # a node made by hand: are
            check_node(children, local_grads)  # these tuples of Values and of numbers?
        self.data = data
        self.grad = 0.0
        self._prev = children
        self._local_grads = local_grads
        self._op = op
        self.label = label

    # ---- the operations, each with its local derivatives -----------------------------------

    def __add__(self, other):
        other = other if type(other) is Value else _as_value(other, "+")
        out = self.data + other.data
        if out - out:  # inf or nan: the sum of two finite floats overflowed
            raise overflow("+", self, other, out)
        # d(a+b)/da = 1, d(a+b)/db = 1
        return _node(out, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = other if type(other) is Value else _as_value(other, "*")
        out = self.data * other.data
        if out - out:
            raise overflow("*", self, other, out)
        # d(a*b)/da = b, d(a*b)/db = a
        return _node(out, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        x, p = self.data, as_float(exponent, "**")
        check_power(x, p)  # 0 ** -1, (-8) ** 0.5, 0 ** 0.5 (its derivative is infinite)
        try:
            out = x ** p
            # d(x^p)/dx = p * x^(p-1)
            local = p * x ** (p - 1) if p != 0 else 0.0
        except OverflowError:
            raise power_overflow(x, p) from None  # (a float ** raises, rather than giving inf)
        check_derivatives((local,), f"{x:g} ** {p:g}")
        return _node(out, (self,), (local,), f"**{p:g}")

    def _pow_value(self, exponent):
        a, b = self.data, exponent.data
        check_power(a, b, exponent_is_a_value=True)  # the base must be > 0, for ln(a)
        try:
            out = a ** b
            # d(a^b)/da = b * a^(b-1),  d(a^b)/db = a^b * ln(a)
            locals_ = (b * a ** (b - 1), out * math.log(a))
        except OverflowError:
            raise power_overflow(a, b) from None
        check_derivatives(locals_, f"{a:g} ** {b:g}")
        return _node(out, (self, exponent), locals_, "**")

    def exp(self):
        x = self.data
        if x > 709.78:
            raise FloatOverflowError(f"exp({x:g}) overflows a float (largest input: ~709.78)")
        e = math.exp(x)
        # d(e^x)/dx = e^x
        return _node(e, (self,), (e,), "exp")

    def log(self):
        x = self.data
        if x <= 0:
            raise ValueError(f"log({x:g}) is undefined: log needs a positive input")
        # d(ln x)/dx = 1/x   (too large for a float when x < 5.6e-309)
        local = 1.0 / x
        check_derivatives((local,), f"log({x:g})")
        return _node(math.log(x), (self,), (local,), "log")

    def sqrt(self):
        x = self.data
        if x <= 0:
            why = "its derivative 1/(2·sqrt(0)) is infinite" if x == 0 else "needs x >= 0"
            raise ValueError(f"sqrt({x:g}) is not allowed: {why}")
        s = math.sqrt(x)
        # d(sqrt x)/dx = 1 / (2 sqrt x)
        return _node(s, (self,), (0.5 / s,), "sqrt")

    def tanh(self):
        t = math.tanh(self.data)
        # d(tanh x)/dx = 1 - tanh(x)^2
        return _node(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        # d(sigmoid x)/dx = sigmoid(x) * (1 - sigmoid(x))   (activations.py)
        s, local = sigmoid_and_derivative(self.data)
        return _node(s, (self,), (local,), "sigmoid")

    def relu(self):
        x = self.data
        # d(relu x)/dx = 1 if x > 0 else 0   (0 at x = 0, as in PyTorch)
        return _node(x if x > 0 else 0.0, (self,), (1.0 if x > 0 else 0.0,), "relu")

    def gelu(self):
        """GELU, GPT-2's tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
        y, local = gelu_and_derivative(self.data)  # the product rule, in activations.py
        return _node(y, (self,), (local,), "gelu")

    def __abs__(self):
        x = self.data
        # d|x|/dx = sign(x)   (0 at x = 0, as in PyTorch)
        return _node(abs(x), (self,), (1.0 if x > 0 else (-1.0 if x < 0 else 0.0),), "abs")

    abs = __abs__

    def __neg__(self):
        # d(-x)/dx = -1
        return _node(-self.data, (self,), (-1.0,), "neg")

    def __pos__(self):
        return self  # +x is x itself: no new node

    def __sub__(self, other):
        other = other if type(other) is Value else _as_value(other, "-")
        out = self.data - other.data
        if out - out:
            raise overflow("-", self, other, out)
        # d(a-b)/da = 1, d(a-b)/db = -1
        return _node(out, (self, other), (1.0, -1.0), "-")

    def __truediv__(self, other):
        other = other if type(other) is Value else _as_value(other, "/")
        a, b = self.data, other.data
        if b == 0.0:
            raise DivisionByZeroError(f"division by zero: {a:g} / 0")
        out = a / b
        if out - out:
            raise overflow("/", self, other, out)
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b² (written -(a/b)/b so a tiny b cannot underflow b²)
        locals_ = (1.0 / b, -out / b)
        check_derivatives(locals_, f"{a:g} / {b:g}")
        return _node(out, (self, other), locals_, "/")

    # the reflected forms, so that a plain number works on either side: 2 * x, 1 - x, ...
    def __radd__(self, other):
        return _as_value(other, "+") + self

    def __rsub__(self, other):
        return _as_value(other, "-") - self

    def __rmul__(self, other):
        return _as_value(other, "*") * self

    def __rtruediv__(self, other):
        return _as_value(other, "/") / self

    def __rpow__(self, base):
        return _as_value(base, "**")._pow_value(self)

    # comparisons compare the numbers (for max(), sorting); == stays identity (for sets)
    def __lt__(self, other):
        return self.data < (other.data if isinstance(other, Value) else other)

    def __le__(self, other):
        return self.data <= (other.data if isinstance(other, Value) else other)

    def __gt__(self, other):
        return self.data > (other.data if isinstance(other, Value) else other)

    def __ge__(self, other):
        return self.data >= (other.data if isinstance(other, Value) else other)

    def __float__(self):
        return self.data

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        op = f", op={self._op!r}" if self._op else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g}{op})"

    def detach(self):
        """A new leaf with the same number and no children: what is computed from it
        passes no gradient back into the graph that made self (as PyTorch's `detach`)."""
        return Value(self.data)

    def backward(self, grad=1.0):
        """Fill in `.grad` of every node this Value depends on (reverse-mode autodiff).

        `grad` is d(final output)/d(self); the default 1.0 means "self is the output". A
        gradient that overflows stops it with a `NonFiniteGradientError` naming the node.
        """
        grad = seed_gradient(grad)
        if not self._prev:  # a leaf on its own: d self/d self = 1, accumulated like any leaf
            self.grad += grad
            check_leaf_gradients((self,), ())
            return
        tape = getattr(self, "_tape", None)
        if tape is not None:  # built by @record_for_backward: the order is known (tape.py)
            return tape.backward_from(self, grad)
        leaves = {}  # only interior nodes pass gradients on; leaves just receive them
        order = topological_order(self, leaves)
        propagate(self, grad, order)
        check_leaf_gradients(leaves, order)

    def zero_grad(self):
        """Set the gradient of this Value and of everything below it to 0."""
        for node in topological_order(self):
            node.grad = 0.0


def propagate(root, grad, order):
    """The chain rule over `order` (interior nodes, each after its children, root last):
    gradients start at 0 (root's at `grad`); then, from the output back, each node, once
    all its parents have added their shares, passes local derivative × gradient on."""
    for node in order:
        node.grad = 0.0
    root.grad = grad
    for node in reversed(order):
        g = node.grad
        if g:  # a zero gradient has nothing to pass on (below a relu, an unused path)
            if g - g:  # inf or nan: one test per node, none per edge
                raise non_finite_gradient(node, order)
            for child, local in zip(node._prev, node._local_grads):
                child.grad += local * g


def topological_order(root, leaves=None):
    """Every node `root` depends on (root last), each after all of its children.

    A depth-first walk without recursion (any depth works): `path` holds the nodes being
    walked, `todo` the children each has left. Given a dict `leaves`, the leaves go there
    instead (backward walks only the interior nodes, and checks the leaves at the end).
    """
    order = []
    listed = {root}
    path, todo = [root], [iter(root._prev)]
    while todo:
        for child in todo[-1]:
            if leaves is not None and not child._prev:
                leaves[child] = None  # (a dict: an ordered set)
            elif child not in listed:
                listed.add(child)
                path.append(child)
                todo.append(iter(child._prev))
                break
        else:  # every child is listed: now the node itself
            todo.pop()
            order.append(path.pop())
    return order


_new = object.__new__
_LEAF = ()  # a leaf's children and local derivatives (Python has one empty tuple)


def _node(data, children, local_grads, op):
    """An operation's result: Value(data, children, local_grads, op) without the checks of
    a node made by hand, so faster. (modes.py swaps in a version that drops the children
    under no_grad, tags the module or joins a tape; fused.py makes its nodes here too.)"""
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node._prev = children
    node._local_grads = local_grads
    node._op = op
    node.label = ""
    return node


def _as_value(x, op):
    """A plain number as a constant Value (a leaf); a Value as it is."""
    try:
        return Value(x)  # Value() checks the number...
    except ValueError:
        if isinstance(x, Value):  # (a Value of a subclass of Value)
            return x
        raise bad_operand(x, op) from None  # ...and this says which operation got it
