"""Causal multi-head self-attention, one position at a time over a key/value cache.

A GPT reads its input left to right. At position t, attention lets the token look back
at positions 0..t (never ahead: that is what "causal" means). Rather than building a
[T][T] score matrix with a mask, we process one position at a time and keep the keys and
values of the earlier positions in a `KVCache`: the cache holds exactly what position t
is allowed to see. Training (all positions, with gradients) and generation (one new token
per step) then run the same code.
"""
from __future__ import annotations

import math

from ..autograd import functional as F
from ..common.checks import check_int
from .nn import Linear, Module

__all__ = ["KVCache", "CausalSelfAttention"]


class KVCache:
    """The keys and values of the positions seen so far, for one attention layer.

    keys[h][t] is the key of head h at position t, a list of head_dim Values; values[h][t]
    likewise. `len(cache)` is the number of positions stored.

    To look inside (inspection.py), `keep_weights()` makes the cache also keep what each
    position attended to: weights[h][t] is the softmax row of head h at position t, over
    positions 0..t. Off by default (`weights` is None), so training stores nothing extra.
    """

    def __init__(self, num_heads):
        check_int("num_heads", num_heads, 1)
        self.keys = [[] for _ in range(num_heads)]    # [h][t][head_dim]
        self.values = [[] for _ in range(num_heads)]  # [h][t][head_dim]
        self.weights = None                           # [h][t][t+1] once keep_weights()

    def keep_weights(self):
        """From now on, keep every attention row this layer computes (see `weights`);
        returns the cache."""
        if self.weights is None:
            self.weights = [[] for _ in self.keys]
        return self

    def __len__(self):
        return len(self.keys[0])

    def __repr__(self):
        return f"KVCache({len(self.keys)} heads, {len(self)} positions)"


class CausalSelfAttention(Module):
    """Multi-head attention of one position over itself and all earlier positions.

    For the input x (d numbers) at position t:

        q = Wq·x,  k = Wk·x,  v = Wv·x            each [d], split into h heads of d/h
        score_s = (q_h · k_h,s) / sqrt(d/h)        for every cached position s <= t
        a = softmax(score_0 .. score_t)            how much position t attends to each s
        out_h = Σ_s a_s · v_h,s                    a weighted average of the values
        y = Wo · concat(out_0 .. out_{h-1})        [d]

    The four weight matrices (Wq, Wk, Wv, Wo: 4d² parameters) have no bias, as in the book.
    """

    def __init__(self, d_model, num_heads, rng=None, std=0.02):
        check_int("d_model", d_model, 1)
        check_int("num_heads", num_heads, 1)
        if d_model % num_heads:
            raise ValueError(
                f"d_model must be divisible by num_heads, got d_model={d_model}, "
                f"num_heads={num_heads}")
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        self.wq = Linear(d_model, d_model, bias=False, rng=rng, std=std)
        self.wk = Linear(d_model, d_model, bias=False, rng=rng, std=std)
        self.wv = Linear(d_model, d_model, bias=False, rng=rng, std=std)
        self.wo = Linear(d_model, d_model, bias=False, rng=rng, std=std)

    def forward(self, x, cache):
        """x: [d] at the next position; cache: the KVCache of this layer (gets one more entry).
        Returns [d]."""
        hd = self.head_dim
        q, k, v = self.wq(x), self.wk(x), self.wv(x)  # each [d]
        # Scale q once (d nodes) instead of every score (t+1 nodes per head): the same
        # numbers as (q·k)/sqrt(hd), fewer nodes for long sequences. One constant node.
        q = F.scale(q, 1.0 / math.sqrt(hd))
        kept = cache.weights  # None unless someone is looking inside (one check per head)
        heads_out = []
        for h in range(self.num_heads):
            part = slice(h * hd, (h + 1) * hd)
            # q, k, v: [d] -> heads: [h][d/h]; this head's part of the new key and value
            # joins the cache of head h
            q_h = q[part]
            cache.keys[h].append(k[part])
            cache.values[h].append(v[part])
            keys_h, values_h = cache.keys[h], cache.values[h]        # [t+1][hd] each
            scores = [F.dot(q_h, key) for key in keys_h]              # [t+1]
            weights = F.softmax(scores)                               # [t+1], sums to 1
            if kept is not None:
                kept[h].append(weights)  # the very list used below, not a recomputation
            # out_h[j] = Σ_s weights[s] · values_h[s][j]: a dot over positions
            heads_out += [F.dot(weights, [value[j] for value in values_h]) for j in range(hd)]
        return self.wo(heads_out)  # heads: [h][hd] concatenated -> [d] -> [d]

    def extra_repr(self):
        return f"{self.num_heads} heads x {self.head_dim}"
