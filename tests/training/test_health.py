"""Training health: the statistics are what they say (checked by independent computation),
recording them changes no number of the training, and they survive a checkpoint."""
import copy
import json
import math
import random
import statistics

import pytest

from helpers import GPT_CONFIGS, make_gpt, random_tokens
from micrograd_gpt.training.checkpoint import CheckpointError, load_checkpoint
from micrograd_gpt.autograd.value import Value
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.training.health import (SATURATION, activation_stats, measure_step,
                                  parameter_stats)
from micrograd_gpt.models.nn import Linear
from micrograd_gpt.training.optim import SGD, Adam
from micrograd_gpt.training.engines import train_step
from micrograd_gpt.training.loop import train
from micrograd_gpt.training.settings import TrainConfig


def outputs_of_value_model(model, batch):
    """Every module's outputs, read from the Value model itself through its hooks."""
    seen = {}
    handles = [module.register_forward_hook(
        lambda m, args, out, name=name: seen.setdefault(name, []).extend(v.data for v in out))
        for name, module in model.named_modules() if name and name != "blocks"]
    for tokens in batch:
        model.loss(tokens)
    for handle in handles:
        handle.remove()
    return seen


@pytest.mark.parametrize("config", GPT_CONFIGS[:2], ids=["gelu", "relu"])
def test_activation_mean_and_std_are_those_of_the_outputs(config):
    model = make_gpt(config)
    batch = [random_tokens(config, n, seed=n) for n in (3, 5, 7)]
    stats = activation_stats(model, batch)
    seen = outputs_of_value_model(model, batch)
    assert set(seen) < set(stats)
    for name, numbers in seen.items():
        assert abs(stats[name]["mean"] - statistics.fmean(numbers)) < 1e-12, name
        assert abs(stats[name]["std"] - statistics.pstdev(numbers)) < 1e-12, name
    hidden = seen["blocks.0.mlp.fc"]
    kind = config.activation
    after = [max(x, 0.0) if kind == "relu" else Value(x).gelu().data for x in hidden]
    entry = stats[f"blocks.0.mlp.{kind}"]
    assert abs(entry["std"] - statistics.pstdev(after)) < 1e-12
    flat = [x <= 0 if kind == "relu" else x < -3 for x in hidden]
    assert entry["saturated"] == sum(flat) / len(flat)


def test_saturated_and_dead_units_count_the_flat_side():
    model = GPT(GPTConfig(vocab_size=5, d_model=4, num_heads=1, num_layers=1, max_seq_len=6,
                          activation="relu", init_std=0.5), rng=random.Random(0))
    for row in model.blocks[0].mlp.fc.weight[:5]:  # 5 of 16 units: input 0, so relu is off
        for w in row:
            w.data = 0.0
    batch = [[0, 1, 2, 3, 4, 1], [4, 3, 3]]
    entry = activation_stats(model, batch)["blocks.0.mlp.relu"]
    rows = []
    fast = model.float_copy()
    fast.blocks[0].mlp.fc.register_forward_hook(lambda m, args, out: rows.append(out))
    for tokens in batch:
        fast.loss(tokens)
    off = [[x <= 0 for x in row] for row in rows]                  # [positions][units]
    assert len(off) == 5 + 2 and len(off[0]) == 16
    assert entry["saturated"] == sum(map(sum, off)) / (7 * 16)
    assert entry["dead"] == sum(all(unit) for unit in zip(*off)) / 16
    assert 5 / 16 <= entry["dead"] < 1 and entry["saturated"] > entry["dead"]
    assert model.blocks[0].mlp.fc._forward_hooks == ()             # the model is untouched


@pytest.mark.parametrize("kind, fields, module", [
    ("mlp", {"context": 3, "d_embed": 4, "d_hidden": 12}, "hidden"),   # makemore's tanh layer
    ("rnn", {"d_embed": 4, "d_hidden": 6}, "cell"),                    # the Elman cell
])
def test_a_tanh_output_counts_its_saturated_units(kind, fields, module):
    from micrograd_gpt.models.registry import build_model
    model = build_model(kind, dict(fields, vocab_size=7), rng=random.Random(0))
    for p in getattr(model, module).parameters():
        p.data *= 6.0                       # big weights: many tanh outputs near +-1
    batch = [[6, 1, 2, 3, 6], [6, 4, 4, 5, 0, 6]]
    entry = activation_stats(model, batch)[module]
    rows = []
    getattr(model, module).register_forward_hook(
        lambda m, args, out: rows.append([v.data for v in out]))
    for tokens in batch:
        model.loss(tokens)
    off = [[abs(t) > 0.97 for t in row] for row in rows]
    assert entry["saturated"] == sum(map(sum, off)) / (len(off) * len(off[0]))
    assert entry["dead"] == sum(all(unit) for unit in zip(*off)) / len(off[0])
    assert 0.2 < entry["saturated"] < 1
    assert abs(entry["std"] - statistics.pstdev([t for row in rows for t in row])) < 1e-12


def test_saturation_thresholds():
    assert SATURATION["tanh"](2.1) and not SATURATION["tanh"](2.0)   # tanh(2.09) = 0.97
    assert SATURATION["relu"](0.0) and not SATURATION["relu"](1e-9)
    assert SATURATION["gelu"](-3.1) and not SATURATION["gelu"](-2.9)


