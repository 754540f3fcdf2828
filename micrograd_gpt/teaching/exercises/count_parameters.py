"""Checks exercise 6: the parameter count of a GPT config, against real models."""
from __future__ import annotations

import itertools
import random

from ...models.gpt import GPT, GPTConfig, count_parameters
from .tutor import Wrong, run_part

# small configs, built for real: (vocab_size, d_model, num_layers, max_seq_len)
SIZES = [(5, 4, 1, 3), (27, 16, 1, 16), (10, 8, 3, 6), (3, 12, 2, 1)]
MEDIUM = dict(vocab_size=50257, d_model=1024, num_layers=24, max_seq_len=1024)


def check(learner):
    """The parts of exercise 6."""
    parts = [run_part(f"count, {norm}, {'tied' if tied else 'untied'}",
                      lambda norm=norm, tied=tied: _check_kind(learner, norm, tied))
             for norm, tied in itertools.product(("layernorm", "rmsnorm"), (True, False))]
    parts.append(run_part("GPT2_MEDIUM", lambda: _check_medium(learner)))
    return parts


def _real_count(sizes, norm, tied):
    vocab, d, layers, seq = sizes
    config = GPTConfig(vocab_size=vocab, d_model=d, num_heads=2, num_layers=layers,
                       max_seq_len=seq, norm=norm, tie_weights=tied)
    return len(GPT(config, rng=random.Random(0)).parameters())


def _check_kind(learner, norm, tied):
    count = learner.function("count")
    for sizes in SIZES:
        expected = _real_count(sizes, norm, tied)
        got = count(*sizes, norm=norm, tie_weights=tied)
        if got != expected:
            vocab, d, layers, seq = sizes
            raise Wrong(f"count(vocab_size={vocab}, d_model={d}, num_layers={layers}, "
                        f"max_seq_len={seq}, norm={norm!r}, tie_weights={tied}) is {got!r}, "
                        f"but that GPT has {expected:,} parameters" + _hint(norm, tied))
    return f"equal to the real models' counts for {len(SIZES)} configs"


def _hint(norm, tied):
    if not tied:
        return ". Untied, the unembedding is a matrix of its own: |V| × d more."
    if norm == "rmsnorm":
        return ". An RMSNorm has a gain only: d numbers, not 2d."
    return ". Per block: 4d² + 8d² of weights, and two norms of 2d each."


def _check_medium(learner):
    answer = learner.answer("GPT2_MEDIUM")
    expected = count_parameters(GPTConfig(num_heads=16, **MEDIUM))
    if answer != expected:
        raise Wrong(f"GPT2_MEDIUM = {answer!r} is off: it is count() at |V| = 50,257, "
                    f"d = 1,024, 24 blocks and T = 1,024 (tied, layernorm); once count() is "
                    f"right above, let it do the sum", answer=f"{expected:,}")
    biases = MEDIUM["num_layers"] * 9 * MEDIUM["d_model"]   # GPT-2's 9d biases per block
    return (f"{expected:,}; with GPT-2's biases, {expected + biases:,}: the 355M of GPT-2 "
            f"medium")
