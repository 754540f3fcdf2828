"""Checkpoints trusted no further than the schema: every field known and of the right type,
every number finite, sizes that match the weights actually present (checked before any
model is built), and files that are not files (/dev/zero, a FIFO) refused at once."""
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd_gpt.training.checkpoint import CheckpointError, check_checkpoint, load_checkpoint, save_checkpoint
from micrograd_gpt.training.data import CharTokenizer
from micrograd_gpt.common.files import read_text
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.models.registry import MODELS
from micrograd_gpt.training.optim import Adam
from micrograd_gpt.training.presets import PRESETS, needs_torch

ROOT = Path(__file__).resolve().parents[2]
DEEP = [1]
for _ in range(40):
    DEEP = [DEEP]   # 41 lists deep: more than any checkpoint needs


def make_payload(tie_weights=True):
    tokenizer = CharTokenizer.from_documents(["emma", "ava"])
    config = GPTConfig(vocab_size=tokenizer.vocab_size, d_model=4, num_heads=2, num_layers=1,
                       max_seq_len=6, tie_weights=tie_weights)
    model = GPT(config, rng=random.Random(0))
    optimizer = Adam(model.parameters(), lr=0.01)
    model.loss(tokenizer.encode_document("emma")).backward()
    optimizer.step()
    history = {"train": [[1, 2.5]], "val": [[0, 2.7], [1, 2.6]]}
    return {"format": "micrograd-gpt-checkpoint", "version": 1, "model_kind": "gpt",
            "model_config": {**config.__dict__}, "tokenizer": tokenizer.to_dict(),
            "weights": model.state_dict(), "optimizer": optimizer.state_dict(), "step": 1,
            "train_config": {"steps": 3, "seed": 0, "betas": [0.9, 0.99]},
            "rng_state": [3, list(random.Random(1).getstate()[1]), None],
            "history": history, "extra": {"data_fingerprint": "abc"}}


@pytest.fixture
def payload():
    return make_payload()


def write(tmp_path, payload, name="bad.json"):
    path = tmp_path / name
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload))
    return path


def edit(payload, path, value):
    """payload with the field at `path` ("optimizer.hyperparameters.betas") set to value
    (deleted for `...`)."""
    where, keys = payload, path.split(".")
    for key in keys[:-1]:
        where = where[int(key)] if isinstance(where, list) else where[key]
    last = int(keys[-1]) if isinstance(where, list) else keys[-1]
    if value is ...:
        del where[last]
    else:
        where[last] = value
    return payload


@pytest.fixture
def nothing_is_built(monkeypatch):
    """Fail the test if any GPT is built (the checks must come first)."""
    def refuse(self, *args, **kwargs):
        raise AssertionError("a model was built before the file was checked")
    monkeypatch.setattr(GPT, "__init__", refuse)


def test_the_good_file_loads(tmp_path, payload):
    ckpt = load_checkpoint(write(tmp_path, payload))
    assert ckpt.step == 1 and ckpt.history["val"][-1] == [1, 2.6]
    assert ckpt.optimizer_state["hyperparameters"]["betas"] == (0.9, 0.999)


# ---- unknown or wrongly typed fields --------------------------------------------------------

