"""The autograd engine: `Value`, one scalar node of a computation graph.

Every operation on Values makes a new Value that remembers two things:

* its children (`_prev`): the Values it was computed from, in order;
* its local derivatives (`_local_grads`): d(this node) / d(child), one number per child,
  computed right away while the inputs are at hand.

`backward()` then needs only one generic loop. It visits the nodes from the output back
to the inputs and applies the chain rule along every edge:

    child.grad += local_derivative * node.grad

Each operation below is written with its derivative next to it, so the calculus can be
checked at a glance.

Gradient semantics (the same as PyTorch):

* Leaves (Values with no children: parameters, inputs) *accumulate*: two `backward()`
  calls add two contributions. Call `zero_grad()` on a model, or set `.grad = 0`, between
  steps.
* Interior nodes are reset to zero at the start of every `backward()`, so calling it
  twice on the same graph adds exactly the same amount to the leaves again. (micrograd
  keeps stale interior gradients, so its second call adds too much.)

Numbers: every Value holds a finite Python float. Non-finite numbers (nan, inf) are
refused where they enter (`Value(nan)`, `x + inf`), and operations that would create one
from finite inputs (exp overflow, log(0), x / 0, 0 ** -1, 1e200 * 1e200) raise a
`ValueError` naming the operation and the value.
"""
from __future__ import annotations

import contextlib
import math
import numbers
from itertools import count
from operator import attrgetter

__all__ = ["Value", "OperandError", "DivisionByZeroError", "FloatOverflowError", "topological_order", "no_grad", "enable_grad", "is_grad_enabled", "module_scope", "current_scope",
           "TemporarySetting"]

# ---------------------------------------------------------------------------------------
# Global switches. They are plain module globals (read on every node creation, so they
# must be cheap to read). Not thread-safe, like the rest of this teaching engine.
# ---------------------------------------------------------------------------------------
_grad_enabled = True      # False inside `no_grad()`: new nodes keep no children
_scope = ""               # dotted name of the module whose forward is running ("" = none)
_creation_counter = count()  # every node gets the next number: children are always older


