"""Exercise 9 (chapter 7): the backward of layer norm. A solution."""
import math


def layernorm_backward(x, g, b, dy, eps=1e-5):
    """(dx, dg, db) for y = g·(x - μ)/sqrt(σ² + eps) + b, given dy = d loss / d y."""
    d = len(x)
    mu = sum(x) / d
    r = 1.0 / math.sqrt(sum((v - mu) ** 2 for v in x) / d + eps)
    n = [(v - mu) * r for v in x]
    db = list(dy)                                     # y_i = g_i·n_i + b_i
    dg = [dy_i * n_i for dy_i, n_i in zip(dy, n)]
    dn = [dy_i * g_i for dy_i, g_i in zip(dy, g)]
    # ∂n_i/∂x_j = r·(δ_ij - 1/d - n_i·n_j/d), so dx = r·(dn - mean(dn) - n·mean(dn·n))
    mean_dn = sum(dn) / d
    mean_dn_n = sum(a * c for a, c in zip(dn, n)) / d
    dx = [r * (dn[i] - mean_dn - n[i] * mean_dn_n) for i in range(d)]
    return dx, dg, db