@pytest.mark.parametrize("path, value, fragment", [
    ("extra_field", 1, "unknown field.*'extra_field'"),
    ("weights_v2", {}, "unknown field"),
    ("extra", "notes", "extra: must be a dict"),
    ("extra", [1, 2], "extra: must be a dict"),
    ("extra.deep", DEEP, "nested more than"),
    ("train_config", "steps=3", "train_config: must be a dict"),
    ("train_config", [3], "train_config: must be a dict"),
    ("model_config.colour", "red", "model_config.*no field.*colour"),
    ("model_config.d_model", "4", "d_model"),
    ("model_config.d_model", 4.0, "d_model"),
    ("model_config.num_layers", True, "num_layers"),
    ("model_config.norm", 3, "norm"),
    ("model_config.tie_weights", "yes", "tie_weights"),
    ("model_config.init_std", -1, "init_std"),
    ("model_config", [4, 2], "model_config"),
    ("model_config.vocab_size", ..., "model_config"),
    ("model_kind", "lstm", "model_kind"),
    ("model_kind", 5, "model_kind"),
    ("tokenizer.chars", "aemv", "tokenizer"),
    ("tokenizer.chars", ["a", "ee", "m", "v"], "tokenizer"),
    ("tokenizer.chars", ["a", "a", "m", "v"], "tokenizer"),
    ("tokenizer.bos", 0, "tokenizer: bos must be 4"),
    ("tokenizer.pad", 5, "tokenizer: unknown field"),
    ("tokenizer", None, "tokenizer"),
    ("step", "1", "step"), ("step", 1.0, "step"), ("step", True, "step"), ("step", -1, "step"),
    ("step", None, "step"),
    ("version", "1", "format version"), ("version", True, "format version"),
    ("format", "micrograd-gpt-checkpoint-2", "not a micrograd-gpt checkpoint"),
    ("weights", [], "weights: must be a dict"),
    ("weights.ln_f.weight", ["1.0", 1.0, 1.0, 1.0], "weights\\['ln_f.weight'\\]"),
    ("weights.ln_f.weight", [True, 1.0, 1.0, 1.0], "weights\\['ln_f.weight'\\]"),
    ("weights.ln_f.weight", [None, 1.0, 1.0, 1.0], "weights\\['ln_f.weight'\\]"),
    ("weights.ln_f.weight", {"0": 1.0}, "weights\\['ln_f.weight'\\]"),
])
def test_unknown_or_wrongly_typed_fields(tmp_path, payload, path, value, fragment,
                                         nothing_is_built):
    if path == "weights.ln_f.weight":
        payload["weights"]["ln_f.weight"] = value
    else:
        edit(payload, path, value)
    with pytest.raises(CheckpointError, match=fragment):
        load_checkpoint(write(tmp_path, payload))


@pytest.mark.parametrize("path, value, fragment", [
    ("optimizer.hyperparameters.betas", ["0.9", "0.999"], r"betas\[0\]"),
    ("optimizer.hyperparameters.betas", [2, 2], r"betas\[0\]"),
    ("optimizer.hyperparameters.betas", [0.9], "betas: must be a pair"),
    ("optimizer.hyperparameters.eps", -1, "eps"),
    ("optimizer.hyperparameters.eps", "1e-8", "eps"),
    ("optimizer.hyperparameters.lr", None, "lr"),
    ("optimizer.hyperparameters.amsgrad", True, "unknown field"),
    ("optimizer.steps", -2, "steps"),
    ("optimizer.steps", 0.5, "steps"),
    ("optimizer.type", "Adagrad", "unknown type 'Adagrad'"),
    ("optimizer.type", 1, "unknown type"),
    ("optimizer.buffers.v.0", -1.0, "buffer 'v'"),
    ("optimizer.buffers.m.0", "0.1", "buffer 'm'"),
    ("optimizer.buffers.m", [], "buffer 'm' has 0 entries"),
    ("optimizer.buffers.v", ..., "missing field"),
    ("optimizer", "adam", "optimizer state: must be a dict"),
])
def test_optimizer_state_is_checked_on_loading(tmp_path, payload, path, value, fragment,
                                               nothing_is_built):
    edit(payload, path, value)
    with pytest.raises(CheckpointError, match=fragment):
        load_checkpoint(write(tmp_path, payload))


