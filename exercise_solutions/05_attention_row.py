"""Exercise 5 (chapter 5): one row of attention by hand, head by head. A solution."""
import math


def attention_weights(q, keys):
    """softmax([q·k / sqrt(len(q)) for k in keys]): one weight per key, summing to 1."""
    scores = [sum(a * b for a, b in zip(q, k)) / math.sqrt(len(q)) for k in keys]
    top = max(scores)                            # exp(s - top) <= 1: no overflow
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def attention_output(weights, values):
    """Σ_s weights[s] * values[s], entry by entry: a list as long as one value."""
    return [sum(w * v[j] for w, v in zip(weights, values)) for j in range(len(values[0]))]


def multi_head(q, keys, values, num_heads):
    """Attention head by head on slices of q, keys and values; the heads side by side."""
    hd = len(q) // num_heads
    out = []
    for h in range(num_heads):
        part = slice(h * hd, (h + 1) * hd)
        weights = attention_weights(q[part], [k[part] for k in keys])
        out += attention_output(weights, [v[part] for v in values])
    return out
