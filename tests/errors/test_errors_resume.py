"""The resume rule, made explicit: to the planned total a run continues bit for bit (after a
checkpoint, a stop_at_step or a Ctrl-C alike); to another total the learning-rate schedule
is re-planned for it and one line says so, with both rates; backwards is refused."""
import io
import os
import signal
from pathlib import Path

import pytest

from helpers import run_main as run  # micrograd-gpt in this process
import micrograd_gpt.training.engines as engines_module  # the Value engine's step lives there
import micrograd_gpt.training.resume as resume_module
from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.training.lr_schedules import make_schedule
from micrograd_gpt.training.interrupt import TrainingInterrupted
from micrograd_gpt.training.loop import train
from micrograd_gpt.training.settings import TrainConfig

pytestmark = pytest.mark.slow  # each test trains and resumes runs: the slow tier

ROOT = Path(__file__).resolve().parents[2]
TINY_MODEL = dict(d_model=8, num_heads=2, num_layers=1, max_seq_len=12)


def config(**overrides):
    settings = dict(steps=6, batch_size=2, lr=0.02, warmup_steps=0, eval_interval=0,
                    eval_docs=10)
    settings.update(overrides)
    return TrainConfig.from_preset("tiny", model=dict(TINY_MODEL), **settings)


def weights(model):
    return [p.data for p in model.parameters()]


@pytest.fixture
def rates(monkeypatch):
    """The learning rate of every training step taken, in order."""
    taken = []
    real = engines_module.train_step

    def recording(model, optimizer, batch, lr, grad_clip=None):
        taken.append(lr)
        return real(model, optimizer, batch, lr, grad_clip)
    monkeypatch.setattr(engines_module, "train_step", recording)
    return taken


def schedule(cfg, steps):
    return make_schedule(cfg.lr_schedule, cfg.lr, steps, min(cfg.warmup_steps, steps - 1))


# ---- to the planned total: bit for bit ---------------------------------------------------------

@pytest.mark.parametrize("lr_schedule, warmup", [("linear", 0), ("cosine", 2), ("constant", 0)])
def test_resuming_to_the_planned_total_is_bit_for_bit(tmp_path, lr_schedule, warmup):
    cfg = config(lr_schedule=lr_schedule, warmup_steps=warmup)
    whole = train(cfg, quiet=True)
    path = tmp_path / "run.json"
    train(cfg, out=path, quiet=True, stop_at_step=2)
    train(None, resume=path, out=path, quiet=True, stop_at_step=4)  # stopped twice
    assert load_checkpoint(path).step == 4
    stream = io.StringIO()
    resumed = train(None, resume=path, stream=stream)
    assert "resume:" not in stream.getvalue()                  # nothing to say
    assert weights(resumed.model) == weights(whole.model)
    assert resumed.history["train"] == whole.history["train"]


def test_a_run_stopped_by_ctrl_c_resumes_bit_for_bit(tmp_path, monkeypatch):
    cfg = config(steps=5, eval_interval=2)
    whole = train(cfg, quiet=True)
    path = tmp_path / "run.json"
    real = engines_module.train_step
    calls = []

    def press_ctrl_c_during_step_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGINT)   # arrives in the middle of step 3
        return real(*args, **kwargs)
    monkeypatch.setattr(engines_module, "train_step", press_ctrl_c_during_step_3)
    with pytest.raises(TrainingInterrupted) as stopped:
        train(cfg, out=path, quiet=True)
    assert stopped.value.step == 3 and stopped.value.checkpoint == path
    assert stopped.value.planned == 5 and "holds step 3 of 5" in str(stopped.value)
    assert isinstance(stopped.value, KeyboardInterrupt)
    monkeypatch.setattr(engines_module, "train_step", real)
    assert load_checkpoint(path).step == 3
    resumed = train(None, resume=path, quiet=True)
    assert weights(resumed.model) == weights(whole.model)
    assert resumed.history == whole.history


def test_a_second_ctrl_c_stops_at_once_and_keeps_the_last_whole_checkpoint(tmp_path,
                                                                          monkeypatch):
    cfg = config(steps=6, eval_interval=2)
    path = tmp_path / "run.json"
    real = engines_module.train_step
    calls = []

    def interrupted_in_step_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # what a second Ctrl-C does: in the middle of the step
        return real(*args, **kwargs)
    monkeypatch.setattr(engines_module, "train_step", interrupted_in_step_3)
    with pytest.raises(TrainingInterrupted) as stopped:
        train(cfg, out=path, quiet=True)
    assert stopped.value.step == 2                  # the half-done step 3 is not saved
    assert load_checkpoint(path).step == 2
    with pytest.raises(TrainingInterrupted) as nothing:
        calls.clear()
        train(cfg, quiet=True)                      # no out: nothing could be saved
    assert nothing.value.checkpoint is None and "no checkpoint" in str(nothing.value)


