"""Operations on lists of Values: sum, dot, linear, softmax, cross-entropy, activations.

Each function has two ways of building its graph, chosen by `fused_ops()`:

* plain: only the engine's binary operations (`+`, `*`, `exp`, ...). A sum of n numbers
  is n-1 nodes in a chain. This is the graph a learner draws by hand.
* fused (the default): one node with n children where the Jacobian is simple.
  - sum of n Values: one node, every local derivative 1;
  - dot product w·x: one node; d/dw_i = x_i and d/dx_i = w_i (the *other* operand's numbers);
  - cross-entropy of logits z at target t: one node; d/dz_i = softmax(z)_i - [i == t].
  Softmax inside attention and the norms stay decomposed: their Jacobians are dense.

Both ways add the numbers in the same order, so they give the same values and gradients
(to the last bit up to Python 3.11; from 3.12, `sum()` of floats compensates for rounding,
so fused results can differ from the plain chain of `+` in the last bits, ~1e-16). The
fused one just creates far fewer nodes, so it is far faster.

Plain floats work too. Given lists of plain Python floats (no Value anywhere), every
function here returns plain floats, computed with the same operations in the same order
as the fused graph, so the numbers are equal bit for bit, but no node is made. That is
how a model runs without a graph: `Module.float_copy()` swaps its parameters for their
floats, and the modules' own forward code, which calls these functions, then computes
with numbers only (generation and evaluation use it; see nn.py).
"""
from __future__ import annotations

import contextlib
import math
from operator import mul

from . import value as engine
from .value import TemporarySetting, Value

__all__ = [
    "fused_ops", "is_fused", "sum_values", "mean", "dot", "linear", "scale",
    "softmax", "log_softmax", "cross_entropy", "gelu", "relu", "tanh", "sigmoid",
    "is_plain", "weights_fixed", "inverse_rms",
]

_fused = True
_weights_read = None  # inside weights_fixed(): id(weight) -> (weight, its rows and numbers)


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


def sum_values(values):
    """Σ values, as one Value. Fused: one node whose local derivatives are all 1."""
    values = list(values)
    if not values:
        raise ValueError("sum_values: got an empty list; there is nothing to add")
    if is_plain(values):
        return sum(values)
    if not _fused:
        total = values[0]
        for v in values[1:]:
            total = total + v
        return total
    # sum() adds left to right like the chain above (from Python 3.12 it also compensates
    # for rounding, so the two may differ in the last bits)
    out = _finite(sum([v.data for v in values]), "sum")
    return Value(out, tuple(values), (1.0,) * len(values), "sum")


def mean(values):
    """The average of a list of Values: sum_values(values) * (1/n)."""
    values = list(values)
    if not values:
        raise ValueError("mean: got an empty list; there is nothing to average")
    return sum_values(values) * (1.0 / len(values))


def dot(a, b):
    """Σ a_i·b_i for two equal-length lists (of Values, or a mix of Values and numbers).

    Fused: one node; the derivative toward a_i is b_i and toward b_i is a_i.
    """
    if len(a) != len(b):
        raise ValueError(f"dot: the lists have different lengths ({len(a)} and {len(b)})")
    if not a:
        raise ValueError("dot: got two empty lists")
    if _fused and _all_values(a) and _all_values(b):  # the usual case (attention): quick
        ad, bd = [v.data for v in a], [v.data for v in b]
        total = sum(map(mul, ad, bd))
        if total - total:  # inf or nan (0.0 for a finite float)
            _finite(total, "dot")  # raises: the products or their sum overflowed
        if not engine.is_grad_enabled():  # inference: just the number, no graph
            return Value(total)
        return Value(total, (*a, *b), (*bd, *ad), "dot")
    if is_plain(a) and is_plain(b):
        return sum(map(mul, a, b))
    if not _fused:
        return sum_values([x * y for x, y in zip(a, b)])
    ad, bd = [_data(v) for v in a], [_data(v) for v in b]
    if not engine.is_grad_enabled():
        return Value(sum(map(mul, ad, bd)))
    # children: the Values among a, then among b; toward a_i the derivative is b_i, and back
    children, locals_ = [], []
    for values, other_numbers in ((a, bd), (b, ad)):
        for v, other in zip(values, other_numbers):
            if isinstance(v, Value):
                children.append(v)
                locals_.append(other)
    return Value(_finite(sum(map(mul, ad, bd)), "dot"), tuple(children), tuple(locals_), "dot")


