"""Learning-rate schedules: a function from the step (0, 1, ..., total_steps - 1) to a rate.

The trainer sets `optimizer.lr = schedule(step)` before each step. A warm-up climbs from
almost 0 over the first steps (Adam's first moments are noisy); after it the rate stays
(`constant_lr`) or decays to 0 at the end of the run, in a straight line
(`linear_decay_lr`, microgpt's) or along half a cosine (`cosine_lr`, nanoGPT's).
"""
from __future__ import annotations

import math

from ..common.checks import check_choice, check_int, check_number

__all__ = ["constant_lr", "linear_decay_lr", "cosine_lr", "make_schedule", "SCHEDULES"]


def constant_lr(lr):
    """The same learning rate at every step."""
    lr = check_number("lr", lr, 0)

    def schedule(step):
        check_int("step", step, 0)
        return lr
    return schedule


def linear_decay_lr(lr, total_steps, warmup_steps=0, final_lr=0.0):
    """Warm up linearly for `warmup_steps`, then decay linearly from `lr` toward
    `final_lr`, reaching it at step `total_steps`:

        lr_t = final_lr + (lr - final_lr) * (1 - (t - w) / (total_steps - w))

    With no warm-up and final_lr = 0 this is microgpt's `lr * (1 - step / num_steps)`."""
    return _warmup_then(lr, total_steps, warmup_steps,
                        lambda progress: final_lr + (lr - final_lr) * (1.0 - progress))


def cosine_lr(lr, total_steps, warmup_steps=0, min_lr=0.0):
    """Warm up linearly for `warmup_steps`, then follow half a cosine from `lr` down to
    `min_lr` at step `total_steps` (as `torch.optim.lr_scheduler.CosineAnnealingLR`):

        lr_t = min_lr + (lr - min_lr) * (1 + cos(pi * (t - w) / (total_steps - w))) / 2
    """
    return _warmup_then(lr, total_steps, warmup_steps, lambda progress: min_lr + (
        lr - min_lr) * (1.0 + math.cos(math.pi * progress)) / 2.0)


def _warmup_then(lr, total_steps, warmup_steps, decay):
    """A schedule: over the first w = `warmup_steps` steps the rate climbs linearly,
    lr·1/w, lr·2/w, ..., lr·w/w (never exactly 0); after that it is `decay(progress)`, with
    progress = (t - w) / (total_steps - w) going from 0 at the end of the warm-up to 1 at
    `total_steps`."""
    check_number("lr", lr, 0)
    check_int("total_steps", total_steps, 1)
    check_int("warmup_steps", warmup_steps, 0, total_steps - 1)

    def schedule(step):
        check_int("step", step, 0, total_steps)  # total_steps itself: the final rate
        if step < warmup_steps:
            return lr * (step + 1) / warmup_steps
        return decay((step - warmup_steps) / (total_steps - warmup_steps))
    return schedule


SCHEDULES = ("constant", "linear", "cosine")


def make_schedule(name, lr, total_steps, warmup_steps=0):
    """A schedule by name: "constant", "linear" or "cosine". The last two decay toward 0,
    which they reach at step `total_steps`, one past the last step (0 .. total_steps - 1):
    the last step itself still uses a small rate (lr / (total_steps - warmup_steps) for
    "linear")."""
    check_choice("lr_schedule", name, SCHEDULES)
    if name == "constant":
        return constant_lr(lr)
    if name == "linear":
        return linear_decay_lr(lr, total_steps, warmup_steps)
    return cosine_lr(lr, total_steps, warmup_steps)