@pytest.mark.parametrize("path, value, fragment", [
    ("history.test", [], "history: unknown field"),
    ("history.train", "[[1, 2.5]]", "history\\['train'\\]: must be a list"),
    ("history.train.0", [1], "must be a \\[step, loss\\] pair"),
    ("history.train.0", [1, "2.5"], "the loss"),
    ("history.train.0", [1, None], "the loss"),
    ("history.train.0", ["1", 2.5], "the step"),
    ("history.train.0", [-1, 2.5], "the step"),
    ("history.val.1", [7, 2.5], "the step: must be an integer in \\[0, 1\\]"),
    ("history", [[1, 2.5]], "history: must be a dict"),
    ("rng_state", [3, [1, 2], None], "rng_state"),
    ("rng_state", [3, "state", None], "rng_state"),
    ("rng_state", "3", "rng_state"),
    ("rng_state.2", "0.5", "rng_state"),
    ("rng_state.0", 2, "rng_state"),
])
def test_history_and_rng_state(tmp_path, payload, path, value, fragment, nothing_is_built):
    edit(payload, path, value)
    with pytest.raises(CheckpointError, match=fragment):
        load_checkpoint(write(tmp_path, payload))


# ---- every number finite --------------------------------------------------------------------

@pytest.mark.parametrize("old, new, fragment", [
    ('"train": [[1, 2.5]]', '"train": [[1, 1e999]]', "1e999.*too large"),
    ('"train": [[1, 2.5]]', '"train": [[1, -1E+400]]', "too large"),
    ('"train": [[1, 2.5]]', '"train": [[1, NaN]]', "NaN"),
    ('"train": [[1, 2.5]]', '"train": [[1, Infinity]]', "Infinity"),
    ('"train": [[1, 2.5]]', '"train": [[1, -Infinity]]', "-Infinity"),
    ('"step": 1', '"step": 1' + "0" * 200, "integer of 201 digits"),
    ('"data_fingerprint": "abc"', '"data_fingerprint": 1e309', "too large"),
])
def test_every_number_is_finite(tmp_path, payload, old, new, fragment, nothing_is_built):
    text = json.dumps(payload)
    assert old in text
    with pytest.raises(CheckpointError, match=fragment):
        load_checkpoint(write(tmp_path, text.replace(old, new, 1)))


@pytest.mark.parametrize("name", ["wte.weight", "wpe.weight", "ln_f.bias", "ln_f.weight"])
def test_a_huge_weight_anywhere_is_refused(tmp_path, payload, name, nothing_is_built):
    text = json.dumps(payload)
    start = text.index(f'"{name}": [') + len(f'"{name}": [')
    start += text[start:].index("[") + 1 if text[start] == "[" else 0
    end = start + text[start:].index(",")          # the first number of the tensor
    with pytest.raises(CheckpointError, match="too large for a float"):
        load_checkpoint(write(tmp_path, text[:start] + "-1e999" + text[end:]))


# ---- sizes against the weights present --------------------------------------------------------

@pytest.mark.slow
def test_a_small_file_claiming_a_huge_model_is_refused_before_building(tmp_path,
                                                                       nothing_is_built):
    text = json.dumps({
        "format": "micrograd-gpt-checkpoint", "version": 1, "model_kind": "gpt",
        "model_config": {"vocab_size": 10 ** 6, "d_model": 4096, "num_heads": 1,
                         "num_layers": 1, "max_seq_len": 1},
        "tokenizer": {"chars": ["a"], "bos": 1}, "weights": {"wte.weight": [[0.1]]},
        "step": 0})
    assert len(text) < 452
    with pytest.raises(CheckpointError, match="tokenizer has 2 tokens"):
        load_checkpoint(write(tmp_path, text))
    chars = [chr(0x4E00 + i) for i in range(10 ** 6 - 1)]   # a tokenizer that does fit
    huge = json.loads(text)
    huge["tokenizer"] = {"chars": chars, "bos": len(chars)}
    with pytest.raises(CheckpointError, match=r"hold 1 numbers, but a gpt with this config "
                                              r"has 4,\d{3},\d{3},\d{3} parameters"):
        load_checkpoint(write(tmp_path, huge))


@pytest.mark.parametrize("field, value", [
    ("d_model", 8), ("num_layers", 2), ("num_layers", 10 ** 6), ("max_seq_len", 7),
    ("max_seq_len", 10 ** 9), ("tie_weights", False), ("norm", "rmsnorm"),
])
def test_a_config_that_does_not_match_the_weights(tmp_path, payload, field, value,
                                                  nothing_is_built):
    payload["model_config"][field] = value
    with pytest.raises(CheckpointError, match="the weights do not fit model_config"):
        load_checkpoint(write(tmp_path, payload))