def linear(x, weight, bias=None):
    """y = W·x (+ b): y_i = Σ_j W[i][j]·x_j (+ b_i).

    x: list of n Values; weight: m rows of n Values; bias: m Values or None.
    Returns m Values. Fused: one dot node per output. With plain floats for x and the
    weights (a `float_copy()` of a model), plain floats come out.
    """
    _check_linear_shapes(x, weight, bias)
    if is_plain(weight[0]):  # the rows of a weight are all floats (a float copy) or all Values
        out = ([sum(map(mul, row, x)) for row in weight] if is_plain(x)
               else [dot(row, x) for row in weight])  # numbers times Values: a graph in x
    else:
        out = _linear_values(_as_values(x, "x"), weight)
    if bias is not None:
        out = [y + b for y, b in zip(out, bias)]
    return out


def _linear_values(x, weight):
    if not _fused:
        return [dot(row, x) for row in weight]
    xd = tuple([v.data for v in x])  # read the inputs once, reuse them for every row
    if not engine.is_grad_enabled():  # inference: just the numbers, no graph at all
        return [Value(sum(map(mul, [w.data for w in row], xd))) for row in weight]
    x = tuple(x)
    rows = _rows_and_numbers(weight)
    totals = [sum(map(mul, wd, xd)) for _, wd in rows]
    _check_finite(totals, "dot")
    # One fused node per row for Σ_j W_j·x_j: the children are the row's weights then the
    # inputs; the local derivative toward W_j is x_j and toward x_j is W_j.
    return [Value(total, row + x, xd + wd, "dot") for (row, wd), total in zip(rows, totals)]


def _rows_and_numbers(weight):
    """(row, its numbers) for each row of `weight`, as tuples. Inside `weights_fixed()`
    they are read once per matrix and kept: a forward pass uses every matrix once per
    position, and its numbers do not change in between."""
    cache = _weights_read
    if cache is None:
        return [(tuple(row), tuple([w.data for w in row])) for row in weight]
    kept = cache.get(id(weight))
    if kept is None or kept[0] is not weight:  # (kept[0] keeps the matrix alive: its id
        kept = cache[id(weight)] = (weight, [  # cannot be reused by another list)
            (tuple(row), tuple([w.data for w in row])) for row in weight])
    return kept[1]


@contextlib.contextmanager
def weights_fixed():
    """Inside, `linear` reads the numbers of each weight matrix once and reuses them at
    every later call with the same matrix (a speed-up for a forward pass, which calls
    every layer once per position). The weights must not change inside the block: a
    forward pass never changes them. `LanguageModel.forward` runs inside it."""
    global _weights_read
    outer = _weights_read
    if outer is None:
        _weights_read = {}
    try:
        yield
    finally:
        _weights_read = outer


def _as_values(x, name):
    """x itself when it holds only Values (the usual case, checked cheaply); otherwise a
    copy in which plain numbers become constant Values (inputs that need no gradient)."""
    if _all_values(x):
        return x
    return [v if isinstance(v, Value) else engine._as_value(v, f"linear: {name}") for v in x]


def _check_linear_shapes(x, weight, bias):
    n = len(x)
    if n == 0:
        raise ValueError("linear: x is empty; it needs at least one input")
    if len(weight) == 0:
        raise ValueError("linear: weight has no rows; it needs at least one")
    if set(map(len, weight)) != {n}:  # (map and set run in C: cheap for every call)
        i = next(i for i, row in enumerate(weight) if len(row) != n)
        raise ValueError(f"linear: weight row {i} has {len(weight[i])} entries but x has {n}")
    if bias is not None and len(bias) != len(weight):
        raise ValueError(f"linear: bias has {len(bias)} entries but weight has {len(weight)} rows")


def scale(values, factor):
    """Every entry of `values` times the constant `factor` (a plain number).

    On Values the constant is one shared leaf node (d multiplications, one constant)."""
    if is_plain(values):
        return [v * factor for v in values]
    constant = Value(factor)
    return [v * constant for v in values]


def inverse_rms(x, eps):
    """r = 1 / sqrt(mean(x²) + eps): the scale by which RMSNorm (and LayerNorm, on the
    centered x) multiplies every entry.

    Fused: one node with the n entries as children; d r / d x_i = -x_i · r³ / n (from
    r = (s + eps)^(-1/2) with s = Σ x² / n). Plain: dot, times 1/n, plus eps, ** -0.5.
    """
    if not x:
        raise ValueError("inverse_rms: got an empty list")
    n = len(x)
    if is_plain(x):
        return (sum(map(mul, x, x)) * (1.0 / n) + eps) ** -0.5
    if not _fused or not _all_values(x):
        return (dot(x, x) * (1.0 / n) + eps) ** -0.5
    xd = [v.data for v in x]
    r = (_finite(sum(map(mul, xd, xd)), "inverse_rms") * (1.0 / n) + eps) ** -0.5
    if not engine.is_grad_enabled():
        return Value(r)
    k = -r * r * r / n
    return Value(r, tuple(x), tuple([k * xi for xi in xd]), "inverse_rms")


