"""Exercise 16 (chapter 12): two fused operations, one node each.

A fused operation is one Value with many children, whose local derivatives you work out
on plain numbers (chapter 12: `dot`, `cross_entropy`, `inverse_rms`). Built from small
operations, ln(e^a + e^b + e^c) is a node per exp, per + and the log; fused, it is one:

    Value(result, tuple(z), tuple(derivatives), "logsumexp")

with the inputs themselves as children and one plain number (a float, never a Value)
per child: d result / d child, at the inputs' .data.

    logsumexp(z)                 ln Σ_i e^(z_i), for a list of Values z. It must not
                                 overflow for z = [1000, 0, −1000] (as softmax, take the
                                 largest out first: ln Σ e^(z_i) = m + ln Σ e^(z_i − m))
    mse(predictions, targets)    the mean of (p_i − t_i)², for Values p and plain
                                 numbers t (chapter 4's XOR loss, as one node)

Work out each derivative first. The checker makes sure each is one node with the inputs
as children, compares the value, checks your derivatives with nudges (gradcheck), then
puts both into one graph that shares their inputs and compares with the plain graph:
the same gradients, and how many nodes fewer.

Check your work:  micrograd-gpt exercise check 16
"""
import math

from micrograd_gpt import Value


def logsumexp(z):
    """ln Σ e^(z_i) as one Value, with the z's as its children."""
    # TODO: the result, then d result/d z_i for every i, then one Value
    raise NotImplementedError("write logsumexp")


def mse(predictions, targets):
    """mean((p_i − t_i)²) as one Value, with the predictions as its children."""
    # TODO
    raise NotImplementedError("write mse")
