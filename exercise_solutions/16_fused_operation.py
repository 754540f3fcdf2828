"""Exercise 16 (chapter 12): two fused operations, one node each. A solution."""
import math

from micrograd_gpt import Value


def logsumexp(z):
    """ln Σ e^(z_i) as one Value, with the z's as its children."""
    top = max(v.data for v in z)                       # e^(z_i − top) <= 1: no overflow
    exps = [math.exp(v.data - top) for v in z]
    total = sum(exps)
    # d/dz_i ln S = e^(z_i) / S: the softmax of z
    return Value(top + math.log(total), tuple(z), tuple(e / total for e in exps),
                 "logsumexp")


def mse(predictions, targets):
    """mean((p_i − t_i)²) as one Value, with the predictions as its children."""
    n = len(predictions)
    errors = [p.data - t for p, t in zip(predictions, targets)]
    # d/dp_i (1/n)·Σ (p_j − t_j)² = 2·(p_i − t_i)/n
    return Value(sum(e * e for e in errors) / n, tuple(predictions),
                 tuple(2 * e / n for e in errors), "mse")