def softmax(logits):
    """softmax(z)_i = exp(z_i - m) / Σ_j exp(z_j - m), with m = max(z) for stability.

    Subtracting the constant m changes nothing mathematically (it cancels) but keeps
    exp() from overflowing. Built from engine ops (the Jacobian is dense): plain, a `-`
    and an `exp` node per entry; fused, one `exp(x-max)` node per entry (its derivative
    is e_i itself), then one `sum` and a `/` per entry either way.
    """
    _check_logits(logits, "softmax")
    if is_plain(logits):
        m = max(logits)
        exps = [math.exp(z - m) for z in logits]
        total = _finite_total(sum(exps), logits, "softmax")
        return [e / total for e in exps]
    if _fused and _all_values(logits):
        # e_i = exp(z_i - m) as one node: m is a constant, so d e_i / d z_i = e_i
        m = max([v.data for v in logits])
        exps = []
        for v in logits:
            e = math.exp(v.data - m)
            exps.append(Value(e, (v,), (e,), "exp(x-max)"))
    else:
        m = Value(max([v.data for v in logits]))  # one constant node, shared
        exps = [(v - m).exp() for v in logits]
    total = sum_values(exps)
    return [e / total for e in exps]


def log_softmax(logits):
    """log_softmax(z)_i = z_i - m - log Σ_j exp(z_j - m)."""
    _check_logits(logits, "log_softmax")
    if is_plain(logits):
        m = max(logits)
        total = _finite_total(sum([math.exp(z - m) for z in logits]), logits, "log_softmax")
        log_total = math.log(total)
        return [z - m - log_total for z in logits]
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
    if is_plain(logits):
        m = max(logits)
        total = _finite_total(sum([math.exp(z - m) for z in logits]), logits, "cross_entropy")
        return math.log(total) - (logits[target] - m)
    m = max([v.data for v in logits])
    if not _fused:
        shift = Value(m)  # one constant node, shared
        log_total = sum_values([(v - shift).exp() for v in logits]).log()
        return log_total - (logits[target] - shift)
    exps = [math.exp(v.data - m) for v in logits]
    total = sum(exps)
    loss = math.log(total) - (logits[target].data - m)
    grads = [e / total for e in exps]
    grads[target] -= 1.0
    return Value(loss, tuple(logits), tuple(grads), "cross_entropy")


# ---- activations: one Value or one plain float -------------------------------------------
# On a Value these are the engine's own operations (value and local derivative side by side
# in engine.py); on a float, the same formula without the node.

def gelu(x):
    """GELU (GPT-2's tanh form) of one Value or float; see `Value.gelu`."""
    return x.gelu() if type(x) is Value else engine.gelu_and_derivative(x)[0]


def relu(x):
    """max(x, 0) of one Value or float.

    Fused, no node at all: for x > 0 relu is the identity, so the result is x itself
    (derivative 1: the gradient flows straight through), and for x <= 0 it is a constant
    0 (derivative 0: nothing flows back, so backward never visits x's graph). Plain: the
    engine's relu node, with its local derivative 1 or 0."""
    if type(x) is not Value:
        return x if x > 0 else 0.0
    if not _fused:
        return x.relu()
    return x if x.data > 0 else Value(0.0)


def tanh(x):
    """tanh of one Value or float."""
    return x.tanh() if type(x) is Value else math.tanh(x)


def sigmoid(x):
    """1 / (1 + exp(-x)) of one Value or float; see `Value.sigmoid`."""
    return x.sigmoid() if type(x) is Value else engine.sigmoid_and_derivative(x)[0]


def _check_finite(numbers, op):
    """Raise the engine's overflow error if any of `numbers` is inf or nan. One sum in C
    for all of them (it is not finite if any of them is not); only then one by one."""
    total = sum(numbers)
    if total - total:  # inf or nan (0.0 for a finite float)
        for number in numbers:
            _finite(number, op)


def _finite(out, op):
    """`out` if it is a finite float; the engine's overflow error otherwise (a fused node
    checks its result itself, like the engine's own operations)."""
    if out - out:
        raise engine.FloatOverflowError(
            f"the operation {op!r} produced {out!r}: the result overflows a float")
    return out


_is_value = Value.__instancecheck__  # isinstance(v, Value), callable from C by map()


def _all_values(values):
    return all(map(_is_value, values))


def _data(v):
    return v.data if type(v) is Value else float(v)


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
