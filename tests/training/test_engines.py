"""The engines: the torch engine takes the Value engine's steps (float64: equal to 1e-9),
checkpoints resume with either engine, generation draws the same tokens, several processes
(torchrun, gloo) take the whole batch's step, and what is refused is refused clearly."""
import copy
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd_gpt.training.checkpoint import CheckpointError, load_checkpoint
from micrograd_gpt.cli import main
from micrograd_gpt.common.install import INSTALL_TORCH
from micrograd_gpt.training.engines import ValuesEngine, make_engine, set_threads
from micrograd_gpt.training.interop import to_torch
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.training.lr_schedules import make_schedule
from micrograd_gpt.training.data import prepare_data
from micrograd_gpt.training.loop import train
from micrograd_gpt.training.sampling import sample
from micrograd_gpt.training.settings import TrainConfig

pytestmark = pytest.mark.slow  # each test trains on both engines: the slow tier

ROOT = Path(__file__).resolve().parents[2]

# a model small enough that 20 Value steps take a few seconds (d=8: ~1,000 parameters)
SMALL_MODEL = dict(d_model=8, num_heads=2, num_layers=1, max_seq_len=12, init_std=0.3)


def small_config(**overrides):
    settings = dict(steps=20, batch_size=4, lr=0.02, warmup_steps=3, eval_interval=0,
                    eval_docs=20, grad_clip=0.5)
    settings.update(overrides)
    return TrainConfig.from_preset("tiny", model=dict(SMALL_MODEL), **settings)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One thread per torch process, as the command line sets it (see engines.set_threads):
    these models are tiny, and on a busy machine threads mostly wait for each other."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def weights(model):
    return [p.data for p in model.parameters()]


def largest_gap(a, b):
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def both_engines(config):
    """A Value engine and a float64 torch engine on two copies of the same new model, and
    the run's training documents."""
    data = prepare_data(config)
    model = GPT(GPTConfig(vocab_size=data.tokenizer.vocab_size, **config.model),
                rng=random.Random(config.seed))
    values = ValuesEngine(model, config)
    tensors = make_engine("torch", copy.deepcopy(model), config, device="cpu",
                          dtype="float64")
    return values, tensors, data.train


def run_steps(engine, config, documents):
    """`config.steps` steps on batches drawn as train() draws them: [(loss, grad_norm)]."""
    rng = random.Random(f"batches:{config.seed}")
    schedule = make_schedule(config.lr_schedule, config.lr, config.steps, config.warmup_steps)
    results = []
    for step in range(config.steps):
        batch = [documents[rng.randrange(len(documents))] for _ in range(config.batch_size)]
        results.append(engine.step(batch, schedule(step), config.grad_clip))
    return results


# ---- parity: the torch engine in float64 takes the Value engine's steps ---------------------

@pytest.mark.parametrize("settings", [
    dict(optimizer="adam", steps=24),                                  # Adam, clipping on
    dict(optimizer="adamw", weight_decay=0.1, steps=8, lr_schedule="cosine"),
    dict(optimizer="sgd", momentum=0.9, weight_decay=0.01, lr=0.1, steps=8),
], ids=["adam", "adamw", "sgd-momentum"])
def test_torch_engine_takes_the_value_engines_steps(settings, torch):
    config = small_config(**settings)
    values, tensors, documents = both_engines(config)
    ours, theirs = run_steps(values, config, documents), run_steps(tensors, config, documents)
    assert largest_gap([loss for loss, _ in ours], [loss for loss, _ in theirs]) < 1e-9
    assert largest_gap([norm for _, norm in ours], [norm for _, norm in theirs]) < 1e-9
    assert sum(norm > config.grad_clip for _, norm in ours) >= config.steps // 2  # clipped
    assert ours[-1][0] < ours[0][0] - 0.1                                          # learned
    assert largest_gap(weights(values.model), weights(tensors.sync_model())) < 1e-9
    mine, torchs = values.optimizer.state_dict(), tensors.optimizer.state_dict()
    assert mine["type"] == torchs["type"] and mine["steps"] == torchs["steps"]
    assert mine["hyperparameters"].keys() == torchs["hyperparameters"].keys()
    for name, value in mine["hyperparameters"].items():  # (approx takes no nested tuples)
        other = torchs["hyperparameters"][name]
        if isinstance(value, (tuple, list)):
            assert list(value) == pytest.approx(list(other)), name
        else:
            assert value == pytest.approx(other), name
    for name, buffer in mine["buffers"].items():
        assert largest_gap(buffer, torchs["buffers"][name]) < 1e-9, name
    assert values.evaluate(documents[:30]) == pytest.approx(tensors.evaluate(documents[:30]),
                                                             abs=1e-12)


