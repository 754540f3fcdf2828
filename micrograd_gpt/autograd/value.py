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

Order: `backward()` first finds the interior nodes below the output, each after its
children (a depth-first walk: no recursion, so any depth works), then walks them from the
output back. A training step can skip that search: inside `with Tape() as tape:` every
interior node is listed as it is made, and the reverse of that list is already an order
for backward (`tape.backward(loss)`; the trainer does this).

Numbers: every Value holds a finite Python float, and every local derivative is finite.
Non-finite numbers (nan, inf) are refused where they enter (`Value(nan)`, `x + inf`), and
operations that would create one from finite inputs (exp overflow, log(0), x / 0,
0 ** -1, 1e200 * 1e200, a derivative like 1/x at x = 5e-324) raise a `ValueError` naming
the operation and the value. Gradients are checked too, without a test per edge:
`backward()` refuses a seed gradient that is not a finite number, looks at each node's
gradient once (when it is about to pass it on, and the leaves' at the end), and raises a
`NonFiniteGradientError` naming the first node whose gradient overflowed, and how.
"""
from __future__ import annotations

import contextlib
import math
import numbers
from operator import attrgetter

__all__ = ["Value", "OperandError", "DivisionByZeroError", "FloatOverflowError",
           "NonFiniteGradientError", "topological_order", "no_grad", "enable_grad",
           "is_grad_enabled", "module_scope", "current_scope", "call_in_scope",
           "record_scopes", "is_recording_scopes", "scope_of", "Tape", "TemporarySetting"]

# ---------------------------------------------------------------------------------------
# Global switches. They are plain module globals (read on every node creation, so they
# must be cheap to read). Not thread-safe, like the rest of this teaching engine.
# ---------------------------------------------------------------------------------------
_grad_enabled = True      # False inside `no_grad()`: new nodes keep no children
_scope = ""               # dotted name of the module whose forward is running ("" = none)
_recording_scopes = False  # True inside `record_scopes()`: modules tag their nodes
_tape = None              # inside a `Tape`: the list its interior nodes are appended to



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
        _op: the operation's name ("" for a leaf); _scope: the module that made the node
        ("" unless it was made inside `record_scopes()`; also `scope_of(node)`).

    Creating a node is the hot path of the whole library (a training step makes tens of
    thousands), so `__init__` does only what every node needs: the operations check their
    own results (only those that can overflow), and the switches `no_grad()` and
    `record_scopes()` swap in an `__init__` of their own while they are on (see
    `_choose_init`), so the usual node pays for neither. benchmarks/engine.py measures
    what a node costs against the simplest Value one can write.
    """

    __slots__ = ("data", "grad", "_prev", "_local_grads", "_op", "label", "_scope_tag")

    @property
    def _scope(self):
        """The dotted name of the module that made this node, "" if none (or if it was
        made outside record_scopes()). Stored only when there is one: see `__init__`."""
        return getattr(self, "_scope_tag", "")

    def __init__(self, data, _children=(), _local_grads=(), _op="", label=""):
        # A leaf (an input, a parameter, a constant) is checked here: a finite float
        # (`data - data` is 0.0 for a finite float, nan for inf and nan). An operation's
        # result is checked by the operation itself, where it can overflow.
        if not _op and (type(data) is not float or data - data):
            data = _checked_number(data)
        self.data = data
        self.grad = 0.0
        self._prev = _children
        self._local_grads = _local_grads
        self._op = _op
        self.label = label

    # ---- arithmetic: the primitive operations, each with its local derivatives ----------

    def __add__(self, other):
        if type(other) is not Value:  # a plain number becomes a constant node
            try:
                other = Value(other)  # (Value() checks the number; this says where it was)
            except ValueError:
                raise _bad_operand(other, "+") from None
        out = self.data + other.data
        # `x - x` is 0.0 (false) for every finite float and nan (true) for inf and nan:
        # the cheapest test there is
        if out - out:  # inf or nan: the sum of two finite floats overflowed
            raise _overflow("+", self, other, out)
        # d(a+b)/da = 1, d(a+b)/db = 1
        return Value(out, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other):
        if type(other) is not Value:
            try:
                other = Value(other)
            except ValueError:
                raise _bad_operand(other, "*") from None
        out = self.data * other.data
        if out - out:
            raise _overflow("*", self, other, out)
        # d(a*b)/da = b, d(a*b)/db = a
        return Value(out, (self, other), (other.data, self.data), "*")

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
        _check_derivatives((local,), f"{x:g} ** {p:g}")
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
        _check_derivatives(locals_, f"{a:g} ** {b:g}")
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
        # d(ln x)/dx = 1/x   (too large for a float when x < 5.6e-309)
        local = 1.0 / x
        _check_derivatives((local,), f"log({x:g})")
        return Value(math.log(x), (self,), (local,), "log")

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
        if type(other) is not Value:
            try:
                other = Value(other)
            except ValueError:
                raise _bad_operand(other, "-") from None
        out = self.data - other.data
        if out - out:
            raise _overflow("-", self, other, out)
        # d(a-b)/da = 1, d(a-b)/db = -1
        return Value(out, (self, other), (1.0, -1.0), "-")

    def __truediv__(self, other):
        if type(other) is not Value:
            try:
                other = Value(other)
            except ValueError:
                raise _bad_operand(other, "/") from None
        a, b = self.data, other.data
        if b == 0.0:
            raise DivisionByZeroError(f"division by zero: {a:g} / 0")
        out = a / b
        if out - out:
            raise _overflow("/", self, other, out)
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b² (written -(a/b)/b so a tiny b cannot underflow b²)
        locals_ = (1.0 / b, -out / b)
        _check_derivatives(locals_, f"{a:g} / {b:g}")
        return Value(out, (self, other), locals_, "/")

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

        `grad` is d(final output)/d(self); the default 1.0 means "self is the output". It
        must be a finite number. Interior nodes start from zero; leaves accumulate (see
        the module docstring). A gradient that overflows (inf or nan) stops backward with
        a `NonFiniteGradientError` that names the node and the edge it came through.
        """
        grad = _seed_gradient(grad)
        if not self._prev:  # a leaf on its own: d self/d self = 1, accumulated like any leaf
            self.grad += grad
            _check_leaf_gradients((self,), ())
            return
        # Only interior nodes pass gradients on; leaves (parameters, inputs, constants) just
        # receive them. So the walk needs the interior nodes, in topological order.
        order, leaves = _graph_below(self)
        _propagate(self, grad, order)
        _check_leaf_gradients(leaves, order)

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
    y = 0.5 * x * (1.0 + t)
    if t * t == 1.0:
        # tanh is saturated (|u| > ~19), so 1 - t² = 0 and the second term of the
        # derivative is 0. Written apart because for |x| > ~1e102 x³ overflows to inf,
        # and 0 · inf would be nan.
        return y, 0.5 * (1.0 + t)
    # product rule: d/dx = 0.5(1+t) + 0.5x·(1-t²)·du/dx,  du/dx = √(2/π)(1 + 3·0.044715·x²)
    du_dx = _SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x)
    return y, 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du_dx


def topological_order(root):
    """All nodes `root` depends on (root included), each after all of its children.

    A depth-first walk that lists a node once all of its children are listed (children
    in order, left to right): the order in which a careful hand computation would go. No
    recursion, so graphs of any depth work: `path` holds the nodes being walked, `todo`
    the children each of them has left to look at.
    """
    order = []
    listed = {root}
    path, todo = [root], [iter(root._prev)]
    while todo:
        for child in todo[-1]:
            if child not in listed:
                listed.add(child)
                path.append(child)
                todo.append(iter(child._prev))
                break
        else:  # every child is listed: now the node itself
            todo.pop()
            order.append(path.pop())
    return order


def _graph_below(root):
    """(the interior nodes below `root` and root, in topological order; the leaves).

    Like topological_order, but the leaves are kept apart (in a dict, as an ordered set):
    backward walks the interior nodes only, and checks the leaves' gradients at the end."""
    order = []
    leaves = {}
    listed = {root}
    path, todo = [root], [iter(root._prev)]
    while todo:
        for child in todo[-1]:
            if not child._prev:
                leaves[child] = None
            elif child not in listed:
                listed.add(child)
                path.append(child)
                todo.append(iter(child._prev))
                break
        else:
            todo.pop()
            order.append(path.pop())
    return order, leaves


_grad_of = attrgetter("grad")


# ---------------------------------------------------------------------------------------
# Checking what comes in
# ---------------------------------------------------------------------------------------
class DivisionByZeroError(ZeroDivisionError, ValueError):
    """x / 0 or 0 ** -1. Both a ZeroDivisionError (what Python raises) and a ValueError
    (what this library raises for every bad input), so either `except` catches it."""


class FloatOverflowError(OverflowError, ValueError):
    """A result (or its derivative) too large for a float: exp(1000), 10.0 ** 400,
    1e200 * 1e200. Both an OverflowError and a ValueError."""


class NonFiniteGradientError(ArithmeticError, ValueError):
    """backward() met a gradient that is not a finite number (it overflowed to inf, or
    became nan). The message names the node and the edge it came through. Both an
    ArithmeticError and a ValueError (what this library raises for every bad input)."""


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


def _checked_number(data):
    """The slow path of Value(): convert a number that is not a float, or say what is wrong."""
    if type(data) is not float:
        return _as_float(data, "Value()")
    raise ValueError(f"Value() got {data!r}: only finite numbers are allowed")


def _overflow(op, a, b, result):
    """The error for an operation whose result is not a finite float."""
    return FloatOverflowError(f"the operation {op!r} on {a.data:g} and {b.data:g} produced "
                              f"{result!r}: the result overflows a float")


def _as_value(x, op):
    """Wrap a plain number as a constant Value, so every operand is a graph node."""
    if isinstance(x, Value):
        return x
    try:
        return Value(x)  # a leaf: Value() checks the number
    except ValueError:
        raise _bad_operand(x, op) from None


def _bad_operand(x, op):
    """The error for an operand that Value() refused (it is not a finite number), naming
    the operation: `_as_float` says what is wrong with it."""
    try:
        _as_float(x, op)
    except ValueError as error:
        return error
    raise AssertionError(f"{x!r} was refused by Value() but not by _as_float")


def _data_of(x):
    return x.data if isinstance(x, Value) else x


def _check_derivatives(locals_, what):
    """Refuse a local derivative that overflowed (1/x at x = 5e-324, for example): every
    derivative stored in a node is finite, so backward only has to watch the products."""
    for local in locals_:
        if not math.isfinite(local):
            raise FloatOverflowError(
                f"{what}: its derivative is {local!r}, too large for a float (the input is "
                "too close to where the derivative is infinite)")


# ---------------------------------------------------------------------------------------
# Checking gradients: the seed, each node once, and the error that says where and how
# ---------------------------------------------------------------------------------------
def _seed_gradient(grad):
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


def _propagate(root, grad, order):
    """The chain rule over `order` (interior nodes, each after its children, root last):
    every node's gradient starts at 0, root's at `grad`, then from the output back to the
    inputs each node passes local derivative × its gradient to each child. A node is
    finished (every parent has added its share) before it passes its gradient on."""
    for node in order:
        node.grad = 0.0
    root.grad = grad
    for node in reversed(order):
        g = node.grad
        if g:  # a zero gradient has nothing to pass on (below a relu, an unused path)
            if g - g:  # inf or nan (see __add__): one test per node, none per edge
                raise _non_finite_gradient(node, order)
            for child, local in zip(node._prev, node._local_grads):
                child.grad += local * g


def _check_leaf_gradients(leaves, order):
    """After the walk: every leaf's gradient must be finite. One sum in C over all of them
    (a nan or inf anywhere makes the sum non-finite); only if it is not finite, look at
    each leaf to find which one (a sum of large finite gradients can overflow by itself)."""
    total = sum(map(_grad_of, leaves))
    if total - total:
        for leaf in leaves:
            if not math.isfinite(leaf.grad):
                raise _non_finite_gradient(leaf, order)


def _non_finite_gradient(node, order):
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
            how = (f"{_describe(parent)} passes it local derivative × gradient = "
                   f"{local:.6g} × {g:.6g} = {local * g!r}, too large for a float")
            break
    else:
        total = sum(local * g for _, local, g in shares)
        if shares and not math.isfinite(total):
            how = f"the sum of its {len(shares)} shares (local derivative × gradient) overflows"
    return NonFiniteGradientError(
        f"backward: the gradient of {_describe(node)} became {node.grad!r}: {how}. The "
        "numbers are too large somewhere above it (scale the inputs or the loss down, or "
        "lower the learning rate); the gradients of this backward() are incomplete.")


def _describe(node):
    """A node in words, for error messages: its label or operation, data and module."""
    name = f"{node.label!r}" if node.label else (
        f"the result of {node._op!r}" if node._prev else "a constant")
    kind = "" if node._prev or not node.label else "a leaf, "
    scope = scope_of(node)
    where = f", in module {scope}" if scope else ""
    return f"{name} ({kind}data {node.data:.6g}{where})"


# ---------------------------------------------------------------------------------------
# Switches: no_grad() and module scopes
# ---------------------------------------------------------------------------------------
class TemporarySetting(contextlib.ContextDecorator):
    """Set one module-level switch for the length of a `with` block, then put the old value
    back, even if the block raises. Also a decorator: `@no_grad()` wraps a function in it.

    The switches stay plain module globals (not attributes of some settings object), as
    they are read in hot loops and a global is the cheapest thing to read. `on_change` (if
    given) runs after every change: the engine's switches use it to pick Value's
    `__init__`. `no_grad`, `enable_grad`, `module_scope`, `record_scopes` and
    `functional.fused_ops` are all this class.
    """

    def __init__(self, namespace, name, value, on_change=None):
        self._namespace = namespace  # the globals() of the module that owns the switch
        self._name = name
        self._value = value
        self._on_change = on_change
        self._saved = []             # a stack, so one object can be entered twice

    def __enter__(self):
        self._saved.append(self._namespace[self._name])
        self._namespace[self._name] = self._value
        if self._on_change:
            self._on_change()
        return self

    def __exit__(self, *exc):
        self._namespace[self._name] = self._saved.pop()
        if self._on_change:
            self._on_change()
        return False


# Value.__init__ in its three versions. The usual one (defined in the class) records the
# graph and nothing else; the switches below swap in one of these two while they are on,
# so that an ordinary node pays for no test of either switch.
_init_recording = Value.__init__


def _init_without_graph(self, data, _children=(), _local_grads=(), _op="", label=""):
    """Value.__init__ inside no_grad(): the same node, with no children to remember, so
    no graph is built."""
    _init_recording(self, data, (), (), _op, label)


def _init_with_scope(self, data, _children=(), _local_grads=(), _op="", label=""):
    """Value.__init__ inside record_scopes() or module_scope(): also remember the module
    whose forward made the node (see `scope_of`), and join the tape if one records."""
    _init_recording(self, data, _children, _local_grads, _op, label)
    if _scope:
        self._scope_tag = _scope
    if _children and _tape is not None:
        _tape.append(self)


def _init_on_tape(self, data, _children=(), _local_grads=(), _op="", label=""):
    """Value.__init__ inside a `Tape`: the usual node, and an interior node joins the tape.
    (Written out rather than calling _init_recording: this one runs for every node of
    every training step.)"""
    if not _op and (type(data) is not float or data - data):
        data = _checked_number(data)
    self.data = data
    self.grad = 0.0
    self._prev = _children
    self._local_grads = _local_grads
    self._op = _op
    self.label = label
    if _children:
        _tape.append(self)


def _choose_init():
    """Point Value.__init__ at the version that the switches ask for (called by them)."""
    if not _grad_enabled:
        Value.__init__ = _init_without_graph
    elif _recording_scopes or _scope:
        Value.__init__ = _init_with_scope
    elif _tape is not None:
        Value.__init__ = _init_on_tape
    else:
        Value.__init__ = _init_recording


class Tape:
    """Records the interior nodes made while it is active, in the order they are made, so
    that `tape.backward(root)` needs no search of the graph and no sort: the reverse of
    the order of creation is already an order in which every node comes before its
    children. (The search is about a fifth of a training step; see benchmarks/speed.py.)

        with Tape() as tape:
            loss = model.loss(tokens)
        tape.backward(loss)        # what loss.backward() computes, without the search

    What it back-propagates through is what it recorded: the operations made inside the
    `with` block, as TensorFlow's GradientTape does. A Value made before the block is an
    input of the recorded computation (it gets its gradient, but passes nothing on). For
    a model's forward pass, built from parameters and token ids, that is the whole graph;
    `covers(root)` checks it (the trainer does, on its first step).

    The tape holds its nodes (not the other way round), so they live as long as the tape
    does; dropping both the tape and the loss frees the graph. Tapes do not nest.
    """

    def __init__(self):
        self.nodes = []       # the interior nodes made inside, oldest first

    def __enter__(self):
        global _tape
        if _tape is not None:
            raise ValueError("Tape: another Tape is already recording; tapes do not nest")
        _tape = self.nodes
        _choose_init()
        return self

    def __exit__(self, *exc):
        global _tape
        _tape = None
        _choose_init()
        return False

    def backward(self, root, grad=1.0, leaves=()):
        """`root.backward(grad)` over the recorded nodes: every recorded node up to root
        starts from gradient 0 (root from `grad`), then the nodes pass their gradients
        on, newest first. `leaves`: Values whose gradients must be finite afterwards
        (the parameters: the tape records operations, so it does not know the leaves)."""
        grad = _seed_gradient(grad)
        order = self.nodes[:self._position(root) + 1]
        _propagate(root, grad, order)
        _check_leaf_gradients(leaves, order)

    def covers(self, root):
        """True if every interior node `root` depends on was recorded by this tape (then
        `backward(root)` gives exactly what `root.backward()` gives). Searches the graph:
        a check to run once, not every step."""
        recorded = set(self.nodes)
        return all(node in recorded for node in _graph_below(root)[0])

    def _position(self, root):
        nodes = self.nodes
        if nodes and nodes[-1] is root:  # the usual case: the loss was made last
            return len(nodes) - 1
        for i in range(len(nodes) - 1, -1, -1):
            if nodes[i] is root:
                return i
        raise ValueError("Tape.backward: root was not made while this tape was recording "
                         "(a leaf, or a Value from outside the `with` block); use "
                         "root.backward() instead")

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        return f"Tape({len(self.nodes):,} nodes)"


class no_grad(TemporarySetting):
    """Inside `with no_grad():` (or a function decorated `@no_grad()`), new Values keep no
    children and no derivatives: nothing is recorded, so nothing can be back-propagated,
    and inference is faster. The numbers are computed exactly as usual."""

    def __init__(self):
        super().__init__(globals(), "_grad_enabled", False, _choose_init)


class enable_grad(TemporarySetting):
    """Turn graph recording back on inside a `no_grad()` block."""

    def __init__(self):
        super().__init__(globals(), "_grad_enabled", True, _choose_init)


def is_grad_enabled():
    """True unless inside `no_grad()`."""
    return _grad_enabled


class module_scope(TemporarySetting):
    """`with module_scope("blocks.0.attn"):` tags every node created inside with that
    dotted name (read back with `scope_of(value)`), so graph drawings can group nodes by
    the module that made them. Inside `record_scopes()`, modules enter their own scope
    automatically when called."""

    def __init__(self, name):
        super().__init__(globals(), "_scope", name, _choose_init)
        self.name = name


class record_scopes(TemporarySetting):
    """`with record_scopes():` every module called inside tags the nodes it creates with
    its dotted name (`blocks.0.attn`), so that `viz.draw_dot(root, collapse=True)` can
    draw the graph one box per module. Off by default: the tag costs a little on every
    node, and only pictures read it (`train.training_step_graph` turns it on)."""

    def __init__(self, enabled=True):
        super().__init__(globals(), "_recording_scopes", bool(enabled), _choose_init)


def is_recording_scopes():
    """True inside `record_scopes()`."""
    return _recording_scopes


def current_scope():
    """The dotted name of the module whose forward is running now ("" outside modules,
    and always "" unless scopes are recorded)."""
    return _scope


def scope_of(node):
    """The dotted name of the module that made `node` ("" if none, or if it was made
    outside `record_scopes()`)."""
    return node._scope


def call_in_scope(name, function, *args, **kwargs):
    """`function(*args, **kwargs)` inside `module_scope(name)`: the same effect, without
    making a context-manager object. `Module.__call__` uses it (inside record_scopes()),
    because it runs for every module at every position of every sequence."""
    global _scope
    outer = _scope
    _scope = name
    try:
        return function(*args, **kwargs)
    finally:
        _scope = outer
