"""Fused nodes: one node where the engine's binary operations would make many.

Where one output depends on many inputs through a simple derivative, the local
derivatives toward all of them are known at once, from numbers at hand:

    sum of n Values     one node, n children, every local derivative 1
    dot product w·x     one node; d/dw_i = x_i and d/dx_i = w_i (the other side's numbers)
    W·x (linear)        one dot node per row, each weight matrix read once per forward
    inverse_rms         r = (mean(x²) + eps)^(-1/2), one node; d r/d x_i = -x_i·r³/n
    exp(x - max)        one node per entry of a softmax; its derivative is its own value
    cross_entropy       one node; d/dz_i = softmax(z)_i - [i == target]

A plain sum of n numbers is a chain of n - 1 nodes; fused, it is one node with n edges.
Nodes are what cost (each one is an object to make, visit and free), so fused graphs are
far faster, and give the same numbers (the same operations in the same order; from
Python 3.12 `sum()` of floats also compensates for rounding, which can change the last
bits). `functional.py` picks this way when `fused_ops()` is on (the default), for lists
that hold only Values; `GPTConfig(fused=False)` builds the plain graphs, to teach.

Under `no_grad()` the widest builders (dot, linear, inverse_rms) return the number as a
constant at once: no children to collect, since none would be kept.
"""
from __future__ import annotations

import contextlib
import math
from operator import mul

from . import modes
from . import value as engine
from .errors import FloatOverflowError
from .value import Value

__all__ = ["sum_node", "dot_node", "linear_nodes", "weights_fixed", "inverse_rms_node",
           "exp_minus_max_nodes", "cross_entropy_node"]

_weights_read = None  # inside weights_fixed(): id(weight) -> (weight, its rows and numbers)


def sum_node(values):
    """Σ values as one node; every local derivative is 1."""
    out = finite(sum([v.data for v in values]), "sum")
    return engine._node(out, tuple(values), (1.0,) * len(values), "sum")


def dot_node(a, b):
    """Σ a_i·b_i as one node: the children are a then b; toward a_i the local derivative
    is b_i, and toward b_i it is a_i."""
    ad, bd = [v.data for v in a], [v.data for v in b]
    total = finite(sum(map(mul, ad, bd)), "dot")
    if not modes.is_grad_enabled():  # inference: just the number
        return Value(total)
    return engine._node(total, (*a, *b), (*bd, *ad), "dot")


def linear_nodes(x, weight):
    """W·x as one dot node per row: the children of row i are its weights then the inputs;
    the local derivative toward W_ij is x_j, and toward x_j it is W_ij."""
    xd = tuple([v.data for v in x])  # read the inputs once, for every row
    if not modes.is_grad_enabled():
        return [Value(sum(map(mul, [w.data for w in row], xd))) for row in weight]
    x = tuple(x)
    rows = _rows_and_numbers(weight)
    totals = [sum(map(mul, wd, xd)) for _, wd in rows]
    check_finite(totals, "dot")
    node = engine._node
    return [node(total, row + x, xd + wd, "dot") for (row, wd), total in zip(rows, totals)]


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
    every later call with the same matrix (a forward pass calls every layer once per
    position). The weights must not change inside the block: a forward pass never
    changes them. `LanguageModel.forward` runs inside it."""
    global _weights_read
    outer = _weights_read
    if outer is None:
        _weights_read = {}
    try:
        yield
    finally:
        _weights_read = outer


def inverse_rms_node(x, eps):
    """r = 1 / sqrt(mean(x²) + eps) as one node with the n entries as children:
    d r / d x_i = -x_i · r³ / n (from r = (s + eps)^(-1/2) with s = Σ x² / n)."""
    xd = [v.data for v in x]
    n = len(xd)
    r = (finite(sum(map(mul, xd, xd)), "inverse_rms") * (1.0 / n) + eps) ** -0.5
    if not modes.is_grad_enabled():
        return Value(r)
    k = -r * r * r / n
    return engine._node(r, tuple(x), tuple([k * xi for xi in xd]), "inverse_rms")


def exp_minus_max_nodes(logits):
    """e_i = exp(z_i - m) with m = max(z), one node per entry: m is a constant, so
    d e_i / d z_i = e_i itself. (The first step of a softmax.)"""
    m = max([v.data for v in logits])
    node = engine._node
    exps = []
    for v in logits:
        e = math.exp(v.data - m)
        exps.append(node(e, (v,), (e,), "exp(x-max)"))
    return exps


def cross_entropy_node(logits, target):
    """-log softmax(z)[target] as one node: log Σ_j exp(z_j - m) - (z_target - m), with
    local derivatives d/dz_i = softmax(z)_i - [i == target]."""
    m = max([v.data for v in logits])
    exps = [math.exp(v.data - m) for v in logits]
    total = sum(exps)
    loss = math.log(total) - (logits[target].data - m)
    grads = [e / total for e in exps]
    grads[target] -= 1.0
    return engine._node(loss, tuple(logits), tuple(grads), "cross_entropy")


def check_finite(numbers, op):
    """The engine's overflow error if any of `numbers` is inf or nan. One sum in C for all
    of them (it is not finite if any of them is not); only then one by one."""
    total = sum(numbers)
    if total - total:  # inf or nan (0.0 for a finite float)
        for number in numbers:
            finite(number, op)


def finite(out, op):
    """`out` if it is a finite float; the engine's overflow error otherwise (a fused node
    checks its result itself, as the engine's operations do)."""
    if out - out:
        raise FloatOverflowError(
            f"the operation {op!r} produced {out!r}: the result overflows a float")
    return out
