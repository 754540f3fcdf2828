"""Checks exercise 18: attention over all positions at once, with a causal mask, against
the KV cache that runs one position at a time.

`causal_attention(Q, K, V)` is compared with its own definition on plain floats; where it
is off, the tutor tries the usual slips (no mask, no 1/√hd, the mask applied after the
softmax, the softmax taken down the columns) and names the one that gives the learner's
numbers. `self_attention(X, Wq, Wk, Wv, Wo, num_heads)` must equal a real
`CausalSelfAttention` fed one position at a time over its `KVCache`.
"""
from __future__ import annotations

import math
import random

from ...autograd.value import Value
from ...models.attention import CausalSelfAttention, KVCache
from .tutor import RIGHT, NotYet, Wrong, close, run_part


def _matrix(rng, rows, columns):
    return [[rng.gauss(0.0, 1.0) for _ in range(columns)] for _ in range(rows)]


def attention(Q, K, V, mask="before", scale=True, rows=True):
    """Attention over all positions on plain floats; the keywords make the usual slips
    (mask=None or "after", scale=False, rows=False: the softmax down the columns)."""
    T, hd = len(Q), len(Q[0])
    factor = 1.0 / math.sqrt(hd) if scale else 1.0
    S = [[sum(q * k for q, k in zip(Q[t], K[s])) * factor for s in range(T)] for t in range(T)]
    if mask == "before":
        S = [[S[t][s] if s <= t else -math.inf for s in range(T)] for t in range(T)]
    A = _softmax_rows(S) if rows else [list(c) for c in zip(*_softmax_rows(list(zip(*S))))]
    if mask == "after":
        A = [[A[t][s] if s <= t else 0.0 for s in range(T)] for t in range(T)]
    return [[sum(A[t][s] * V[s][j] for s in range(T)) for j in range(hd)] for t in range(T)]


def _softmax_rows(S):
    out = []
    for row in S:
        top = max(row)
        exps = [math.exp(x - top) for x in row]
        out.append([e / sum(exps) for e in exps])
    return out


SLIPS = [
    (dict(mask=None), "yours lets every position see the later ones too: before the "
                      "softmax, set the scores of s > t to −inf (they become weights of 0)"),
    (dict(mask="after"), "yours masks after the softmax, so the weights of a row no longer "
                         "sum to 1: mask the scores (−inf) before the softmax instead"),
    (dict(scale=False), "yours does not divide the scores by √hd (chapter 7: it keeps their "
                        "spread near 1 at every head size)"),
    (dict(rows=False), "yours takes the softmax down each column; each row t is position "
                       "t's own distribution over the positions s it looks at"),
]
HEADS = [(1, 2), (3, 2), (4, 3), (6, 4)]          # (T, hd)


def check(learner):
    """The parts of exercise 18."""
    parts = [run_part("causal_attention", lambda: _check_attention(learner))]
    alone = parts[0].state == RIGHT
    parts.append(run_part("self_attention against the KV cache",
                          lambda: _check_layer(learner, alone)))
    return parts


def _check_attention(learner):
    causal_attention = learner.function("causal_attention")
    rng = random.Random(18)
    for T, hd in HEADS:
        Q, K, V = (_matrix(rng, T, hd) for _ in range(3))
        got = causal_attention([r[:] for r in Q], [r[:] for r in K], [r[:] for r in V])
        right = attention(Q, K, V)
        if not _same(got, right):
            raise Wrong(f"for T = {T} position{'s' * (T > 1)}, heads of {hd}: "
                        + _what_is_off(got, right, Q, K, V))
    return (f"right for {len(HEADS)} shapes: every row t a weighted average of the values "
            f"of positions 0..t")


def _same(got, right, tol=1e-9):
    return (isinstance(got, (list, tuple)) and len(got) == len(right) and all(
        isinstance(row, (list, tuple)) and len(row) == len(want)
        and all(close(a, b, tol) for a, b in zip(row, want)) for row, want in zip(got, right)))