@pytest.mark.parametrize("preset", ["neural_bigram", "mlp", "gru"])
def test_every_rung_of_the_ladder_trains_alike_on_either_engine(preset, torch):
    # the engine builds whatever twin the model's kind has (torch_models.TORCH_MODELS)
    config = TrainConfig.from_preset(preset, steps=4, batch_size=3, eval_interval=2,
                                     eval_docs=10)
    by_values = train(config, quiet=True)
    by_torch = train(config, quiet=True, engine="torch", device="cpu", dtype="float64")
    for part in ("train", "val"):
        assert largest_gap([x for _, x in by_values.history[part]],
                           [x for _, x in by_torch.history[part]]) < 1e-9
    assert largest_gap(weights(by_values.model), weights(by_torch.model)) < 1e-9


def test_a_counted_model_is_not_for_the_torch_engine(torch):
    with pytest.raises(ValueError, match="counted in one pass"):
        train(TrainConfig.from_preset("bigram"), quiet=True, engine="torch", device="cpu")


@pytest.mark.slow  # the quick tier checks the same through the steps above and the resumes
def test_train_gives_the_same_run_with_either_engine(torch):
    config = small_config(steps=20, eval_interval=5)
    by_values = train(config, quiet=True)
    by_torch = train(config, quiet=True, engine="torch", device="cpu", dtype="float64")
    for part in ("train", "val"):
        assert [s for s, _ in by_values.history[part]] == [s for s, _ in by_torch.history[part]]
        assert largest_gap([x for _, x in by_values.history[part]],
                           [x for _, x in by_torch.history[part]]) < 1e-9
    assert by_torch.val_loss == pytest.approx(by_values.val_loss, abs=1e-9)
    assert largest_gap(weights(by_values.model), weights(by_torch.model)) < 1e-9


# ---- checkpoints: one format, resumed by either engine ------------------------------------

@pytest.mark.parametrize("engines", [
    ("values", "torch", "values"),
    pytest.param(("torch", "values", "torch"), marks=pytest.mark.slow)])
def test_a_run_resumed_with_the_other_engine_continues_the_same_run(engines, tmp_path, torch):
    config = small_config(steps=9, optimizer="adamw", weight_decay=0.05, eval_interval=3)
    whole = train(config, quiet=True)
    path = tmp_path / "run.json"
    options = {"values": {}, "torch": dict(device="cpu", dtype="float64")}
    first, second, third = engines
    train(config, out=path, quiet=True, stop_at_step=3, engine=first, **options[first])
    assert load_checkpoint(path).step == 3
    train(None, resume=path, out=path, quiet=True, stop_at_step=6, engine=second,
          **options[second])
    last = train(None, resume=path, out=path, quiet=True, engine=third, **options[third])
    assert last.step == 9
    assert largest_gap(weights(last.model), weights(whole.model)) < 1e-9
    assert largest_gap([x for _, x in last.history["train"]],
                       [x for _, x in whole.history["train"]]) < 1e-9
    saved = load_checkpoint(path)
    assert saved.step == 9 and saved.extra["engine"].startswith(third)


def test_a_torch_checkpoint_is_an_ordinary_checkpoint(tmp_path, torch):
    path = tmp_path / "run.json"
    result = train(small_config(steps=4), out=path, quiet=True, engine="torch", device="cpu")
    saved = load_checkpoint(path)
    assert set(saved.model.state_dict()) == set(dict(result.engine.twin.named_parameters()))
    # float32 weights, saved as the Python floats of exactly those values
    assert weights(saved.model) == [float(torch.tensor(x, dtype=torch.float32))
                                    for x in weights(saved.model)]
    assert weights(saved.model) == weights(result.model)
    state = saved.optimizer_state
    assert state["type"] == "Adam" and state["steps"] == 4
    assert {len(b) for b in state["buffers"].values()} == {len(saved.model.parameters())}
    assert all(type(x) is float for x in state["buffers"]["v"]) and max(state["buffers"]["v"]) > 0
    assert "torch" in saved.extra["engine"] and "float32" in saved.extra["engine"]
    texts = sample(saved.model, saved.tokenizer, 3, rng=random.Random(0))
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)


