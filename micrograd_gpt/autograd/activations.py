"""Sigmoid and GELU on a plain float, each with its derivative: the two activations whose
formulas take more than one line.

`Value.sigmoid()` and `Value.gelu()` store the derivative as the node's local derivative;
the float path (`functional.sigmoid` and `functional.gelu` on a float, what a
`float_copy()` of a model runs) keeps only the value. Both run these very lines, so they
give the same numbers, bit for bit.
"""
from __future__ import annotations

import math

__all__ = ["sigmoid_and_derivative", "gelu_and_derivative"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def sigmoid_and_derivative(x):
    """(sigmoid(x), d sigmoid/dx) for a float x: sigmoid(x) = 1 / (1 + e^-x)."""
    # two forms, so that exp never overflows: e^-x for x >= 0, e^x for x < 0
    s = 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))
    # d(sigmoid x)/dx = sigmoid(x) * (1 - sigmoid(x))
    return s, s * (1.0 - s)


def gelu_and_derivative(x):
    """(gelu(x), d gelu/dx) for a float x, GPT-2's tanh approximation:
    gelu(x) = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)."""
    t = math.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
    y = 0.5 * x * (1.0 + t)
    if t * t == 1.0:
        # tanh is saturated (|u| > ~19), so 1 - t² = 0 and the second term of the
        # derivative is 0. Written apart because for |x| > ~1e102 x³ overflows to inf,
        # and 0 · inf would be nan.
        return y, 0.5 * (1.0 + t)
    # product rule: d/dx = 0.5(1+t) + 0.5x·(1-t²)·du/dx,  du/dx = √(2/π)(1 + 3·0.044715·x²)
    du_dx = _SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x)
    return y, 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du_dx
