"""Operations on lists of Values: sum, dot, linear, softmax, cross-entropy, activations.

Every function decides once, at its top, which of three ways it computes (`_mode`), then
runs a short body for that way:

* FUSED (the default): a graph with one node where the derivative is simple, built by
  `fused.py`: a sum of n Values is one node with n children, a dot product one node.
* PLAIN (inside `fused_ops(False)`): a graph of the engine's binary operations only
  (`+`, `*`, `exp`, ...): a sum of n Values is a chain of n-1 nodes. The graph a learner
  draws by hand. Both graphs give the same values and gradients (the same operations in
  the same order; from Python 3.12 `sum()` also compensates for rounding, ~1e-16).
* FLOATS: every input is a plain float (no Value anywhere). Plain floats come out,
  computed with the same operations in the same order as the fused graph, so the numbers
  are equal bit for bit, but no node is made. That is how a model runs without a graph:
  `Module.float_copy()` swaps its parameters for their floats, and the modules' own
  forward code, which calls these functions, then computes with numbers only
  (generation and evaluation use it; see models/nn.py).

Lists that mix Values and plain numbers are allowed: the numbers become constants (inputs
that need no gradient). Anything else (text, None, lists of ints without any Value) is
refused with one error that names the argument and the entry.
"""
from __future__ import annotations

import math
from operator import mul

from . import fused
from .activations import gelu_and_derivative, sigmoid_and_derivative
from .errors import OperandError, as_float
from .fused import weights_fixed
from .modes import TemporarySetting
from .value import Value

__all__ = [
    "fused_ops", "is_fused", "sum_values", "mean", "dot", "linear", "scale",
    "softmax", "log_softmax", "cross_entropy", "gelu", "relu", "tanh", "sigmoid",
    "is_plain", "weights_fixed", "inverse_rms",
]

FUSED, PLAIN, FLOATS, MIXED = "fused graph", "plain graph", "floats", "mixed"
_fused = True


class fused_ops(TemporarySetting):
    """`with fused_ops(False):` builds plain binary-op graphs (for teaching and pictures);
    `fused_ops(True)` (the default mode) builds fused n-ary nodes."""

    def __init__(self, enabled=True):
        super().__init__(globals(), "_fused", bool(enabled))
        self.enabled = bool(enabled)


def is_fused():
    """True when functions here build fused n-ary nodes (the default)."""
    return _fused


def is_plain(values):
    """True when `values` holds only plain floats (no Value): compute, build nothing."""
    return all(map(_is_float, values))


_is_float = float.__instancecheck__  # isinstance(x, float), callable from C by map()
_is_value = Value.__instancecheck__


def _mode(values, more=()):
    """How a call computes, from its one or two lists (each test runs in C over a whole
    list): FUSED or PLAIN (as fused_ops() says) for Values, FLOATS for floats, else MIXED."""
    if all(map(_is_value, values)) and all(map(_is_value, more)):
        return FUSED if _fused else PLAIN
    if all(map(_is_float, values)) and all(map(_is_float, more)):
        return FLOATS
    return MIXED


def sum_values(values):
    """Σ values, as one Value. Fused: one node whose local derivatives are all 1."""
    if type(values) is not list:
        values = _as_list("sum_values", "values", values)
    if not values:
        raise ValueError("sum_values: got an empty list; there is nothing to add")
    mode = _mode(values)
    if mode is FUSED:
        return fused.sum_node(values)
    if mode is PLAIN:
        total = values[0]
        for v in values[1:]:
            total = total + v
        return total
    if mode is FLOATS:
        return sum(values)
    return sum_values(*_with_constants("sum_values", ("values", values)))


def mean(values):
    """The average of a list of Values: sum_values(values) * (1/n)."""
    values = _as_list("mean", "values", values)
    if not values:
        raise ValueError("mean: got an empty list; there is nothing to average")
    return sum_values(values) * (1.0 / len(values))


def dot(a, b):
    """Σ a_i·b_i for two equal-length lists (of Values, floats, or a mix of Values and
    numbers). Fused: one node; the derivative toward a_i is b_i and toward b_i is a_i."""
    if type(a) is not list or type(b) is not list:  # (lists, the usual case: one test each)
        a, b = _as_list("dot", "a", a), _as_list("dot", "b", b)
    if len(a) != len(b):
        raise ValueError(f"dot: the lists have different lengths ({len(a)} and {len(b)})")
    if not a:
        raise ValueError("dot: got two empty lists")
    mode = _mode(a, b)
    if mode is FUSED:
        return fused.dot_node(a, b)
    if mode is PLAIN:
        return sum_values([x * y for x, y in zip(a, b)])
    if mode is FLOATS:
        return sum(map(mul, a, b))
    return dot(*_with_constants("dot", ("a", a), ("b", b)))


