"""Checkpoints: exact round trips, atomic writes, and clear errors for bad files."""
import json
import os
import random

import pytest

from micrograd_gpt.training.checkpoint import (
    FORMAT_VERSION, CheckpointError, atomic_write_text, load_checkpoint, save_checkpoint,
)
from micrograd_gpt.training.data import CharTokenizer
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.training.optim import SGD, AdamW


def make_run(seed=0):
    """A small model with a non-trivial optimizer state (two AdamW steps)."""
    tokenizer = CharTokenizer.from_documents(["emma", "olivia", "ava"])
    config = GPTConfig(vocab_size=tokenizer.vocab_size, d_model=8, num_heads=2,
                       num_layers=1, max_seq_len=8, norm="rmsnorm", tie_weights=False)
    model = GPT(config, rng=random.Random(seed))
    optimizer = AdamW(model.parameters(), lr=0.01, weight_decay=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        model.loss(tokenizer.encode_document("olivia")).backward()
        optimizer.step()
    return model, tokenizer, optimizer


def save(path, model, tokenizer, optimizer, rng=None, step=2):
    rng = rng or random.Random("batches")
    history = {"train": [[1, 3.3], [2, 3.1000000000000005]], "val": [[2, 3.2]]}
    return save_checkpoint(path, model=model, tokenizer=tokenizer, step=step,
                           optimizer=optimizer, train_config={"steps": 9}, history=history,
                           rng_state=rng.getstate(), extra={"note": "x"})


def test_round_trip_is_exact(tmp_path):
    model, tokenizer, optimizer = make_run()
    rng = random.Random(42)
    rng.random()
    path = save(tmp_path / "run.json", model, tokenizer, optimizer, rng)
    ckpt = load_checkpoint(path)

    assert ckpt.model.config == model.config
    assert [p.data for p in ckpt.model.parameters()] == [p.data for p in model.parameters()]
    assert ckpt.tokenizer == tokenizer and ckpt.step == 2
    assert ckpt.history["train"][1] == [2, 3.1000000000000005]   # floats survive exactly
    assert ckpt.train_config == {"steps": 9} and ckpt.extra == {"note": "x"}
    assert ckpt.make_rng().random() == rng.random()               # the same random stream

    restored = AdamW(ckpt.model.parameters(), lr=0.01, weight_decay=0.1)
    ckpt.restore_optimizer(restored)
    assert restored.m == optimizer.m and restored.v == optimizer.v and restored.steps == 2


def test_file_is_plain_json_with_a_version(tmp_path):
    model, tokenizer, optimizer = make_run()
    payload = json.loads(save(tmp_path / "run.json", model, tokenizer, optimizer).read_text())
    assert payload["format"] == "micrograd-gpt-checkpoint"
    assert payload["version"] == FORMAT_VERSION
    assert set(payload) >= {"model_config", "tokenizer", "weights", "optimizer", "step",
                            "train_config", "rng_state", "history"}


# ---- atomic writes ------------------------------------------------------------------------
@pytest.mark.parametrize("fail_in", ["json.dump", "os.replace"])
def test_a_crash_during_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch, fail_in):
    model, tokenizer, optimizer = make_run()
    path = save(tmp_path / "run.json", model, tokenizer, optimizer)
    before = path.read_bytes()
    other_model, _, other_optimizer = make_run(seed=1)

    def crash_midway(*args, **kwargs):
        if fail_in == "json.dump":   # write part of the file, then die
            args[1].write('{"format": "micrograd-gpt-checkpoint", "weights": [0.1, 0.')
        raise KeyboardInterrupt("killed while saving")

    module, name = fail_in.split(".")
    where = "training.checkpoint" if module == "json" else "common.files"  # files.py replaces
    monkeypatch.setattr(f"micrograd_gpt.{where}.{module}.{name}", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        save(path, other_model, tokenizer, other_optimizer, step=3)
    monkeypatch.undo()

    assert path.read_bytes() == before                   # the old checkpoint, untouched
    assert os.listdir(tmp_path) == ["run.json"]          # and no temporary file left over
    assert load_checkpoint(path).step == 2


def test_atomic_write_keeps_permissions_of_a_plain_file(tmp_path):
    path = atomic_write_text(tmp_path / "sub" / "a.txt", "hello")
    assert path.read_text() == "hello"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---- bad files ----------------------------------------------------------------------------
@pytest.fixture
def good_payload(tmp_path):
    model, tokenizer, optimizer = make_run()
    path = save(tmp_path / "good.json", model, tokenizer, optimizer)
    return json.loads(path.read_text())


def write(tmp_path, payload):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(payload) if not isinstance(payload, str) else payload)
    return path


