"""Checks exercise 5: attention weights, the weighted average, several heads, and the
result against a real CausalSelfAttention layer."""
from __future__ import annotations

import math
import random

from ...models.attention import CausalSelfAttention, KVCache
from ...autograd.value import Value
from .tutor import Wrong, close, run_part


def check(learner):
    """The parts of exercise 5."""
    return [run_part("attention_weights", lambda: _check_weights(learner)),
            run_part("attention_output", lambda: _check_output(learner)),
            run_part("multi_head", lambda: _check_heads(learner)),
            run_part("against CausalSelfAttention", lambda: _check_layer(learner))]


def _vectors(rng, count, size, scale=1.0):
    return [[rng.gauss(0.0, scale) for _ in range(size)] for _ in range(count)]


def _softmax(scores):
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    return [e / sum(exps) for e in exps]


def _reference_weights(q, keys):
    return _softmax([sum(a * b for a, b in zip(q, k)) / math.sqrt(len(q)) for k in keys])


def _reference_output(weights, values):
    return [sum(w * v[j] for w, v in zip(weights, values)) for j in range(len(values[0]))]


def _compare(name, got, expected, inputs):
    if not isinstance(got, (list, tuple)) or len(got) != len(expected):
        raise Wrong(f"{name}({inputs}) must give a list of {len(expected)} numbers, got "
                    f"{got!r}")
    for i, (g, e) in enumerate(zip(got, expected)):
        if not close(g, e, 1e-9):
            raise Wrong(f"{name}({inputs}): entry {i} is {g!r}, expected {e!r}\n"
                        f"yours:    {[round(x, 6) for x in got]}\n"
                        f"expected: {[round(x, 6) for x in expected]}")


def _check_weights(learner):
    weights = learner.function("attention_weights")
    rng = random.Random(1)
    for size, count in ((2, 1), (4, 3), (8, 5)):
        q, keys = _vectors(rng, 1, size)[0], _vectors(rng, count, size)
        _compare("attention_weights", weights(q, keys), _reference_weights(q, keys),
                 f"q of {size}, {count} keys")
    big_q, big_keys = [30.0] * 4, [[30.0] * 4, [-30.0] * 4]   # scores ±1800: exp overflows
    _compare("attention_weights", weights(big_q, big_keys), [1.0, 0.0],
             "q = [30]*4, keys [30]*4 and [-30]*4 (scores of ±1800)")
    return "right, for one key or several, and with huge scores (no overflow)"


def _check_output(learner):
    output = learner.function("attention_output")
    rng = random.Random(2)
    for count, size in ((1, 3), (4, 2), (6, 5)):
        weights = _softmax([rng.gauss(0, 1) for _ in range(count)])
        values = _vectors(rng, count, size)
        _compare("attention_output", output(weights, values),
                 _reference_output(weights, values), f"{count} weights, values of {size}")
    return "the weighted average of the values, entry by entry"


def _reference_heads(q, keys, values, num_heads):
    hd, out = len(q) // num_heads, []
    for h in range(num_heads):
        part = slice(h * hd, (h + 1) * hd)
        weights = _reference_weights(q[part], [k[part] for k in keys])
        out += _reference_output(weights, [v[part] for v in values])
    return out


def _check_heads(learner):
    heads = learner.function("multi_head")
    rng = random.Random(3)
    for d, num_heads, count in ((4, 1, 3), (4, 2, 3), (8, 4, 5)):
        q, keys, values = _vectors(rng, 1, d)[0], _vectors(rng, count, d), _vectors(rng, count, d)
        _compare("multi_head", heads(q, keys, values, num_heads),
                 _reference_heads(q, keys, values, num_heads),
                 f"d = {d}, {num_heads} head(s), {count} positions")
    return "each head attends on its own slice; the outputs side by side"


def _times(matrix, x):
    """matrix · x on plain floats."""
    return [sum(a * b for a, b in zip(row, x)) for row in matrix]


def _check_layer(learner):
    heads = learner.function("multi_head")
    rng = random.Random(4)
    layer = CausalSelfAttention(d_model=8, num_heads=2, rng=rng, std=0.5)
    xs = _vectors(rng, 4, 8)
    cache = KVCache(num_heads=2)
    outputs = [[v.data for v in layer([Value(x) for x in row], cache)] for row in xs]
    matrix = {name: [[w.data for w in r] for r in getattr(layer, name).weight]
              for name in ("wq", "wk", "wv", "wo")}
    t = len(xs) - 1
    keys = [_times(matrix["wk"], x) for x in xs]
    values = [_times(matrix["wv"], x) for x in xs]
    mixed = _times(matrix["wo"], heads(_times(matrix["wq"], xs[t]), keys, values, 2))
    _compare("Wo · multi_head", mixed, outputs[t], "the layer's q, keys, values at position 3")
    return ("Wo · multi_head(Wq·x_3, keys, values, 2) equals the layer's output at "
            "position 3: you computed a row of real attention")
