"""One forward: the float copy that generation and evaluation use runs the model's own code.

`model.float_copy()` swaps every parameter for its float and runs the modules' forward
unchanged, so it computes exactly what the Value forward computes. These tests prove it
for every GPTConfig field, and show by mutation that it cannot drift: change the model
and the float path follows; make forward code build Values of its own and the guard says
so instead of silently running the slow path.
"""
import dataclasses
import random

import pytest

from helpers import make_gpt
from micrograd_gpt import nn
from micrograd_gpt.autograd import value as engine
from micrograd_gpt.models.attention import CausalSelfAttention
from micrograd_gpt.autograd.modes import no_grad
from micrograd_gpt.autograd.value import Value
from micrograd_gpt.models.gpt import GPTConfig
from micrograd_gpt.models.generation import sample_token
from micrograd_gpt.training.engines import evaluate

BASE = dict(vocab_size=11, d_model=8, num_heads=2, num_layers=2, max_seq_len=6, init_std=0.4)

# For each GPTConfig field, values other than BASE's (or the default). A field added to
# GPTConfig without an entry here fails `test_every_config_field_is_exercised`, so no
# option of the model can escape the equality test below.
ALTERNATIVES = {
    "vocab_size": [5, 23],
    "d_model": [4, 12],
    "num_heads": [1, 4],
    "num_layers": [1, 3],
    "max_seq_len": [3, 9],
    "norm": ["rmsnorm"],
    "elementwise_affine": [False],
    "embedding_norm": [True],
    "final_norm": [False],
    "activation": ["relu"],
    "tie_weights": [False],
    "init_std": [0.05, 1.0],
    "fused": [False],
}
VARIANTS = [(name, value) for name, options in ALTERNATIVES.items() for value in options]


def test_every_config_field_is_exercised():
    fields = {f.name for f in dataclasses.fields(GPTConfig)}
    assert set(ALTERNATIVES) == fields, (
        "add the new GPTConfig field(s) to ALTERNATIVES: "
        f"{sorted(fields - set(ALTERNATIVES))}")


def config_with(name, value):
    return GPTConfig(**dict(BASE, **{name: value}))


def assert_same_numbers(got, expected, fused):
    if fused:
        assert got == expected  # exactly equal: same operations in the same order
    else:
        # plain sums are chains of `+`; from Python 3.12, sum() of floats rounds more
        # accurately, so the float path may differ from the plain graph in the last bits
        worst = max(abs(a - b) for ra, rb in zip(got, expected) for a, b in zip(ra, rb))
        assert worst < 1e-12


@pytest.mark.parametrize("name,value", VARIANTS, ids=[f"{n}={v}" for n, v in VARIANTS])
def test_float_copy_computes_the_value_forward(name, value):
    config = config_with(name, value)
    model = make_gpt(config, seed=3)
    tokens = [(7 * i + 3) % config.vocab_size for i in range(config.max_seq_len)]
    expected = [[v.data for v in row] for row in model(tokens)]
    fast = model.float_copy()
    got = fast(tokens)
    assert all(type(x) is float for row in got for x in row)
    assert_same_numbers(got, expected, config.fused)
    loss = model.loss(tokens)
    assert abs(fast.loss(tokens) - loss.data) < 1e-12
    assert evaluate(model, [tokens]) == pytest.approx(loss.data, abs=1e-12)


def test_the_copy_does_not_follow_later_training():
    model = make_gpt(GPTConfig(**BASE))
    fast = model.float_copy()
    before = fast([2])
    for p in model.parameters():
        p.data += 1.0
    assert fast([2]) == before
    assert model.float_copy()([2]) != before
    assert fast.float_copy() is fast  # already floats: nothing to copy


def test_a_copy_has_no_parameters_to_train():
    fast = make_gpt(GPTConfig(**BASE)).float_copy()
    with pytest.raises(ValueError, match="float_copy"):
        fast.parameters()


def test_generate_samples_what_the_value_model_would_sample():
    """generate() (float path) against a slow loop on the Value model, past max_seq_len."""
    model = make_gpt(GPTConfig(**dict(BASE, norm="rmsnorm", tie_weights=False)))
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
    """The fast path creates no Value at all (so no graph, nothing to free): neither a
    leaf (Value()) nor an operation's result (engine._node)."""
    model = make_gpt(GPTConfig(**BASE))
    fast = model.float_copy()
    created = []
    original_init, original_node = engine.Value.__init__, engine._node

    def counting_init(self, *args, **kwargs):
        created.append("leaf")
        original_init(self, *args, **kwargs)

    def counting_node(*args):
        created.append("node")
        return original_node(*args)

    monkeypatch.setattr(engine.Value, "__init__", counting_init)
    monkeypatch.setattr(engine, "_node", counting_node)
    model([1, 2, 3])  # the counters see the Value path...
    assert "leaf" in created and "node" in created
    created.clear()
    fast.generate([1], 8, rng=random.Random(0))  # ...and nothing on the float path
    assert created == []


# ---- mutations: change the model, and see what the float path does ---------------------

def test_mutation_a_new_weight_is_followed_by_the_float_path(monkeypatch):
    """Give every MLP a learned output bias (a change to the model's code and weights): the
    float path computes the changed model too, with no second place to edit."""
    config = GPTConfig(**BASE)
    model = make_gpt(config, seed=1)
    tokens = [1, 4, 2, 8, 5, 7]
    before = [[v.data for v in row] for row in model(tokens)]
    rng = random.Random(9)
    for block in model.blocks:
        block.mlp.out_bias = [Value(rng.gauss(0.0, 0.5)) for _ in range(config.d_model)]
    original_forward = nn.MLP.forward
    monkeypatch.setattr(nn.MLP, "forward", lambda self, x: [
        y + b for y, b in zip(original_forward(self, x), self.out_bias)])

    assert any(name.endswith("mlp.out_bias") for name, _ in model.named_tensors())
    expected = [[v.data for v in row] for row in model(tokens)]
    assert max(abs(a - b) for ra, rb in zip(expected, before) for a, b in zip(ra, rb)) > 1e-3
    assert model.float_copy()(tokens) == expected
    assert model.generate([1], 5, rng=random.Random(2)) != []


def test_mutation_forward_code_that_makes_values_is_caught(monkeypatch):
    """A forward that writes a constant as Value(...) would turn the float path back into
    a graph; generation refuses with a message that says what to write instead."""
    model = make_gpt(GPTConfig(**BASE))
    original_forward = CausalSelfAttention.forward
    monkeypatch.setattr(CausalSelfAttention, "forward", lambda self, x, cache: [
        y * Value(1.0) for y in original_forward(self, x, cache)])
    with pytest.raises(RuntimeError, match="returned Values, not floats"):
        model.generate([1, 2], 3)
    with pytest.raises(RuntimeError, match="micrograd_gpt.autograd.functional"):
        evaluate(model, [[1, 2, 3]])