def _what_is_off(got, right, Q, K, V):
    if not _same_shape(got, right):
        return (f"the output must be [T][hd], [{len(right)}][{len(right[0])}]: one row per "
                f"position; got {_shape(got)}")
    for keywords, message in SLIPS:
        if _same(got, attention(Q, K, V, **keywords)):
            return message
    if any(isinstance(x, float) and math.isnan(x) for x in got[0]):
        return ("row 0 of yours is nan: every score of the row was −inf. Position t may "
                "see itself: hide s > t only, never s = t")
    t = next(t for t, (row, want) in enumerate(zip(got, right)) if not _same([row], [want]))
    return (f"row {t} is {_rounded(got[t])}, it should be {_rounded(right[t])}: "
            f"S = Q·Kᵀ/√hd, the scores of s > t set to −inf, a softmax along each row, "
            f"then the weights times V")


def _same_shape(got, right):
    return (isinstance(got, (list, tuple)) and len(got) == len(right) and all(
        isinstance(row, (list, tuple)) and len(row) == len(right[0]) for row in got))


def _shape(value):
    if not isinstance(value, (list, tuple)):
        return type(value).__name__
    widths = sorted({len(r) if isinstance(r, (list, tuple)) else -1 for r in value})
    return f"{len(value)} rows of {'/'.join(map(str, widths))}"


def _rounded(values):
    return "[" + ", ".join(f"{v:.4g}" for v in values) + "]"


def _check_layer(learner, alone):
    if not alone:
        raise NotYet("waits for causal_attention: it must be right first")
    self_attention = learner.function("self_attention")
    rng = random.Random(180)
    for d, num_heads, T in ((4, 1, 3), (6, 2, 4), (8, 4, 5)):
        layer = CausalSelfAttention(d_model=d, num_heads=num_heads, rng=rng, std=0.5)
        X = _matrix(rng, T, d)
        cache = KVCache(num_heads=num_heads)
        right = [[v.data for v in layer([Value(x) for x in row], cache)] for row in X]
        weights = [[[w.data for w in row] for row in getattr(layer, name).weight]
                   for name in ("wq", "wk", "wv", "wo")]
        got = self_attention([r[:] for r in X], *weights, num_heads)
        if not _same(got, right):
            raise Wrong(f"d = {d}, {num_heads} head(s), T = {T}: "
                        + _layer_hint(got, right, X, weights, num_heads))
    return ("equal to CausalSelfAttention run one position at a time over its KV cache: "
            "the mask and the cache compute the same thing")


def layer(X, weights, num_heads, transposed=True, project=True):
    """The whole layer on plain floats; transposed=False and project=False make the two
    usual slips (X·W for X·Wᵀ, no Wo at the end)."""
    Q, K, V = ([[sum(x * w for x, w in zip(row, column)) for column in
                 (W if transposed else zip(*W))] for row in X] for W in weights[:3])
    hd = len(Q[0]) // num_heads
    heads = [attention(*([r[h * hd:(h + 1) * hd] for r in M] for M in (Q, K, V)))
             for h in range(num_heads)]
    joined = [sum((head[t] for head in heads), []) for t in range(len(X))]
    if not project:
        return joined
    return [[sum(x * w for x, w in zip(row, w_row)) for w_row in weights[3]] for row in joined]


def _layer_hint(got, right, X, weights, num_heads):
    if not _same_shape(got, right):
        return (f"the output must be [T][d], one row per position; got {_shape(got)}")
    if _same(got, layer(X, weights, num_heads, transposed=False)):
        return ("yours multiplies by the weights as they are, X·Wq; a weight is kept as "
                "[out][in], so the layer computes X·Wqᵀ (and likewise for Wk, Wv, Wo)")
    if _same(got, layer(X, weights, num_heads, project=False)):
        return "yours stops after the heads: the layer ends with the output projection, ·Woᵀ"
    return (f"row 0 of yours is {_rounded(got[0])}, the layer gives {_rounded(right[0])}. "
            f"Q = X·Wqᵀ (a weight is [out][in]), head h takes the columns h·hd .. "
            f"(h+1)·hd − 1 of Q, K and V, the heads' outputs go side by side, then ·Woᵀ")