def test_an_optimizer_state_that_does_not_fit_is_refused(tmp_path, torch):
    path = tmp_path / "run.json"
    train(small_config(steps=2), out=path, quiet=True)  # Adam
    payload = json.loads(path.read_text())
    size = len(payload["optimizer"]["buffers"]["m"])
    payload["optimizer"] = {  # a well-formed state, of another optimizer than the run's
        "type": "SGD", "steps": 2, "buffers": {"momentum_buffers": [0.0] * size},
        "hyperparameters": dict(lr=0.1, momentum=0.0, weight_decay=0.0, nesterov=False)}
    path.write_text(json.dumps(payload))
    with pytest.raises(CheckpointError, match="is for 'SGD', not Adam"):
        train(None, resume=path, quiet=True, engine="torch", device="cpu")
    saved = load_checkpoint(path)
    engine = make_engine("torch", saved.model, small_config(), device="cpu")
    state = engine.optimizer.state_dict()
    state["buffers"]["m"] = state["buffers"]["m"][:-1]
    with pytest.raises(ValueError, match="buffer 'm' has"):
        engine.optimizer.load_state_dict(state)
    state = engine.optimizer.state_dict()
    state["buffers"]["v"][0] = -1.0  # a mean of squares is never below 0
    with pytest.raises(ValueError, match="buffer 'v'"):
        engine.optimizer.load_state_dict(state)


# ---- generation ------------------------------------------------------------------------

@pytest.mark.parametrize("knobs", [
    dict(temperature=0.7, top_k=5),
    pytest.param(dict(), marks=pytest.mark.slow),
    pytest.param(dict(top_p=0.8, temperature=1.3), marks=pytest.mark.slow)])
def test_the_pytorch_twin_generates_what_the_value_model_generates(knobs, torch):
    config = GPTConfig(vocab_size=9, d_model=8, num_heads=2, num_layers=2, max_seq_len=6,
                       init_std=0.5)
    model = GPT(config, rng=random.Random(3))
    twin = to_torch(model)  # float64
    for seed in range(2):
        # 20 new tokens: well past max_seq_len, so the context is cropped as it grows
        ours = model.generate([8, 1], 20, rng=random.Random(seed), **knobs)
        theirs = twin.generate([8, 1], 20, rng=random.Random(seed), **knobs)
        assert ours == theirs and len(ours) == 20
        stopped = twin.generate([8], 30, rng=random.Random(seed), stop_token=0, **knobs)
        assert stopped == model.generate([8], 30, rng=random.Random(seed), stop_token=0,
                                         **knobs)
        assert 0 not in stopped[:-1]
    assert twin.generate([1], 0) == []
    with pytest.raises(ValueError, match="prompt"):
        twin.generate([99], 3)


def test_sample_gives_the_same_texts_with_either_engine(torch):
    data = prepare_data(small_config())
    model = GPT(GPTConfig(vocab_size=data.tokenizer.vocab_size, **SMALL_MODEL),
                rng=random.Random(4))
    by_values = sample(model, data.tokenizer, 4, rng=random.Random(1), prompt="a")
    by_torch = sample(model, data.tokenizer, 4, rng=random.Random(1), prompt="a",
                      engine="torch", device="cpu", dtype="float64")
    assert by_torch == by_values and all(text.startswith("a") for text in by_values)
    with pytest.raises(ValueError, match="dtype: only the torch engine"):
        sample(model, data.tokenizer, 1, dtype="float64")


# ---- what is refused --------------------------------------------------------------------