class Value:
    """One scalar in a computation graph, with its gradient.

    >>> a = Value(2.0, label="a")
    >>> b = a * a + 3 * a          # b = a² + 3a
    >>> b.backward()               # db/da = 2a + 3
    >>> a.grad
    7.0

    Attributes:
        data: the number (a float).
        grad: d(output)/d(this), filled in by `backward()` on some output.
        label: an optional name, shown in graphs and traces.
    Internal (read by backward, graph drawing and traces):
        _prev: tuple of child Values; _local_grads: d(self)/d(child) for each child;
        _op: the operation's name; _scope: the module that created the node; _seq: the
        creation number (children are always created before their parents).
    """

    __slots__ = ("data", "grad", "_prev", "_local_grads", "_op", "label", "_scope", "_seq")

    def __init__(self, data, _children=(), _local_grads=(), _op="", label=""):
        # One cheap test on the hot path: `data - data` is 0.0 (falsy) for every finite
        # float and nan (truthy) for nan and ±inf.
        if type(data) is not float or data - data:
            data = _checked_number(data, _op)
        self.data = data
        self.grad = 0.0
        if _grad_enabled:
            self._prev = _children
            self._local_grads = _local_grads
        else:  # no_grad(): remember nothing, so no graph is built
            self._prev = ()
            self._local_grads = ()
        self._op = _op
        self.label = label
        self._scope = _scope
        self._seq = next(_creation_counter)

    # ---- arithmetic: the primitive operations, each with its local derivatives ----------

    def __add__(self, other):
        other = _as_value(other, "+")
        # d(a+b)/da = 1, d(a+b)/db = 1
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        other = _as_value(other, "*")
        # d(a*b)/da = b, d(a*b)/db = a
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent):
        if isinstance(exponent, Value):
            return self._pow_value(exponent)
        p = _as_float(exponent, "**")
        x = self.data
        if x == 0.0 and p < 0:
            raise DivisionByZeroError(f"0 ** {p:g} is a division by zero (the base is 0)")
        if x < 0 and not p.is_integer():
            raise ValueError(
                f"{x:g} ** {p:g}: a negative base to a fractional power is not a real number")
        if x == 0.0 and p < 1 and p != 0:
            raise ValueError(
                f"0 ** {p:g}: the derivative {p:g}·0**{p - 1:g} is infinite (the base is 0)")
        try:
            out = x ** p
            # d(x^p)/dx = p * x^(p-1)
            local = p * x ** (p - 1) if p != 0 else 0.0
        except OverflowError:
            raise FloatOverflowError(f"{x:g} ** {p:g} (or its derivative) overflows a float") from None
        return Value(out, (self,), (local,), f"**{p:g}")

    def _pow_value(self, exponent):
        a, b = self.data, exponent.data
        if a <= 0:
            raise ValueError(
                f"{a:g} ** Value: with a Value exponent the base must be positive, because "
                f"d(a^b)/db = a^b · ln(a) needs ln(a); got base {a:g}")
        try:
            out = a ** b
            # d(a^b)/da = b * a^(b-1),  d(a^b)/db = a^b * ln(a)
            locals_ = (b * a ** (b - 1), out * math.log(a))
        except OverflowError:
            raise FloatOverflowError(f"{a:g} ** {b:g} (or its derivative) overflows a float") from None
        return Value(out, (self, exponent), locals_, "**")

    def exp(self):
        x = self.data
        if x > 709.78:
            raise FloatOverflowError(
                f"exp({x:g}) overflows a float (the largest allowed input is ~709.78)")
        e = math.exp(x)
        # d(e^x)/dx = e^x
        return Value(e, (self,), (e,), "exp")

    def log(self):
        x = self.data
        if x <= 0:
            raise ValueError(f"log({x:g}) is undefined: log needs a positive input")
        # d(ln x)/dx = 1/x
        return Value(math.log(x), (self,), (1.0 / x,), "log")

    def sqrt(self):
        x = self.data
        if x <= 0:
            why = "its derivative 1/(2·sqrt(0)) is infinite" if x == 0 else "needs x >= 0"
            raise ValueError(f"sqrt({x:g}) is not allowed: {why}")
        s = math.sqrt(x)
        # d(sqrt x)/dx = 1 / (2 sqrt x)
        return Value(s, (self,), (0.5 / s,), "sqrt")

    def tanh(self):
        t = math.tanh(self.data)
        # d(tanh x)/dx = 1 - tanh(x)^2
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self):
        s, local = sigmoid_and_derivative(self.data)
        return Value(s, (self,), (local,), "sigmoid")

    def relu(self):
        x = self.data
        # d(relu x)/dx = 1 if x > 0 else 0   (0 at x = 0, as in PyTorch)
        return Value(x if x > 0 else 0.0, (self,), (1.0 if x > 0 else 0.0,), "relu")

    def gelu(self):
        """GELU, GPT-2's tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
        y, local = gelu_and_derivative(self.data)
        return Value(y, (self,), (local,), "gelu")

    def __abs__(self):
        x = self.data
        # d|x|/dx = sign(x)   (0 at x = 0, as in PyTorch)
        sign = 1.0 if x > 0 else (-1.0 if x < 0 else 0.0)
        return Value(abs(x), (self,), (sign,), "abs")

    def abs(self):
        """Same as `abs(value)`."""
        return self.__abs__()

    def __neg__(self):
        # d(-x)/dx = -1
        return Value(-self.data, (self,), (-1.0,), "neg")

    def __pos__(self):
        return self  # +x is x itself: no new node

    def __sub__(self, other):
        other = _as_value(other, "-")
        # d(a-b)/da = 1, d(a-b)/db = -1
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __truediv__(self, other):
        other = _as_value(other, "/")
        a, b = self.data, other.data
        if b == 0.0:
            raise DivisionByZeroError(f"division by zero: {a:g} / 0")
        out = a / b
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b² (written -(a/b)/b so a tiny b cannot underflow b²)
        return Value(out, (self, other), (1.0 / b, -out / b), "/")

    # ---- the reflected forms, so plain numbers work on either side ------------------------

    def __radd__(self, other):  # other + self
        return _as_value(other, "+") + self

    def __rsub__(self, other):  # other - self
        return _as_value(other, "-") - self

    def __rmul__(self, other):  # other * self
        return _as_value(other, "*") * self

    def __rtruediv__(self, other):  # other / self
        return _as_value(other, "/") / self

    def __rpow__(self, base):  # base ** self
        return _as_value(base, "**")._pow_value(self)

    # ---- comparisons compare the numbers (handy for max() and sorting) --------------------

    def __lt__(self, other):
        return self.data < _data_of(other)

    def __le__(self, other):
        return self.data <= _data_of(other)

    def __gt__(self, other):
        return self.data > _data_of(other)

    def __ge__(self, other):
        return self.data >= _data_of(other)

    # `==` stays identity (the default), so Values can live in sets and dicts as graph nodes.
    __hash__ = object.__hash__

    def __float__(self):
        return self.data

    def __repr__(self):
        name = f"{self.label}=" if self.label else ""
        op = f", op={self._op!r}" if self._op else ""
        return f"Value({name}{self.data:.6g}, grad={self.grad:.6g}{op})"

    # ---- backward ------------------------------------------------------------------------

    def backward(self, grad=1.0):
        """Fill in `.grad` of every node this Value depends on (reverse-mode autodiff).

        `grad` is d(final output)/d(self); the default 1.0 means "self is the output".
        Interior nodes start from zero; leaves accumulate (see the module docstring).
        """
        # Only interior nodes pass gradients on; leaves (parameters, inputs, constants) just
        # receive them. So the walk needs the interior nodes alone, in topological order.
        if not self._prev:  # a leaf on its own: d self/d self = 1, accumulated like any leaf
            self.grad += float(grad)
            return
        order = _interior_nodes_in_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = float(grad)
        # From the output back to the inputs: each node is finished (every parent has added
        # its share) before it passes its gradient on to its children.
        for node in reversed(order):
            g = node.grad
            if g:  # a zero gradient has nothing to pass on (below a relu, an unused path)
                for child, local in zip(node._prev, node._local_grads):
                    child.grad += local * g

    def zero_grad(self):
        """Set the gradient of this Value and of everything below it to 0."""
        for node in topological_order(self):
            node.grad = 0.0


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# The two activations whose formulas take more than one line: value and local derivative
# computed together, so the float path (functional.gelu on a float) uses the same lines.

def sigmoid_and_derivative(x):
    """(sigmoid(x), d sigmoid/dx) for a float x."""
    # written in the form that cannot overflow for large |x|
    s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    # d(sigmoid x)/dx = sigmoid(x) * (1 - sigmoid(x))
    return s, s * (1.0 - s)


def gelu_and_derivative(x):
    """(gelu(x), d gelu/dx) for a float x: GPT-2's tanh approximation
    gelu(x) = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)."""
    t = math.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
    # product rule: d/dx = 0.5(1+t) + 0.5x·(1-t²)·du/dx,  du/dx = √(2/π)(1 + 3·0.044715·x²)
    du_dx = _SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x)
    return 0.5 * x * (1.0 + t), 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du_dx


def topological_order(root):
    """All nodes `root` depends on (root included), each after all of its children.

    No recursion, so graphs of any depth work. Every node is created after its children,
    so sorting the reachable nodes by creation number is a valid topological order.
    """
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node._prev:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return sorted(seen, key=_creation_number)


def _interior_nodes_in_order(root):
    """Like topological_order, but only the nodes that have children (and root).

    Backward spends its time on edges: skipping the leaves here saves a set lookup for
    every edge into a parameter, which is half the edges of a Linear layer."""
    seen = {root}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if child._prev and child not in seen:
                seen.add(child)
                stack.append(child)
    return sorted(seen, key=_creation_number)


_creation_number = attrgetter("_seq")


# ---------------------------------------------------------------------------------------
# Checking what comes in
# ---------------------------------------------------------------------------------------
class DivisionByZeroError(ZeroDivisionError, ValueError):
    """x / 0 or 0 ** -1. Both a ZeroDivisionError (what Python raises) and a ValueError
    (what this library raises for every bad input), so either `except` catches it."""


class FloatOverflowError(OverflowError, ValueError):
    """A result (or its derivative) too large for a float: exp(1000), 10.0 ** 400,
    1e200 * 1e200. Both an OverflowError and a ValueError."""


class OperandError(TypeError, ValueError):
    """A non-number where a number was needed (`Value("3")`, `Value(1) + "a"`).

    It is both a TypeError (what Python raises for a wrong type) and a ValueError (what
    this library raises for every bad input), so either `except` catches it."""


def _as_float(x, op):
    """A finite float from a plain number, or a ValueError that says what was wrong."""
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


def _checked_number(data, op):
    """The slow path of Value(): convert a non-float, or explain a non-finite result."""
    if type(data) is not float:
        return _as_float(data, "Value()")
    if op:  # an operation produced it: float overflow in + or *, for example
        raise FloatOverflowError(
            f"the operation {op!r} produced {data!r}: the result overflows a float")
    raise ValueError(f"Value() got {data!r}: only finite numbers are allowed")


def _as_value(x, op):
    """Wrap a plain number as a constant Value, so every operand is a graph node."""
    if isinstance(x, Value):
        return x
    return Value(_as_float(x, op))


def _data_of(x):
    return x.data if isinstance(x, Value) else x


# ---------------------------------------------------------------------------------------
# Switches: no_grad() and module scopes
# ---------------------------------------------------------------------------------------
class TemporarySetting(contextlib.ContextDecorator):
    """Set one module-level switch for the length of a `with` block, then put the old value
    back, even if the block raises. Also a decorator: `@no_grad()` wraps a function in it.

    The switches stay plain module globals (not attributes of some settings object) because
    `Value()` reads them for every new node, and a global is the cheapest thing to read.
    `no_grad`, `enable_grad`, `module_scope` and `functional.fused_ops` are all this class.
    """

    def __init__(self, namespace, name, value):
        self._namespace = namespace  # the globals() of the module that owns the switch
        self._name = name
        self._value = value
        self._saved = []             # a stack, so one object can be entered twice

    def __enter__(self):
        self._saved.append(self._namespace[self._name])
        self._namespace[self._name] = self._value
        return self

    def __exit__(self, *exc):
        self._namespace[self._name] = self._saved.pop()
        return False


class no_grad(TemporarySetting):
    """Inside `with no_grad():` (or a function decorated `@no_grad()`), new Values keep no
    children and no derivatives: nothing is recorded, so nothing can be back-propagated,
    and inference is faster. The numbers are computed exactly as usual."""

    def __init__(self):
        super().__init__(globals(), "_grad_enabled", False)


class enable_grad(TemporarySetting):
    """Turn graph recording back on inside a `no_grad()` block."""

    def __init__(self):
        super().__init__(globals(), "_grad_enabled", True)


def is_grad_enabled():
    """True unless inside `no_grad()`."""
    return _grad_enabled


class module_scope(TemporarySetting):
    """`with module_scope("blocks.0.attn"):` tags every node created inside with that
    dotted name (read back as `value._scope`), so graph drawings can group nodes by
    the module that made them. Modules enter their scope automatically in `__call__`."""

    def __init__(self, name):
        super().__init__(globals(), "_scope", name)
        self.name = name


def current_scope():
    """The dotted name of the module whose forward is running now ("" outside modules)."""
    return _scope
