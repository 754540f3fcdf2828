"""Exercise 9 (chapter 7): the backward of layer norm.

On plain floats: x, g (the gain) and b (the bias) are lists of d numbers. Layer norm is

    μ = mean(x),  σ² = mean((x - μ)²),  r = 1 / sqrt(σ² + eps)
    n_i = (x_i - μ)·r,     y_i = g_i·n_i + b_i

Given dy (d loss/d y, d numbers), return (dx, dg, db). dg and db are like a linear
layer's. dx is the real exercise: every n_i depends on every x_j, through μ and through
σ². Derive it before you read chapter 7's section on it, then write it with plain
loops.

The checker compares each with backward() on micrograd_gpt's own LayerNorm, and where one
is off shows the table (yours, backward(), numeric) at that input.

Check your work:  micrograd-gpt exercise check 9
"""
import math


def layernorm_backward(x, g, b, dy, eps=1e-5):
    """(dx, dg, db) for y = g·(x - μ)/sqrt(σ² + eps) + b, given dy = d loss / d y."""
    # TODO
    raise NotImplementedError("write layernorm_backward")