# ---- to another total: re-planned, and said ------------------------------------------------------

@pytest.mark.parametrize("lr_schedule", ["linear", "cosine", "constant"])
def test_extending_re_plans_the_schedule_and_says_so(tmp_path, rates, lr_schedule):
    cfg = config(steps=4, lr_schedule=lr_schedule, warmup_steps=1)
    path = tmp_path / "run.json"
    train(cfg, out=path, quiet=True)
    stream = io.StringIO()
    rates.clear()
    longer = train(config(steps=8, lr_schedule=lr_schedule, warmup_steps=1), resume=path,
                   stream=stream)
    assert longer.step == 8
    new = schedule(cfg, 8)
    assert rates == [new(s) for s in range(4, 8)]       # steps 5..8 follow the 8-step plan
    said = [line for line in stream.getvalue().splitlines() if line.startswith("resume:")]
    assert len(said) == 1
    old_rate, new_rate = schedule(cfg, 4)(3), new(4)
    assert f"from its planned 4 steps to 8" in said[0]
    assert f"re-planned for 8 steps" in said[0]
    assert f"from {old_rate:.3g} (step 4) to {new_rate:.3g} (step 5)" in said[0]
    # and it is, as said, not what an 8-step run from the start gives
    if lr_schedule != "constant":
        assert weights(longer.model) != weights(train(config(steps=8, lr_schedule=lr_schedule,
                                                             warmup_steps=1), quiet=True).model)


def test_an_extended_run_then_resumes_to_its_new_total_bit_for_bit(tmp_path):
    path = tmp_path / "run.json"
    train(config(steps=3), out=path, quiet=True)
    copy = tmp_path / "copy.json"
    copy.write_bytes(path.read_bytes())
    straight = train(config(steps=6), resume=copy, quiet=True)
    train(config(steps=6), resume=path, out=path, quiet=True, stop_at_step=4)
    assert load_checkpoint(path).train_config["steps"] == 6   # the new plan is saved
    stream = io.StringIO()
    finished = train(None, resume=path, stream=stream)
    assert "resume:" not in stream.getvalue()
    assert weights(finished.model) == weights(straight.model)


def test_shortening_re_plans_too(tmp_path, rates):
    cfg = config(steps=10)
    path = tmp_path / "run.json"
    train(cfg, out=path, quiet=True, stop_at_step=3)
    stream = io.StringIO()
    rates.clear()
    train(config(steps=6), resume=path, stream=stream)
    assert rates == [schedule(cfg, 6)(s) for s in range(3, 6)]
    assert "shortening the run from its planned 10 steps to 6" in stream.getvalue()


def test_resuming_backwards_is_refused_and_in_place_does_nothing(tmp_path):
    path = tmp_path / "run.json"
    done = train(config(steps=4), out=path, quiet=True)
    for steps in (1, 3):
        with pytest.raises(ValueError, match=f"at step 4 already, past steps={steps}"):
            train(config(steps=steps), resume=path, quiet=True)
    stream = io.StringIO()
    again = train(None, resume=path, stream=stream)
    assert "nothing to train; set steps (--steps) above 4" in stream.getvalue()
    assert again.step == 4 and weights(again.model) == weights(done.model)


# ---- the command line says it too --------------------------------------------------------------

@pytest.mark.slow
def test_cli_resume_says_how_the_schedule_continues_even_when_quiet(tmp_path):
    path = tmp_path / "names.json"
    base = ["--eval-docs", "5", "--samples", "0", "--quiet"]
    assert run(["train", "--steps", "3", "--eval-interval", "0", "--out", str(path),
                *base])[0] == 0
    code, _, err = run(["train", "--resume", str(path), "--steps", "5", *base])
    assert code == 0
    assert "resume: extending the run from its planned 3 steps to 5" in err
    code, _, err = run(["train", "--resume", str(path), "--steps", "2", *base])
    assert code == 2 and "at step 5 already" in err and len(err.strip().splitlines()) == 1


def test_the_rule_is_documented():
    from micrograd_gpt.cli import build_parser
    sub = build_parser("train")._subparsers._group_actions[0].choices["train"]
    help_text = " ".join(sub.format_help().split())
    assert "bit for bit" in help_text and "re-planned" in help_text
    assert "bit for bit" in resume_module.__doc__ and "re-planned" in resume_module.__doc__
    chapter = (ROOT / "docs" / "08_training.md").read_text()
    assert "bit for bit" in chapter and "re-planned" in chapter
