"""Choosing the next token from a model's scores: temperature, top-k, top-p, one draw.

A language model gives one score (a logit) per token of the vocabulary. Sampling turns
them into probabilities with a softmax and draws one token, after three optional knobs:

1. temperature: p ∝ exp(logit / temperature). Below 1 sharpens, above 1 flattens.
2. top_k: keep only the k highest logits (ties with the k-th are kept, as in nanoGPT).
3. top_p (nucleus): keep the most likely tokens until their probability adds up to
   top_p (at least one token), renormalize.

The draw uses the caller's `random.Random`, never the global one, so the same seed gives
the same tokens.
"""
from __future__ import annotations

import math

from .checks import check_int, check_number, check_rng

__all__ = ["sample_token", "check_sampling"]


def check_sampling(temperature, top_k, top_p):
    """The sampling knobs, checked: (temperature, top_k, top_p)."""
    return (check_number("temperature", temperature, 0, low_open=True),
            check_int("top_k", top_k, 1, none_ok=True),
            check_number("top_p", top_p, 0, 1, low_open=True, none_ok=True))


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    """Draw one token id from plain-float `logits` (see the module docstring for the knobs).

    Then one draw with `rng.random()` (rng None -> random.Random(0)).
    """
    temperature, top_k, top_p = check_sampling(temperature, top_k, top_p)
    rng = check_rng("rng", rng)
    scaled = [z / temperature for z in logits]
    allowed = range(len(scaled))
    if top_k is not None and top_k < len(scaled):
        kth_largest = sorted(scaled, reverse=True)[top_k - 1]
        allowed = [i for i in allowed if scaled[i] >= kth_largest]
    m = max(scaled[i] for i in allowed)
    weights = {i: math.exp(scaled[i] - m) for i in allowed}
    if top_p is not None:
        weights = _nucleus(weights, top_p)
    return _draw(weights, rng)


def _nucleus(weights, top_p):
    """The most likely ids of `weights` whose share of the total reaches top_p."""
    total = sum(weights.values())
    nucleus, mass = {}, 0.0
    for i in sorted(weights, key=lambda i: (-weights[i], i)):
        nucleus[i] = weights[i]
        mass += weights[i] / total
        if mass >= top_p:
            break
    return nucleus


def _draw(weights, rng):
    """One key of `weights` (id -> positive weight), chosen with probability ∝ its weight."""
    ids = sorted(weights)
    r = rng.random() * sum(weights[i] for i in ids)
    cumulative = 0.0
    for i in ids:
        cumulative += weights[i]
        if r < cumulative:
            return i
    return ids[-1]  # r landed on the total through rounding
