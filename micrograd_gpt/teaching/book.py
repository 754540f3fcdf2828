"""The book's functional API (its Appendix A), built on the GPT classes.

The book writes its GPT as functions: `make_gpt_params`, `gpt_forward`, `softmax`,
`generate`, `count_parameters` and an end-to-end `demo`. They keep the book's names and
argument order here, so its code runs unchanged, but each one is a thin layer over
`GPT` (gpt.py): `params` is simply the GPT model.
"""
from __future__ import annotations

import random

from ..autograd import functional as F
from ..common.checks import check_number
from ..models.gpt import GPT, GPTConfig, count_parameters

__all__ = ["GPTConfig", "make_gpt_params", "gpt_forward", "softmax", "generate",
           "count_parameters", "demo"]


def make_gpt_params(config, rng):
    """All the parameters of a GPT with this config, initialized with `rng`: the model itself.

    (The book returns a dict of weight matrices; here the model holds them, and
    `params.named_parameters()` / `params.state_dict()` list them by name.)
    """
    return GPT(config, rng=rng)


def gpt_forward(tokens, params, config):
    """The next-token logits after the last of `tokens`: a list of vocab_size floats.

    Computed without a graph (the model's forward on its float copy): for gradients, use
    `params.loss(tokens)`.
    """
    _check_params(params, config)
    return params.float_copy()(list(tokens))[-1]


def softmax(logits):
    """Probabilities from plain-float logits: exp(z_i - max z) / Σ_j exp(z_j - max z).

    Subtracting the max changes nothing mathematically and keeps exp from overflowing.
    """
    return F.softmax([check_number("logits", z) for z in logits])


def generate(params, config, prompt, max_new_tokens, temperature=1.0, top_k=None, rng=None):
    """The book's sampler: up to `max_new_tokens` new token ids after `prompt` (the new ones
    only). Delegates to `GPT.generate` (KV cache, no graph; rng None -> random.Random(0))."""
    _check_params(params, config)
    return params.generate(prompt, max_new_tokens, temperature=temperature, top_k=top_k,
                           rng=rng)


def demo(seed=7):
    """The book's end-to-end demo: build the demo GPT, score a prompt, sample ten tokens.

    Returns the book's dict: config, parameters (30,144), logits_first_10, top_token (the
    most likely next token after [1, 2, 3, 4, 5]), top_probability, generated (ten tokens
    after [1, 2, 3]) and full_sequence (the prompt followed by them).
    """
    config = GPTConfig(vocab_size=100, d_model=32, num_heads=4, num_layers=2, max_seq_len=64)
    model_rng = random.Random(seed)
    sample_rng = random.Random(seed + 1)
    params = make_gpt_params(config, model_rng)
    logits = gpt_forward([1, 2, 3, 4, 5], params, config)
    probabilities = softmax(logits)
    top_token = max(range(len(probabilities)), key=probabilities.__getitem__)
    generated = generate(params, config, [1, 2, 3], 10, temperature=0.8, top_k=10, rng=sample_rng)
    return {
        "config": config,
        "parameters": count_parameters(config),
        "logits_first_10": logits[:10],
        "top_token": top_token,
        "top_probability": probabilities[top_token],
        "generated": generated,
        "full_sequence": [1, 2, 3] + generated,
    }


def _check_params(params, config):
    if not isinstance(params, GPT):
        raise ValueError(
            f"params must be the GPT from make_gpt_params, got {type(params).__name__}")
    if config != params.config:
        raise ValueError(f"config {config} does not match the model's config {params.config}")
