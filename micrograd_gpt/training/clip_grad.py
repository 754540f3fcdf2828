"""Gradient clipping: `clip_grad_norm`, as `torch.nn.utils.clip_grad_norm_`.

One unlucky batch can give a gradient many times longer than usual, and one step along it
can undo much of the training so far. Clipping scales the whole gradient down when its
overall length is above a limit: the direction of the step stays, only its size is capped.
The trainer clips before every optimizer step (`TrainConfig.grad_clip`).
"""
from __future__ import annotations

import math

from ..common.checks import check_number, check_values

__all__ = ["clip_grad_norm"]


def clip_grad_norm(params, max_norm):
    """Scale all gradients down together so that their overall length is at most
    `max_norm`, and return that length *before* clipping (like
    `torch.nn.utils.clip_grad_norm_`):

        total_norm = sqrt(sum of g**2 over every parameter)
        if total_norm > max_norm:  g = g * max_norm / (total_norm + 1e-6)

    The direction of the step is unchanged; only a rare huge gradient is tamed. A nan or
    infinite gradient cannot be tamed (any scale of it is still nan or inf): that raises
    a ValueError naming the parameter, since the training has already gone wrong.
    """
    max_norm = check_number("max_norm", max_norm, 0, low_open=True)
    params = list(params)
    try:
        total_norm = math.sqrt(math.fsum(p.grad * p.grad for p in params))
    except AttributeError:  # something without a .grad: say what
        check_values("params", params)
        raise
    if not math.isfinite(total_norm):
        total_norm = _overflowing_norm(params)
    scale = max_norm / (total_norm + 1e-6)
    if scale < 1.0:
        for p in params:
            p.grad *= scale
    return total_norm


def _overflowing_norm(params):
    """The length of the gradient when the plain sum of squares overflowed: each g is
    divided by the largest |g| first (sqrt(Σ g²) = M·sqrt(Σ (g/M)²)), so finite gradients
    always give a finite length; a nan or infinite gradient is refused."""
    grads = [p.grad for p in params]
    bad = next((i for i, g in enumerate(grads) if not math.isfinite(g)), None)
    if bad is not None:
        raise ValueError(f"clip_grad_norm: parameter {bad} has gradient {grads[bad]}, which "
                         "no clipping can make finite; the training has diverged (lower the "
                         "learning rate, or look for the first non-finite value)")
    biggest = max(abs(g) for g in grads)
    return biggest * math.sqrt(math.fsum((g / biggest) ** 2 for g in grads))