def test_weights_of_an_untied_model_need_lm_head(tmp_path):
    payload = make_payload(tie_weights=False)
    del payload["weights"]["lm_head.weight"]
    payload["optimizer"] = None
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(write(tmp_path, payload))


def test_every_kind_counts_its_parameters_from_the_config():
    for name, preset in PRESETS.items():  # every kind, in every preset's shape
        if needs_torch(name):
            continue  # millions of Values to build; the GPT formula is checked on its own
        kind = preset.get("kind", "gpt")
        config = MODELS[kind].config_class(vocab_size=7, **preset["model"])
        assert MODELS[kind].count_parameters(config) == len(MODELS[kind](config).parameters()), \
            name


def test_no_kind_builds_its_model_to_count():
    for kind, cls in MODELS.items():
        assert "count_parameters" in vars(cls) or any(
            "count_parameters" in vars(base) for base in cls.__mro__[1:]
            if base.__name__ != "LanguageModel"), f"{kind} has no count_parameters formula"


def test_the_schema_check_builds_nothing(payload, nothing_is_built):
    checked = check_checkpoint(payload)
    assert checked.step == 1 and checked.config.d_model == 4


# ---- files that are not files ------------------------------------------------------------------

def run_cli(*argv, cwd, timeout=60):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "micrograd_gpt", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(),
                    reason="needs a Unix system: /dev/zero and named pipes")
@pytest.mark.slow
def test_devices_and_pipes_are_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    for special in ("/dev/zero", "/dev/urandom", str(fifo), str(link)):
        for argv in (["sample", "--checkpoint", special], ["plot", "--checkpoint", special],
                     ["train", "--resume", special], ["train", "--data", special]):
            done = run_cli(*argv, cwd=tmp_path)   # a hang would time out, failing the test
            assert done.returncode == 2, (argv, done.stderr)
            assert "not a regular file" in done.stderr and "Traceback" not in done.stderr
            assert len(done.stderr.strip().splitlines()) == 1


def test_read_text_refuses_what_is_not_a_small_regular_file(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as f:          # a sparse file: 600 MB without writing them
        f.truncate(600 * 1024 * 1024)
    with pytest.raises(ValueError, match="629,145,600 bytes; at most"):
        read_text(big, "checkpoint")
    with pytest.raises(CheckpointError, match="at most"):
        load_checkpoint(big)
    small = tmp_path / "small.txt"
    small.write_text("0123456789")
    with pytest.raises(ValueError, match="at most 9"):
        read_text(small, "data file", max_bytes=9)
    assert read_text(small, "data file", max_bytes=10) == "0123456789"
    for path, fragment in [(tmp_path, "is a directory"), (tmp_path / "none.json", "does not exist")]:
        with pytest.raises(ValueError, match=fragment):
            read_text(path, "checkpoint")
    if Path("/dev/null").exists():
        with pytest.raises(ValueError, match="not a regular file"):
            read_text("/dev/null", "data file")


def test_save_checkpoint_writes_only_loadable_files(tmp_path, payload):
    ckpt = load_checkpoint(write(tmp_path, payload, "good.json"))
    for bad in ({"history": {"train": [[5, 2.0]], "val": []}},       # step 5 > step 1
                {"extra": {"note": float("inf")}}, {"train_config": {"lr": float("nan")}},
                {"rng_state": (3, (1, 2), None)}, {"step": "1"}):
        args = dict(model=ckpt.model, tokenizer=ckpt.tokenizer, step=1)
        args.update(bad)
        with pytest.raises(ValueError):
            save_checkpoint(tmp_path / "new.json", **args)
        assert not (tmp_path / "new.json").exists()
    with pytest.raises(ValueError, match="model: must be a language model"):
        save_checkpoint(tmp_path / "new.json", model=object(), tokenizer=ckpt.tokenizer, step=0)