def test_update_ratio_with_sgd_is_makemores_lr_grad_over_data():
    config = GPT_CONFIGS[0]
    model = make_gpt(config)
    lr = 0.05
    optimizer = SGD(model.parameters(), lr=lr)
    batch = [random_tokens(config, 6)]
    before = model.state_dict()
    train_step(model, optimizer, batch, lr)
    stats = parameter_stats(model, before)
    for name, tensor in model.named_tensors():
        flat = [p for row in tensor for p in row] if isinstance(tensor[0], list) else tensor
        grad = math.sqrt(sum(p.grad ** 2 for p in flat))
        size = math.sqrt(sum((p.data + lr * p.grad) ** 2 for p in flat))  # weights before
        assert abs(stats[name]["grad_norm"] - grad) < 1e-12
        if stats[name]["update_ratio"] is None:
            assert size == 0.0                      # a bias that started at 0
        else:
            assert abs(stats[name]["update_ratio"] - math.log10(lr * grad / size)) < 1e-9
    assert stats["wte.weight"]["shape"] == [config.vocab_size, config.d_model]
    assert stats["ln_f.weight"]["shape"] == [config.d_model]


def test_measure_step_reports_the_gradient_before_clipping():
    config = GPT_CONFIGS[0]
    batch = [random_tokens(config, 7)]
    raw_model = make_gpt(config)
    raw_loss, _ = train_step(raw_model, Adam(raw_model.parameters()), batch, 0.01)  # no clip
    raw = parameter_stats(raw_model, make_gpt(config).state_dict())
    model = make_gpt(config)
    optimizer = Adam(model.parameters())
    loss, grad_norm, record = measure_step(
        model, batch, lambda: train_step(model, optimizer, batch, 0.01, grad_clip=1e-3))
    assert loss == raw_loss and grad_norm > 1e-3           # clipping did happen
    assert abs(record["grad_norm"] - grad_norm) < 1e-9 * grad_norm
    for name, stats in record["parameters"].items():
        want = raw[name]["grad_norm"]
        assert abs(stats["grad_norm"] - want) < 1e-9 * max(1.0, want)
    assert json.loads(json.dumps(record)) == record        # plain data


def test_non_finite_statistics_become_none():
    from micrograd_gpt.training.health import _finite
    assert _finite({"a": {"std": math.inf, "mean": 1.0}, "b": math.nan}) == \
        {"a": {"std": None, "mean": 1.0}, "b": None}


# ---- in the training loop and the checkpoint ------------------------------------------------

QUICK = dict(steps=7, eval_interval=3, eval_docs=10, batch_size=2)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("health")
    plain = train(TrainConfig.from_preset("tiny", **QUICK), out=folder / "plain.json", quiet=True)
    health = train(TrainConfig.from_preset("tiny", record_health=True, **QUICK),
                   out=folder / "health.json", quiet=True)
    return plain, health, folder


@pytest.mark.slow  # whole training runs
def test_recording_health_changes_nothing_in_the_training(runs):
    plain, health, _ = runs
    assert health.model.state_dict() == plain.model.state_dict()
    assert health.history["train"] == plain.history["train"]
    assert health.history["val"] == plain.history["val"]
    assert "health" not in plain.history


@pytest.mark.slow  # whole training runs
def test_health_is_taken_at_the_first_step_every_interval_and_the_last(runs):
    _, health, _ = runs
    records = health.history["health"]
    assert [r["step"] for r in records] == [1, 3, 6, 7]
    assert all(r["lr"] > 0 for r in records)
    names = set(records[0]["parameters"])
    assert names == {name for name, _ in health.model.named_tensors()}
    assert "blocks.0.mlp.gelu" in records[0]["activations"]


@pytest.mark.slow  # whole training runs
def test_health_survives_the_checkpoint_and_a_resume(runs, tmp_path):
    _, health, folder = runs
    loaded = load_checkpoint(folder / "health.json")
    assert loaded.history["health"] == health.history["health"]
    resumed = train(TrainConfig.from_preset("tiny", record_health=True, **dict(QUICK, steps=9)),
                    resume=folder / "health.json", out=tmp_path / "more.json", quiet=True)
    assert [r["step"] for r in resumed.history["health"]] == [1, 3, 6, 7, 9]


@pytest.mark.slow
@pytest.mark.parametrize("bad", [
    "not a list", [{"step": 1}], [{"step": "1", "lr": 0.1, "grad_norm": 1.0,
                                   "activations": {}, "parameters": {}}],
    [{"step": 1, "lr": 0.1, "grad_norm": 1.0, "activations": {"x": {"std": "big"}},
      "parameters": {}}],
    [{"step": 1, "lr": 0.1, "grad_norm": 1.0, "activations": {},
      "parameters": {"w": {"shape": "2x2"}}}],
])
def test_a_checkpoint_with_broken_health_is_refused(runs, tmp_path, bad):
    _, _, folder = runs
    payload = json.loads((folder / "health.json").read_text())
    payload["history"]["health"] = bad
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(CheckpointError, match=r"history\['health'\]"):
        load_checkpoint(path)


def test_record_health_must_be_a_bool():
    with pytest.raises(ValueError, match="record_health"):
        TrainConfig(record_health="yes")


def test_forward_hooks_see_every_call_and_go_away():
    layer = Linear(2, 1, rng=random.Random(0))
    seen = []
    handle = layer.register_forward_hook(lambda m, args, out: seen.append((m, args, out)))
    out = layer([1.0, 2.0])
    assert seen == [(layer, ([1.0, 2.0],), out)]
    handle.remove()
    layer([1.0, 2.0])
    assert len(seen) == 1 and layer._forward_hooks == ()
    with pytest.raises(ValueError, match="hook: must be callable"):
        layer.register_forward_hook("print")
    copy.deepcopy(layer)  # a module with no hooks copies as before