def test_engine_options_are_checked(monkeypatch, torch):
    config, model = small_config(), GPT(GPTConfig(vocab_size=5, **SMALL_MODEL))
    with pytest.raises(ValueError, match="engine"):
        make_engine("jax", model, config)
    with pytest.raises(ValueError, match="device: only the torch engine"):
        make_engine("values", model, config, device="cpu")
    with pytest.raises(ValueError, match="dtype"):
        make_engine("torch", model, config, dtype="float16")
    with pytest.raises(ValueError, match="device"):
        make_engine("torch", model, config, device="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="sees no GPU"):
            make_engine("torch", model, config, device="cuda")
    with pytest.raises(ValueError, match="threads"):
        set_threads("values", 2)
    with pytest.raises(ValueError, match="record_health: .* Value engine"):
        make_engine("torch", model, small_config(record_health=True), device="cpu")
    monkeypatch.setenv("WORLD_SIZE", "8")  # as torchrun would say for 8 processes
    with pytest.raises(ValueError, match="4 document.* cannot be shared by 8 processes"):
        make_engine("torch", model, config, device="cpu")
    with pytest.raises(ValueError, match="only the torch engine shares the work"):
        make_engine("values", model, config)


def test_the_medium_preset_is_refused_on_values_with_an_estimate():
    with pytest.raises(ValueError) as refused:
        train(TrainConfig.from_preset("medium"), quiet=True)
    message = str(refused.value)
    assert "needs the torch engine (--engine torch" in message
    assert INSTALL_TORCH in message
    steps = TrainConfig.from_preset("medium").steps
    assert f"its {steps:,} steps about" in message and "days" in message


def python(code, **kwargs):
    """Run `code` in a fresh Python that imports this checkout; the finished process."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env, **kwargs)


@pytest.mark.parametrize("command", [
    ["train", "--engine", "torch", "--steps", "1"],
    ["sample", "--checkpoint", "x.json", "--engine", "torch"],
])
def test_without_torch_the_torch_engine_says_how_to_install_it(command, tmp_path):
    checkpoint = tmp_path / "x.json"
    train(small_config(steps=1), out=checkpoint, quiet=True)
    done = python("import sys; sys.modules['torch'] = None  # as if torch were not installed\n"
                  f"from micrograd_gpt.cli import main; sys.exit(main({command!r}))",
                  cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"micrograd-gpt {command[0]}: error: engine: 'torch' needs PyTorch, which is not "
        f"installed: {INSTALL_TORCH}"]


# ---- the command line ------------------------------------------------------------------

def test_train_with_torch_then_sample_draw_plot_and_resume_with_values(tmp_path, capsys, torch):
    path = tmp_path / "torch.json"
    assert main(["train", "--engine", "torch", "--device", "cpu", "--steps", "4",
                 "--eval-interval", "2", "--eval-docs", "20", "--samples", "3",
                 "--out", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "engine: torch" in err and "float32" in err
    assert "final: train loss" in out and f"checkpoint: {path}" in out
    assert len(out.split("samples (temperature 0.8):\n")[1].split("next:")[0].splitlines()) == 3

    assert main(["sample", "--checkpoint", str(path), "--num", "4"]) == 0
    by_values = capsys.readouterr().out
    assert main(["sample", "--checkpoint", str(path), "--num", "4", "--engine", "torch",
                 "--dtype", "float64"]) == 0
    assert capsys.readouterr().out == by_values and len(by_values.splitlines()) == 4

    drawing = tmp_path / "step.gv"
    assert main(["graph", "--gpt", "--checkpoint", str(path), "--batch-size", "2",
                 "-o", str(drawing)]) == 0
    assert f"checkpoint {path}" in drawing.read_text()  # the title says what is drawn
    assert "nodes of one training step" in capsys.readouterr().out
    assert main(["plot", "--checkpoint", str(path), "-o", str(tmp_path / "loss.svg")]) == 0
    assert main(["train", "--resume", str(path), "--steps", "6", "--samples", "0",
                 "--quiet"]) == 0
    assert load_checkpoint(path).step == 6 and "values" in load_checkpoint(path).extra["engine"]


@pytest.mark.parametrize("argv, message", [
    (["train", "--device", "cpu"], "device: only the torch engine takes one"),
    (["train", "--threads", "2"], "threads: only the torch engine takes one"),
    (["sample", "--checkpoint", "x.json", "--dtype", "float64"], "dtype: only the torch"),
    (["graph", "--gpt", "--preset", "medium"], "a model for the torch engine"),
    (["graph", "--checkpoint", "x.json", "--preset", "tiny"], "--checkpoint draws its own"),
])
def test_engine_options_that_do_not_fit_exit_2_with_one_message(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err, err


# ---- several processes: torchrun, DistributedDataParallel -----------------------------

def torchrun(processes, arguments, cwd, timeout=300):
    """`torchrun --standalone --nproc_per_node N -m micrograd_gpt ARGUMENTS`."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         f"--nproc_per_node={processes}", "-m", "micrograd_gpt", *arguments],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_two_processes_resume_a_run_and_take_the_whole_batchs_steps(tmp_path, torch):
    # 3 steps in this process, then torchrun resumes the run to step 6 in 2 processes: the
    # same numbers as one process going on alone. 5 documents a step make shares of 3 and
    # 2 documents (with different numbers of tokens); 9 evaluation documents too.
    settings = dict(steps=6, batch_size=5, eval_interval=2, eval_docs=9)
    options = dict(quiet=True, engine="torch", device="cpu", dtype="float64")
    path, alone = tmp_path / "ddp.json", tmp_path / "alone.json"
    train(TrainConfig.from_preset("tiny", **dict(settings, steps=3)), out=path, **options)
    shutil.copy(path, alone)
    done = torchrun(2, ["train", "--resume", str(path), "--steps", "6", "--samples", "2",
                        "--engine", "torch", "--device", "cpu", "--dtype", "float64"],
                    tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("final: train loss") == 1        # the first process reports
    assert done.stderr.count("engine: torch") == 1
    assert "2 processes (DistributedDataParallel, gloo)" in done.stderr

    one = train(TrainConfig.from_preset("tiny", **settings), resume=alone, **options)
    saved = load_checkpoint(path)
    assert saved.step == 6 and "2 processes" in saved.extra["engine"]
    for part in ("train", "val"):
        assert [s for s, _ in saved.history[part]] == [s for s, _ in one.history[part]]
        assert largest_gap([x for _, x in saved.history[part]],
                           [x for _, x in one.history[part]]) < 1e-9
    assert largest_gap(weights(saved.model), weights(one.model)) < 1e-9
    mine = one.engine.optimizer.state_dict()["buffers"]
    for name, buffer in saved.optimizer_state["buffers"].items():
        assert largest_gap(buffer, mine[name]) < 1e-9


# ---- GPUs (skipped, with the reason, where there is none) -------------------------------

def _needs_gpus(torch, count):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU: torch.cuda.is_available() is False on this machine")
    if torch.cuda.device_count() < count:
        pytest.skip(f"needs {count} CUDA GPUs, this machine has {torch.cuda.device_count()}")


def test_the_cuda_engine_takes_the_value_engines_steps(torch):
    _needs_gpus(torch, 1)
    config = small_config(steps=20)
    by_values = train(config, quiet=True)
    by_cuda = train(config, quiet=True, engine="torch", device="cuda", dtype="float64")
    assert largest_gap([x for _, x in by_values.history["train"]],
                       [x for _, x in by_cuda.history["train"]]) < 1e-9
    assert largest_gap(weights(by_values.model), weights(by_cuda.model)) < 1e-9
    fast = train(config, quiet=True, engine="torch", device="cuda", dtype="float32")
    assert fast.history["train"][-1][1] < fast.history["train"][0][1]


@pytest.mark.slow
def test_two_gpus_take_the_whole_batchs_step(tmp_path, torch):
    _needs_gpus(torch, 2)
    path = tmp_path / "nccl.json"
    done = torchrun(2, ["train", "--preset", "tiny", "--steps", "4", "--batch-size", "5",
                        "--eval-interval", "2", "--eval-docs", "9", "--samples", "0",
                        "--engine", "torch", "--device", "cuda", "--dtype", "float64",
                        "--out", str(path)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "DistributedDataParallel, nccl" in done.stderr
    one = train(TrainConfig.from_preset("tiny", steps=4, batch_size=5, eval_interval=2,
                                        eval_docs=9), quiet=True)
    saved = load_checkpoint(path)
    assert largest_gap([x for _, x in saved.history["train"]],
                       [x for _, x in one.history["train"]]) < 1e-9
    assert largest_gap(weights(saved.model), weights(one.model)) < 1e-9