def linear(x, weight, bias=None):
    """y = W·x (+ b): y_i = Σ_j W[i][j]·x_j (+ b_i).

    x: list of n Values; weight: m rows of n Values; bias: m Values or None.
    Returns m Values. Fused: one dot node per output. With plain floats for x and the
    weights (a `float_copy()` of a model), plain floats come out.
    """
    x = _as_list("linear", "x", x)
    if not x:
        raise ValueError("linear: x is empty; it needs at least one input")
    _check_linear_shapes(x, weight, bias)
    mode = _mode(x, weight[0])  # a weight's rows are all floats (a float copy) or all Values
    if mode is MIXED and all(map(_is_value, weight[0])):  # numbers among the inputs: constants
        x, _ = _with_constants("linear", ("x", x), ("weight[0]", weight[0]))
        mode = _mode(x, weight[0])
    if mode is FUSED:
        out = fused.linear_nodes(x, weight)
    elif mode is FLOATS:
        out = [sum(map(mul, row, x)) for row in weight]
    else:  # plain, or float weights times Values (a graph in x): one dot per row
        out = [dot(row, x) for row in weight]
    if bias is not None:
        out = [y + b for y, b in zip(out, bias)]
    return out


def _check_linear_shapes(x, weight, bias):
    n = len(x)
    if not isinstance(weight, (list, tuple)) or len(weight) == 0:
        raise ValueError("linear: weight must be a list of rows (lists of Values), got "
                         f"{weight!r:.60}")
    if set(map(len, weight)) != {n}:  # (map and set run in C: cheap for every call)
        i = next(i for i, row in enumerate(weight) if len(row) != n)
        raise ValueError(f"linear: weight row {i} has {len(weight[i])} entries but x has {n}")
    if bias is not None and len(bias) != len(weight):
        raise ValueError(f"linear: bias has {len(bias)} entries but weight has {len(weight)} rows")


def scale(values, factor):
    """Every entry of `values` times the constant `factor` (a plain number).

    On Values the constant is one shared leaf node (d multiplications, one constant)."""
    values = _as_list("scale", "values", values)
    factor = factor if type(factor) is float else as_float(factor, "scale: factor")
    mode = _mode(values)
    if mode is FLOATS:
        return [v * factor for v in values]
    if mode is MIXED:
        return scale(*_with_constants("scale", ("values", values)), factor)
    constant = Value(factor)
    return [v * constant for v in values]


def inverse_rms(x, eps):
    """r = 1 / sqrt(mean(x²) + eps): the scale by which RMSNorm (and LayerNorm, on the
    centered x) multiplies every entry.

    Fused: one node with the n entries as children; d r / d x_i = -x_i · r³ / n (from
    r = (s + eps)^(-1/2) with s = Σ x² / n). Plain: dot, times 1/n, plus eps, ** -0.5.
    """
    x = _as_list("inverse_rms", "x", x)
    if not x:
        raise ValueError("inverse_rms: got an empty list")
    eps = eps if type(eps) is float else as_float(eps, "inverse_rms: eps")
    mode = _mode(x)
    if mode is FUSED:
        return fused.inverse_rms_node(x, eps)
    if mode is PLAIN:
        return (dot(x, x) * (1.0 / len(x)) + eps) ** -0.5
    if mode is FLOATS:
        return (sum(map(mul, x, x)) * (1.0 / len(x)) + eps) ** -0.5
    return inverse_rms(*_with_constants("inverse_rms", ("x", x)), eps)


def softmax(logits):
    """softmax(z)_i = exp(z_i - m) / Σ_j exp(z_j - m), with m = max(z) for stability.

    Subtracting the constant m changes nothing mathematically (it cancels) but keeps
    exp() from overflowing. Built from engine ops (the Jacobian is dense): plain, a `-`
    and an `exp` node per entry; fused, one `exp(x-max)` node per entry (its derivative
    is e_i itself), then one `sum` and a `/` per entry either way.
    """
    _check_logits(logits, "softmax")
    mode = _mode(logits)
    if mode is FLOATS:
        m = max(logits)
        exps = [math.exp(z - m) for z in logits]
        total = _finite_total(sum(exps), logits, "softmax")
        return [e / total for e in exps]
    if mode is MIXED:
        return softmax(*_with_constants("softmax", ("logits", logits)))
    if mode is FUSED:
        exps = fused.exp_minus_max_nodes(logits)
    else:
        m = Value(max([v.data for v in logits]))  # one constant node, shared
        exps = [(v - m).exp() for v in logits]
    total = sum_values(exps)
    return [e / total for e in exps]


def log_softmax(logits):
    """log_softmax(z)_i = z_i - m - log Σ_j exp(z_j - m). Fused and plain alike: from
    engine ops and one `sum`."""
    _check_logits(logits, "log_softmax")
    mode = _mode(logits)
    if mode is FLOATS:
        m = max(logits)
        total = _finite_total(sum([math.exp(z - m) for z in logits]), logits, "log_softmax")
        log_total = math.log(total)
        return [z - m - log_total for z in logits]
    if mode is MIXED:
        return log_softmax(*_with_constants("log_softmax", ("logits", logits)))
    m = Value(max([v.data for v in logits]))  # one constant node, shared
    log_total = sum_values([(v - m).exp() for v in logits]).log()
    return [v - m - log_total for v in logits]


