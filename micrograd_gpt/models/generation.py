"""Generation: how a model's `generate` picks each next token from its scores.

A language model gives one score (a logit) per token of the vocabulary. Sampling turns
them into probabilities with a softmax and draws one token, after three optional knobs:

1. temperature: p ∝ exp(logit / temperature). Below 1 sharpens, above 1 flattens. As the
   temperature goes to 0 only the most likely token is left: a temperature so small
   that every other token's weight rounds to 0 (e.g. 1e-320) picks the argmax (greedy).
2. top_k: keep only the k highest logits (ties with the k-th are kept, as in nanoGPT).
3. top_p (nucleus): keep the most likely tokens until their probability adds up to
   top_p (at least one token), renormalize.

The draw uses the caller's `random.Random`, never the global one, so the same seed gives
the same tokens.

One name per level: `sample_token` (here) is one draw from one row of logits; a model's
`generate` (LanguageModel.generate, and its PyTorch twin's, which take the same
arguments, checked here once) draws token after token with it; `training.sampling.sample`
turns a trained model's tokens into texts.
"""
from __future__ import annotations

import math

from ..common.checks import check_int, check_number, check_numbers, check_rng, check_token_ids

__all__ = ["sample_token", "token_probabilities", "check_sampling", "check_generate_arguments"]


def check_sampling(temperature, top_k, top_p):
    """The sampling knobs, checked: (temperature, top_k, top_p)."""
    return (check_number("temperature", temperature, 0, low_open=True),
            check_int("top_k", top_k, 1, none_ok=True),
            check_number("top_p", top_p, 0, 1, low_open=True, none_ok=True))


def check_generate_arguments(vocab_size, prompt, max_new_tokens, temperature, top_k, top_p,
                             rng, stop_token):
    """The arguments of a model's `generate`, checked (the Value model's and its PyTorch
    twin's take the same ones); returns the `random.Random` to draw with."""
    check_token_ids("prompt", prompt, vocab_size)  # any length: generate crops it
    check_int("max_new_tokens", max_new_tokens, 0)
    check_sampling(temperature, top_k, top_p)
    check_int("stop_token", stop_token, 0, vocab_size - 1, none_ok=True)
    return check_rng("rng", rng)


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    """Draw one token id from plain-float `logits` (see the module docstring for the knobs).

    Then one draw with `rng.random()` (rng None -> random.Random(0)). A nan or infinite
    logit raises a ValueError: no probability can be made of it.
    """
    weights = _weights(logits, temperature, top_k, top_p)
    return _draw(weights, check_rng("rng", rng))


def token_probabilities(logits, temperature=1.0, top_k=None, top_p=None):
    """The probability `sample_token` draws each token id with, for these knobs: a list as
    long as `logits`, 0 for the tokens top-k or top-p left out, summing to 1. What the
    playground's sliders redraw."""
    weights = _weights(logits, temperature, top_k, top_p)
    total = sum(weights.values())
    return [weights.get(i, 0.0) / total for i in range(len(logits))]


def _weights(logits, temperature, top_k, top_p):
    """{token id: weight} of the tokens the knobs leave, each ∝ its probability."""
    temperature, top_k, top_p = check_sampling(temperature, top_k, top_p)
    logits = check_numbers("logits", logits)
    allowed = range(len(logits))
    if top_k is not None and top_k < len(logits):
        kth_largest = sorted(logits, reverse=True)[top_k - 1]
        allowed = [i for i in allowed if logits[i] >= kth_largest]
    m = max(logits[i] for i in allowed)
    # exp((z - m) / T): the same ratios as exp(z / T), but the most likely token weighs
    # exactly 1 and the rest less, so nothing overflows however small T is; when T is so
    # small that the others underflow to 0, only the argmax is left (greedy)
    weights = {i: math.exp((logits[i] - m) / temperature) for i in allowed}
    if top_p is not None:
        weights = _nucleus(weights, top_p)
    return weights


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
