"""Exercise 7 (chapter 7): softmax + cross-entropy, and its gradient p - one-hot.
A solution."""
import math


def softmax(z):
    """The probabilities of the logits z (a list of floats summing to 1)."""
    top = max(z)                                  # e^(z - top) <= 1: no overflow
    exps = [math.exp(v - top) for v in z]
    total = sum(exps)
    return [e / total for e in exps]


def cross_entropy(z, target):
    """-ln softmax(z)[target]."""
    # -z_t + ln Σ e^(z_j), with the max taken out of the sum so it cannot overflow
    top = max(z)
    return math.log(sum(math.exp(v - top) for v in z)) - (z[target] - top)


def cross_entropy_grad(z, target):
    """The gradient of cross_entropy(z, target) toward z: a list as long as z."""
    # d/dz_j (-z_t + ln Σ e^z) = p_j - [j == t]
    return [p - (j == target) for j, p in enumerate(softmax(z))]


def softmax_backward(z, dp):
    """dz_j = Σ_i dp_i · ∂p_i/∂z_j, with p = softmax(z): a list as long as z."""
    # Σ_i dp_i p_i (δ_ij - p_j) = p_j (dp_j - Σ_i dp_i p_i)
    p = softmax(z)
    mean = sum(a * b for a, b in zip(dp, p))
    return [p_j * (dp_j - mean) for p_j, dp_j in zip(p, dp)]