def cross_entropy(logits, target):
    """-log softmax(logits)[target]: the loss of predicting class `target`.

    Fused: one node whose local derivatives are softmax(logits) - onehot(target).
    Plain: log Σ exp(z_j - m) - (z_target - m) from engine ops.
    """
    _check_logits(logits, "cross_entropy")
    if isinstance(target, bool) or not (isinstance(target, int) and 0 <= target < len(logits)):
        raise ValueError(
            f"cross_entropy: target must be an int in [0, {len(logits) - 1}], got {target!r}")
    mode = _mode(logits)
    if mode is FUSED:
        return fused.cross_entropy_node(logits, target)
    if mode is PLAIN:
        shift = Value(max([v.data for v in logits]))  # one constant node, shared
        log_total = sum_values([(v - shift).exp() for v in logits]).log()
        return log_total - (logits[target] - shift)
    if mode is FLOATS:
        m = max(logits)
        total = _finite_total(sum([math.exp(z - m) for z in logits]), logits, "cross_entropy")
        return math.log(total) - (logits[target] - m)
    return cross_entropy(*_with_constants("cross_entropy", ("logits", logits)), target)


# ---- activations: one Value or one plain float -------------------------------------------
# On a Value these are the engine's own operations (value and local derivative side by side
# in value.py); on a float, the same formula without the node.

def gelu(x):
    """GELU (GPT-2's tanh form) of one Value or float; see `Value.gelu`."""
    if type(x) is Value:
        return x.gelu()
    return gelu_and_derivative(x if type(x) is float else _number(x, "gelu"))[0]


def relu(x):
    """max(x, 0) of one Value or float.

    Fused, no node at all: for x > 0 relu is the identity, so the result is x itself
    (derivative 1: the gradient flows straight through), and for x <= 0 it is a constant
    0 (derivative 0: nothing flows back, so backward never visits x's graph). Plain: the
    engine's relu node, with its local derivative 1 or 0."""
    if type(x) is not Value:
        x = x if type(x) is float else _number(x, "relu")
        return x if x > 0 else 0.0
    if not _fused:
        return x.relu()
    return x if x.data > 0 else Value(0.0)


def tanh(x):
    """tanh of one Value or float."""
    if type(x) is Value:
        return x.tanh()
    return math.tanh(x if type(x) is float else _number(x, "tanh"))


def sigmoid(x):
    """1 / (1 + exp(-x)) of one Value or float; see `Value.sigmoid`."""
    if type(x) is Value:
        return x.sigmoid()
    return sigmoid_and_derivative(x if type(x) is float else _number(x, "sigmoid"))[0]


# ---- checking what comes in ------------------------------------------------------------------

def _number(x, name):
    """A finite float from a number that is not a float (an int), or one clear error."""
    return as_float(x, f"{name}: x")


def _as_list(name, arg, values):
    """`values` as a list or tuple (an iterator is read into a list), or one clear error."""
    if type(values) is list or type(values) is tuple:
        return values
    if isinstance(values, (str, bytes, dict, Value)) or not hasattr(values, "__iter__"):
        raise OperandError(f"{name}: {arg} must be a list of Values or floats, got "
                           f"{type(values).__name__} {values!r:.60}")
    return list(values)


def _with_constants(name, *named_lists):
    """The lists (arg, values) of a call that mixes Values and plain numbers, with the
    numbers made constant Values, so that the call can run again on Values only. One
    clear error for an entry that is not a number, or when no list holds a Value and they
    are not all floats either (like [1, 2]: floats compute numbers, Values build a graph)."""
    if not any(isinstance(v, Value) for _, values in named_lists for v in values):
        arg, i, v = next((arg, i, v) for arg, values in named_lists
                         for i, v in enumerate(values) if not isinstance(v, float))
        raise OperandError(f"{name}: {arg}[{i}] is {type(v).__name__} {v!r}; give Values "
                           "(to build a graph) or floats (to compute numbers)")
    return [[v if isinstance(v, Value) else Value(as_float(v, f"{name}: {arg}[{i}]"))
             for i, v in enumerate(values)] for arg, values in named_lists]


def _finite_total(total, logits, name):
    """`total` = Σ exp(z - max z) when it is finite (it is >= 1 then); a nan or ±inf logit
    among plain floats makes it nan, which is refused here, once per call, rather than
    spread. (Values hold only finite numbers, so the graph path needs no such check.)"""
    if total - total:  # nan (inf - inf is nan too)
        bad = next(z for z in logits if not math.isfinite(z))
        raise ValueError(f"{name}: the logits must be finite numbers, got {bad}")
    return total


def _check_logits(logits, name):
    if not isinstance(logits, (list, tuple)):
        raise ValueError(f"{name}: logits must be a list of Values or floats, "
                         f"got {type(logits).__name__}")
    if not logits:
        raise ValueError(f"{name}: got an empty list of logits")