def test_truncated_file(tmp_path, good_payload):
    text = json.dumps(good_payload)
    path = write(tmp_path, text[: len(text) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_checkpoint(path)


@pytest.mark.parametrize("change, message", [
    (lambda p: "not json at all {", "invalid JSON"),
    (lambda p: [1, 2, 3], "not a micrograd-gpt checkpoint"),
    (lambda p: {**p, "format": "something-else"}, "not a micrograd-gpt checkpoint"),
    (lambda p: {**p, "version": FORMAT_VERSION + 1}, "format version"),
    (lambda p: {k: v for k, v in p.items() if k != "weights"}, "missing weights"),
    (lambda p: {**p, "model_config": {**p["model_config"], "d_model": 7}}, "model_config"),
    (lambda p: {**p, "model_config": {**p["model_config"], "colour": 1}}, "model_config"),
    (lambda p: {**p, "weights": {**p["weights"], "wte.weight": p["weights"]["wte.weight"][:-1]}},
     "the weights do not fit model_config"),
    (lambda p: {**p, "weights": {k: v for k, v in p["weights"].items() if k != "ln_f.weight"}},
     "the weights do not fit model_config"),
    # as many numbers as the config needs, under the wrong name: found once the model is built
    (lambda p: {**p, "weights": {("ln_f.gain" if k == "ln_f.weight" else k): v
                                 for k, v in p["weights"].items()}},
     "missing: ln_f.weight; unexpected: ln_f.gain"),
    (lambda p: {**p, "tokenizer": {"chars": ["a", "b"], "bos": 2}}, "vocab_size"),
    (lambda p: {**p, "tokenizer": "abc"}, "bad tokenizer"),
    (lambda p: {**p, "step": -1}, "step"),
    (lambda p: {**p, "rng_state": [3, [1, 2], None]}, "rng_state"),
    (lambda p: {**p, "history": {"train": [["x", 1.0]]}}, "history"),
])
def test_corrupt_or_mismatched_file(tmp_path, good_payload, change, message):
    path = write(tmp_path, change(good_payload))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_nan_weight_and_other_unreadable_files(tmp_path, good_payload):
    text = json.dumps(good_payload).replace('"ln_f.weight": [', '"ln_f.weight": [NaN, ', 1)
    with pytest.raises(CheckpointError, match="NaN"):
        load_checkpoint(write(tmp_path, text))
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    for path, message in [(tmp_path / "missing.json", "does not exist"), (tmp_path, "directory"),
                          (binary, "not a text file")]:
        with pytest.raises(CheckpointError, match=message):
            load_checkpoint(path)


def test_optimizer_state_that_does_not_fit(tmp_path, good_payload):
    ckpt = load_checkpoint(write(tmp_path, good_payload))
    with pytest.raises(CheckpointError, match="optimizer state does not fit: .* not SGD"):
        ckpt.restore_optimizer(SGD(ckpt.model.parameters()))
    # buffers of the wrong length are found on loading, before anything is built
    good_payload["optimizer"]["buffers"]["m"] = good_payload["optimizer"]["buffers"]["m"][:3]
    with pytest.raises(CheckpointError, match="buffer 'm' has 3 entries"):
        load_checkpoint(write(tmp_path, good_payload))
    assert issubclass(CheckpointError, ValueError)
