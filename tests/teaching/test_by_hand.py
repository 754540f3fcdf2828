"""micrograd_gpt/teaching/by_hand.py, the training step with a hand-written backward, computes what
the Value model and backward() compute: the loss and every gradient, for every kind of GPT
it claims to handle (LayerNorm or RMSNorm, GELU or ReLU, tied or not, one or two blocks;
with config=, norms without gain, a norm after the embeddings, no final norm)."""
import itertools
import random

import pytest

from micrograd_gpt.teaching import by_hand
from micrograd_gpt.autograd.gradcheck import gradcheck
from micrograd_gpt.models.gpt import GPT, GPTConfig

NAME = [0, 5, 13, 13, 1, 0]  # BOS e m m a BOS
KINDS = list(itertools.product(("layernorm", "rmsnorm"), ("gelu", "relu"), (True, False)))


def shaken_model(norm, activation, tie_weights, num_layers=1, seed=3, **options):
    """A small GPT whose numbers are all far from their starting values (gains off 1,
    biases off 0), so a mistake with any of them shows."""
    config = GPTConfig(vocab_size=27, d_model=8, num_heads=2, num_layers=num_layers,
                       max_seq_len=8, norm=norm, activation=activation,
                       tie_weights=tie_weights, init_std=0.3, **options)
    model = GPT(config, rng=random.Random(seed))
    rng = random.Random(seed + 1)
    for p in model.parameters():
        p.data += rng.gauss(0.0, 0.1)
    return model


def assert_same_step(model, tokens, with_config=False):
    loss = model.loss(tokens)
    loss.backward()
    config = model.config if with_config else None
    hand_loss, grads = by_hand.loss_and_grads(model.state_dict(), tokens,
                                              model.config.num_heads, model.config.activation,
                                              config=config)
    assert abs(hand_loss - loss.data) < 1e-12
    checked = 0
    for name, tensor in model.named_tensors():
        rows = tensor if isinstance(tensor[0], list) else [tensor]
        grad_rows = grads[name] if isinstance(tensor[0], list) else [grads[name]]
        for row, grad_row in zip(rows, grad_rows):
            for p, g in zip(row, grad_row):
                assert abs(p.grad - g) < 1e-12, name
                checked += 1
    assert checked == len(model.parameters())


@pytest.mark.parametrize("norm, activation, tie_weights", KINDS)
def test_the_hand_written_step_equals_backward(norm, activation, tie_weights):
    assert_same_step(shaken_model(norm, activation, tie_weights), NAME)


OPTIONS = [dict(elementwise_affine=affine, embedding_norm=embedding, final_norm=final)
           for affine, embedding, final in itertools.product((True, False), repeat=3)]


@pytest.mark.slow
@pytest.mark.parametrize("norm", ["layernorm", "rmsnorm"])
@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: "-".join(
    f"{k}={v}" for k, v in o.items()))
def test_the_norm_options_equal_backward(norm, options):
    """Norms with or without a gain, a norm after the embeddings or not, a final norm or
    not (given by config=), in both kinds of norm."""
    model = shaken_model(norm, "relu", False, num_layers=2, **options)
    assert_same_step(model, [0, 3, 1, 4, 1, 5, 9, 0], with_config=True)


def test_the_microgpt_preset_step_equals_backward():
    """microgpt.py's network, the speed benchmark's floor: RMSNorm without gain after the
    embeddings and in the block, no final norm, ReLU, untied."""
    from micrograd_gpt.training.presets import PRESETS
    config = GPTConfig(**dict(PRESETS["microgpt"]["model"], vocab_size=27, init_std=0.3))
    model = GPT(config, rng=random.Random(5))
    assert_same_step(model, NAME, with_config=True)
    with pytest.raises(ValueError, match="config="):  # nothing in the params says so
        by_hand.loss_and_grads(model.state_dict(), NAME, config.num_heads)


def test_two_blocks_and_a_longer_sequence():
    assert_same_step(shaken_model("layernorm", "gelu", True, num_layers=2),
                     [0, 3, 1, 4, 1, 5, 9, 0])
    assert_same_step(shaken_model("rmsnorm", "relu", False, num_layers=2), NAME)


def test_the_norms_backward_against_finite_differences():
    """The one formula for both norms, checked on its own against the nudges."""
    g, b, dy = [1.3, 0.7, -0.4, 1.1], [0.2, -0.1, 0.3, 0.0], [0.5, -1.2, 0.8, 0.3]
    for bias in (b, None):
        def weighted(*x, bias=bias):  # Σ dy_i·y_i as Values: its gradient is dx
            mu = sum(x) / len(x) if bias is not None else 0.0
            c = [v - mu for v in x]
            r = (sum(v * v for v in c) / len(x) + by_hand.EPS) ** -0.5
            return sum(w * (gi * ci * r + (bias[i] if bias else 0.0))
                       for i, (w, gi, ci) in enumerate(zip(dy, g, c)))
        x = [0.3, -1.1, 2.0, 0.4]
        _, saved = by_hand.norm_forward(x, g, bias)
        dx, dg = [0.0] * 4, [0.0] * 4
        by_hand.norm_backward(dy, g, saved, dx, dg, [0.0] * 4 if bias else None)
        check = gradcheck(weighted, x)
        assert check.passed
        assert max(abs(a - h) for a, h in zip(check.analytic, dx)) < 1e-12


@pytest.mark.parametrize("center", [True, False], ids=["layernorm", "rmsnorm"])
def test_the_norms_without_gain_against_finite_differences(center):
    dy, x = [0.5, -1.2, 0.8, 0.3], [0.3, -1.1, 2.0, 0.4]

    def weighted(*x):  # Σ dy_i·y_i as Values: its gradient is dx
        mu = sum(x) / len(x) if center else 0.0
        c = [v - mu for v in x]
        r = (sum(v * v for v in c) / len(x) + by_hand.EPS) ** -0.5
        return sum(w * ci * r for w, ci in zip(dy, c))
    y, saved = by_hand.plain_norm_forward(x, center)
    assert abs(sum(a * b for a, b in zip(dy, y)) - weighted(*x)) < 1e-12
    dx = [0.0] * 4
    by_hand.plain_norm_backward(dy, saved, dx, center)
    check = gradcheck(weighted, x)
    assert check.passed
    assert max(abs(a - h) for a, h in zip(check.analytic, dx)) < 1e-12


def test_a_wrong_derivative_is_caught(monkeypatch):
    """The comparison can fail: flip the sign of the activation's slope."""
    model = shaken_model("layernorm", "gelu", True)
    real = by_hand.activation_and_slope
    monkeypatch.setattr(by_hand, "activation_and_slope",
                        lambda u, a: (real(u, a)[0], -real(u, a)[1]))
    with pytest.raises(AssertionError):
        assert_same_step(model, NAME)


def test_float_adam_matches_the_optimizer():
    from micrograd_gpt.training.optim import Adam
    model = shaken_model("rmsnorm", "relu", False)
    params = model.state_dict()
    model.loss(NAME).backward()
    _, grads = by_hand.loss_and_grads(params, NAME, 2)
    hand = by_hand.FloatAdam(params, lr=0.01)
    Adam(model.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8).step()
    hand.step(grads)
    for name, tensor in model.state_dict().items():
        flat = [x for row in (tensor if isinstance(tensor[0], list) else [tensor]) for x in row]
        mine = params[name]
        flat_hand = [x for row in (mine if isinstance(mine[0], list) else [mine]) for x in row]
        assert max(abs(a - b) for a, b in zip(flat, flat_hand)) < 1e-12, name
