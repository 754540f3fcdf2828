"""The float fast path (inference.py) computes exactly what the Value forward computes."""
import itertools
import random

import pytest

from micrograd_gpt import no_grad
from micrograd_gpt.gpt import GPT, GPTConfig, sample_token
from micrograd_gpt.inference import FloatGPT

OPTIONS = list(itertools.product(("layernorm", "rmsnorm"), ("gelu", "relu"), (True, False),
                                 (True, False)))


def make_model(norm, activation, tied, fused, seed=0):
    config = GPTConfig(vocab_size=11, d_model=8, num_heads=2, num_layers=2, max_seq_len=6,
                       norm=norm, activation=activation, tie_weights=tied, fused=fused,
                       init_std=0.4)
    model = GPT(config, rng=random.Random(seed))
    rng = random.Random(seed + 1)
    for p in model.parameters():  # move norm gains/biases off 1 and 0 too
        p.data += rng.gauss(0.0, 0.1)
    return model


@pytest.mark.parametrize("norm,activation,tied,fused", OPTIONS)
def test_float_step_equals_the_value_forward_bit_for_bit(norm, activation, tied, fused):
    model = make_model(norm, activation, tied, fused)
    tokens = [3, 0, 10, 7, 7, 1]
    expected = [[v.data for v in row] for row in model(tokens)]
    fast = FloatGPT(model)
    cache = fast.new_cache()
    got = [fast.step(token, cache) for token in tokens]
    if fused:
        assert got == expected  # exactly equal: same operations in the same order
    else:
        # plain sums are chains of `+`; from Python 3.12, sum() of floats rounds more
        # accurately, so the float path may differ from the plain graph in the last bits
        worst = max(abs(a - b) for ra, rb in zip(got, expected) for a, b in zip(ra, rb))
        assert worst < 1e-12
    assert fast.cache_length(cache) == len(tokens)


def test_the_snapshot_does_not_follow_later_training():
    model = make_model("layernorm", "gelu", True, True)
    fast = FloatGPT(model)
    before = fast.step(2, fast.new_cache())
    for p in model.parameters():
        p.data += 1.0
    assert fast.step(2, fast.new_cache()) == before
    assert FloatGPT(model).step(2, FloatGPT(model).new_cache()) != before


def test_generate_samples_what_the_value_model_would_sample():
    """generate() (float path) against a slow loop on the Value model, past max_seq_len."""
    model = make_model("rmsnorm", "relu", False, True)
    T = model.config.max_seq_len
    prompt, n = [1, 2, 3], 12
    got = model.generate(prompt, n, temperature=0.9, top_k=5, rng=random.Random(4))
    rng, sequence = random.Random(4), list(prompt)
    with no_grad():
        for _ in range(n):
            logits = [v.data for v in model(sequence[-T:])[-1]]
            sequence.append(sample_token(logits, 0.9, 5, None, rng))
    assert got == sequence[len(prompt):]


def test_generation_builds_no_value_nodes(monkeypatch):
    """The fast path creates no Value at all (so no graph, nothing to free)."""
    from micrograd_gpt import engine
    model = make_model("layernorm", "gelu", True, True)
    created = []
    original = engine.Value.__init__

    def counting_init(self, *args, **kwargs):
        created.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(engine.Value, "__init__", counting_init)
    model.generate([1], 8, rng=random.Random(0))
    assert created == []
