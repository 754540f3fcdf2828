"""Exercise 7 (chapter 7): softmax + cross-entropy, and its gradient p - one-hot.

On plain floats (lists of numbers), no Values. z is a list of logits, target an index.

    softmax(z)                     p_i = e^(z_i) / Σ_j e^(z_j); subtract max(z) first, so
                                   that z = [1000, 0] does not overflow
    cross_entropy(z, target)       -ln p_target, the loss of one prediction
    cross_entropy_grad(z, target)  d cross_entropy / d z_j for every j: derive it first
                                   (chapter 7); it is short
    softmax_backward(z, dp)        given dp = d loss/d p, return dz = d loss/d z, through
                                   the softmax's Jacobian ∂p_i/∂z_j = p_i·(δ_ij − p_j)

The checker compares your gradients with backward() on the same computation built from
Values, and where one is off shows the table (yours, backward(), numeric) at that input.

Check your work:  micrograd-gpt exercise check 7
"""
import math


def softmax(z):
    """The probabilities of the logits z (a list of floats summing to 1)."""
    # TODO
    raise NotImplementedError("write softmax")


def cross_entropy(z, target):
    """-ln softmax(z)[target]."""
    # TODO
    raise NotImplementedError("write cross_entropy")


def cross_entropy_grad(z, target):
    """The gradient of cross_entropy(z, target) toward z: a list as long as z."""
    # TODO
    raise NotImplementedError("write cross_entropy_grad")


def softmax_backward(z, dp):
    """dz_j = Σ_i dp_i · ∂p_i/∂z_j, with p = softmax(z): a list as long as z."""
    # TODO
    raise NotImplementedError("write softmax_backward")
