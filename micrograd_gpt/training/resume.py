"""Resuming a run from its checkpoint: which settings may change, and what that does.

`train(resume=checkpoint)` continues the run a checkpoint holds: its model, optimizer
state, batch rng and history come from the file, and its settings too, except the few in
RESUMABLE_FIELDS, which may change. The rule for `steps`:

* to the planned total (the `steps` the run was started with; the default): the run
  continues bit for bit as if it had never stopped, learning-rate schedule included;
* to another total (`steps` above the planned one extends the run, below it shortens it):
  the learning-rate schedule is re-planned for the new total and the remaining steps
  follow it, so the rate jumps to where a run of the new length would be at this step
  (say from 2e-05 at the end of a 30-step linear decay to 5e-03, half-way down a 60-step
  one). A line says so, with both rates. The result is not what a run planned for the new
  total from the start would give: its first steps had the old schedule's rates;
* to the step the checkpoint holds: nothing is trained (a line says so); to fewer steps
  than that: refused.

The data must be the same (its fingerprint is saved), so that the batches drawn after the
resume are the ones the run would have drawn.
"""
from __future__ import annotations

import dataclasses

from .settings import TrainConfig, learning_rate_schedule

__all__ = ["RESUMABLE_FIELDS", "resumed_config", "check_steps_left", "schedule_change",
           "check_same_data"]

# Settings a resumed run may change; everything else must match the checkpoint's run.
# (The command line offers the ones it has options for.)
RESUMABLE_FIELDS = ("steps", "eval_interval", "eval_docs", "checkpoint_interval",
                    "record_health")


def resumed_config(checkpoint, config=None):
    """The settings to continue `checkpoint`'s run with: its own, or `config` if that
    changes only what RESUMABLE_FIELDS allow."""
    if not checkpoint.train_config:
        raise ValueError(f"resume: {checkpoint.path} has no training settings to continue")
    try:
        saved = TrainConfig(**checkpoint.train_config)
    except (TypeError, ValueError) as e:
        raise ValueError(f"resume: {checkpoint.path} has unusable training settings: {e}") \
            from None
    if config is None:
        return saved
    changed = [f.name for f in dataclasses.fields(TrainConfig)
               if f.name not in RESUMABLE_FIELDS + ("preset",)
               and getattr(config, f.name) != getattr(saved, f.name)]
    if changed:
        raise ValueError(
            "resume: these settings differ from the checkpoint's run and cannot change "
            f"when resuming: {', '.join(changed)} (only {', '.join(RESUMABLE_FIELDS)} can)")
    return config


def check_steps_left(checkpoint, config):
    """A ValueError when `config` asks for fewer steps than the checkpoint has taken."""
    if config.steps < checkpoint.step:
        raise ValueError(f"resume: {checkpoint.path} is at step {checkpoint.step} already, "
                         f"past steps={config.steps}; set steps (--steps) to "
                         f"{checkpoint.step} or more")


def schedule_change(checkpoint, config):
    """What resuming `checkpoint` with `config` does to the learning-rate schedule (the rule
    is in the module docstring): None when the run continues to its planned total, bit for
    bit; otherwise one line that says the schedule is re-planned, with the rate of the last
    step taken and of the next one."""
    planned, step = TrainConfig(**checkpoint.train_config).steps, checkpoint.step
    if config.steps < step:
        return None  # refused by check_steps_left
    if config.steps == step:
        return (f"resume: the run is at step {step} of {config.steps} already, so there is "
                f"nothing to train; set steps (--steps) above {step} to train it further")
    if config.steps == planned:
        return None
    before = (learning_rate_schedule(dataclasses.replace(config, steps=planned))(step - 1)
              if step else None)
    after = learning_rate_schedule(config)(step)
    change = (f"the rate goes from {before:.3g} (step {step}) to {after:.3g} (step {step + 1})"
              if before is not None else f"the rate starts at {after:.3g}")
    return (f"resume: {'extending' if config.steps > planned else 'shortening'} the run from "
            f"its planned {planned} steps to {config.steps}: the learning-rate schedule is "
            f"re-planned for {config.steps} steps, so {change}; the result is not what a "
            f"{config.steps}-step run from the start would give")


def check_same_data(checkpoint, data):
    """A ValueError unless `data` (a PreparedData) is what the checkpoint's run trained on."""
    saved = checkpoint.extra.get("data_fingerprint")
    if saved is not None and saved != data.fingerprint:
        raise ValueError(f"resume: the training data has changed since {checkpoint.path} "
                         "was written, so the run cannot continue exactly")
    if checkpoint.tokenizer != data.tokenizer:
        raise ValueError(f"resume: the data's characters differ from the tokenizer in "
                         f"{checkpoint.path}")
