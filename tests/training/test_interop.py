"""to_torch / from_torch: the torch twin computes the same logits, loss and gradients, weights
travel both ways, and `import micrograd_gpt` never imports torch."""
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import GPT_CONFIGS as CONFIGS, GPT_IDS as IDS, grads_by_name, make_gpt as make_model, \
    max_difference, random_tokens

ROOT = Path(__file__).resolve().parents[2]  # so the subprocess imports this checkout


def test_importing_the_package_does_not_import_torch():
    code = ("import sys, micrograd_gpt, micrograd_gpt.training.interop, micrograd_gpt.teaching.book; "
            "print('torch' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=ROOT)
    assert result.stdout.strip() == "False"


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_to_torch_gives_the_same_logits_loss_and_gradients(config, torch):
    from micrograd_gpt.training.interop import to_torch

    model = make_model(config, seed=1)
    twin = to_torch(model)
    tokens = random_tokens(config, config.max_seq_len + 1, seed=1)
    assert {name for name, _ in twin.named_parameters()} == set(model.state_dict())
    assert all(p.dtype == torch.float64 for p in twin.parameters())

    expected = twin(torch.tensor(tokens[:-1])).tolist()
    got = [[v.data for v in row] for row in model(tokens[:-1])]
    assert max_difference(got, expected) < 1e-9

    loss, expected_loss = model.loss(tokens), twin.loss(torch.tensor(tokens))
    assert abs(loss.data - expected_loss.item()) < 1e-9
    loss.backward()
    expected_loss.backward()
    ours = grads_by_name(model)
    for name, p in twin.named_parameters():
        assert max_difference(ours[name], p.grad.tolist()) < 1e-9, name


def test_to_torch_accepts_a_batch(torch):
    from micrograd_gpt.training.interop import to_torch

    config = CONFIGS[0]
    model = make_model(config)
    twin = to_torch(model)
    batch = torch.tensor([random_tokens(config, 5, seed=s) for s in range(3)])
    logits = twin(batch)
    assert tuple(logits.shape) == (3, 5, config.vocab_size)
    row = [[v.data for v in r] for r in model(batch[2].tolist())]
    assert max_difference(row, logits[2].tolist()) < 1e-9


@pytest.mark.slow
def test_from_torch_brings_trained_weights_back(torch):
    from micrograd_gpt.training.interop import from_torch, to_torch

    config = CONFIGS[1]
    model = make_model(config)
    twin = to_torch(model)
    tokens = random_tokens(config, config.max_seq_len + 1, seed=2)
    optimizer = torch.optim.SGD(twin.parameters(), lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        twin.loss(torch.tensor(tokens)).backward()
        optimizer.step()
    before = model.loss(tokens).data
    assert from_torch(twin, model) is model
    after = model.loss(tokens).data
    assert after < before  # the torch training steps arrived
    assert abs(after - twin.loss(torch.tensor(tokens)).item()) < 1e-9


def test_from_torch_refuses_a_model_of_another_shape(torch):
    from micrograd_gpt.training.interop import from_torch, to_torch

    small, other = make_model(CONFIGS[0]), make_model(CONFIGS[4])
    before = small.state_dict()
    with pytest.raises(ValueError, match="state_dict"):
        from_torch(to_torch(other), small)
    assert small.state_dict() == before
