"""Checks exercise 13: Adam's update, the learning-rate schedule and gradient clipping, on
plain floats, against the package's own `Adam`, `make_schedule` and `clip_grad_norm`.

Where the learner's Adam is off, the tutor tries the usual slips (no bias correction, the
step counted from 0, eps inside the square root, a missing square root) and names the one
that gives the learner's numbers.
"""
from __future__ import annotations

import math
import random

from ...autograd.value import Value
from ...training import Adam, clip_grad_norm
from ...training.lr_schedules import make_schedule
from .tutor import Wrong, close, run_part

# gradients of four weights over six steps: scales a million apart, a sign that flips,
# a weight whose gradient is 0 for a while
GRADIENTS = [[1000.0, 0.001, 0.5, 0.0], [-1000.0, 0.002, 0.4, 0.0],
             [800.0, 0.001, -0.3, 2.0], [-900.0, 0.003, 0.2, -1.0],
             [1000.0, 0.001, 0.1, 0.5], [-1000.0, 0.002, 0.0, 0.25]]
START = [1.0, 1.0, -0.5, 0.2]
SETTINGS = [dict(lr=0.01, betas=(0.9, 0.99), eps=1e-8),
            dict(lr=0.1, betas=(0.8, 0.999), eps=1e-3)]   # a large eps, to see where it goes
SCHEDULES = [(0.01, 500, 20), (0.1, 10, 3), (0.5, 7, 0), (1.0, 4, 1)]


def check(learner):
    """The parts of exercise 13."""
    return [run_part("adam_step", lambda: _check_adam(learner)),
            run_part("learning_rate", lambda: _check_schedule(learner)),
            run_part("clip", lambda: _check_clip(learner))]


# ---- Adam ---------------------------------------------------------------------------------
def reference_adam(settings):
    """(p, m, v) after each step of the package's Adam on GRADIENTS."""
    params = [Value(p) for p in START]
    adam = Adam(params, **settings)
    states = []
    for grads in GRADIENTS:
        for p, g in zip(params, grads):
            p.grad = g
        adam.step()
        states.append(([p.data for p in params], list(adam.m), list(adam.v)))
    return states


def _check_adam(learner):
    adam_step = learner.function("adam_step")
    for settings in SETTINGS:
        p, m, v = list(START), [0.0] * len(START), [0.0] * len(START)
        for t, (grads, right) in enumerate(zip(GRADIENTS, reference_adam(settings)), 1):
            before = (p, m, v)
            out = adam_step(list(p), list(grads), list(m), list(v), t, **settings)
            p, m, v = _three_lists(out)
            for name, yours, want in zip(("m", "v", "p"), (m, v, p), (right[1], right[2],
                                                                       right[0])):
                if not all(close(a, b, 1e-9) for a, b in zip(yours, want)):
                    raise Wrong(_adam_message(name, t, yours, want, grads, before, settings))
    return (f"equal to Adam for {len(GRADIENTS)} steps at {len(SETTINGS)} settings, "
            f"gradients a million times apart and flipping sign included")


def _three_lists(out):
    if not (isinstance(out, (tuple, list)) and len(out) == 3):
        raise Wrong(f"adam_step must return three lists, (p, m, v); got {_short(out)}")
    lists = []
    for name, value in zip("pmv", out):
        if not isinstance(value, (list, tuple)) or len(value) != len(START) or not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
            raise Wrong(f"adam_step's {name} must be a list of {len(START)} numbers, one per "
                        f"weight; got {_short(value)}")
        lists.append([float(x) for x in value])
    return lists


def _adam_message(name, t, yours, want, grads, before, settings):
    head = (f"after step t = {t} (lr = {settings['lr']}, betas = {settings['betas']}, "
            f"eps = {settings['eps']}), with gradients {grads}:\n"
            f"    your {name}: {_rounded(yours)}\n    Adam's {name}: {_rounded(want)}\n")
    if name == "m":
        return head + "m is the running mean of the gradients: m = β1·m + (1 − β1)·g"
    if name == "v":
        return head + ("v is the running mean of the *squared* gradients: "
                       "v = β2·v + (1 − β2)·g²")
    slip = _which_slip(yours, before, grads, t, settings)
    return head + (slip or "m and v are right, so look at the update itself: "
                           "p − lr·m̂/(√v̂ + eps), with the hats m̂ = m/(1 − β1^t) and "
                           "v̂ = v/(1 − β2^t)")


SLIPS = {
    "no bias correction": "yours is Adam without the bias correction: m and v start at 0, "
                          "so early averages are too small; divide m by (1 − β1^t) and v "
                          "by (1 − β2^t)",
    "t from 0": "yours corrects with t − 1 instead of t: the first step is t = 1 (the "
                "correction 1 − β^t must not be 0 then)",
    "eps inside": "yours puts eps inside the square root, √(v̂ + eps); Adam adds it "
                  "outside, √v̂ + eps",
    "no sqrt": "yours divides by v̂ itself; Adam divides by its square root, √v̂ + eps, so "
               "that the step has the size of lr, not of lr/|g|",
}


def _which_slip(yours, before, grads, t, settings):
    """The name of the usual slip that gives exactly `yours`, or None."""
    for slip, message in SLIPS.items():
        if all(close(a, b, 1e-9) for a, b in zip(yours, _slipped(slip, before, grads, t,
                                                                    settings))):
            return message
    return None


def _slipped(slip, before, grads, t, settings):
    """The new p of one Adam step made with `slip`."""
    p, m, v = before
    (beta1, beta2), lr, eps = settings["betas"], settings["lr"], settings["eps"]
    out = []
    for p_i, m_i, v_i, g in zip(p, m, v, grads):
        m_i, v_i = beta1 * m_i + (1 - beta1) * g, beta2 * v_i + (1 - beta2) * g * g
        n = t - 1 if slip == "t from 0" else t
        c1, c2 = (1.0, 1.0) if slip == "no bias correction" else (1 - beta1 ** n,
                                                                   1 - beta2 ** n)
        if c1 == 0:
            return [math.nan] * len(p)
        m_hat, v_hat = m_i / c1, v_i / c2
        size = {"eps inside": math.sqrt(v_hat + eps), "no sqrt": v_hat + eps}.get(
            slip, math.sqrt(v_hat) + eps)
        out.append(p_i - lr * m_hat / size)
    return out


# ---- the schedule ---------------------------------------------------------------------------
def _check_schedule(learner):
    learning_rate = learner.function("learning_rate")
    for lr, total, warmup in SCHEDULES:
        right = make_schedule("linear", lr, total, warmup)
        for step in range(total):
            got = learning_rate(step, lr, total, warmup)
            if not close(got, right(step), 1e-12):
                raise Wrong(f"learning_rate(step={step}, lr={lr}, total_steps={total}, "
                            f"warmup_steps={warmup}) gave {got!r}, the schedule gives "
                            f"{right(step)!r}. " + _schedule_hint(step, total, warmup))
    return (f"equal to make_schedule('linear') at every step of {len(SCHEDULES)} schedules, "
            f"with and without warm-up")


def _schedule_hint(step, total, warmup):
    if step < warmup:
        return (f"Step {step} is in the warm-up ({warmup} steps, numbered 0 to "
                f"{warmup - 1}): the rate climbs to lr in equal parts, and its first "
                f"step already moves (it is never 0)")
    if step == warmup:
        return "The decay starts right after the warm-up, at the full lr"
    return (f"After the warm-up the rate falls in a straight line, to reach 0 at step "
            f"{total}, one past the last step ({total - 1}), which still moves a little")


# ---- clipping -----------------------------------------------------------------------------
def _clip_cases(rng):
    cases = [([3.0, 4.0], 1.0), ([3.0, 4.0], 10.0), ([0.3, -0.4, 1.2], 0.5)]
    cases.append(([rng.gauss(0, 5) for _ in range(7)], 2.0))
    return cases


CLIP_CASES = _clip_cases(random.Random(13))


def _check_clip(learner):
    clip = learner.function("clip")
    for grads, max_norm in CLIP_CASES:
        params = [Value(0.0) for _ in grads]
        for p, g in zip(params, grads):
            p.grad = g
        norm = clip_grad_norm(params, max_norm)
        right = [p.grad for p in params]
        out = clip(list(grads), max_norm)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise Wrong(f"clip must return two things, (the clipped gradients, the length "
                        f"before clipping); got {_short(out)}")
        clipped, length = out
        where = f"clip({_rounded(grads)}, max_norm={max_norm})"
        if not close(length, norm, 1e-9):
            raise Wrong(f"{where}: the length you return is {length!r}, the gradient's "
                        f"length is {norm!r}: √(Σ g²) over every number, before clipping")
        if not isinstance(clipped, (list, tuple)) or not all(
                close(a, b, 1e-5) for a, b in zip(clipped, right)) or len(clipped) != len(
                right):
            raise Wrong(f"{where} gave {_rounded(clipped)}, clip_grad_norm gives "
                        f"{_rounded(right)}. " + _clip_hint(clipped, grads, max_norm, norm))
    return (f"equal to clip_grad_norm on {len(CLIP_CASES)} gradients: long ones scaled to "
            f"the length max_norm, short ones left alone, the direction kept")


def _clip_hint(clipped, grads, max_norm, norm):
    if norm <= max_norm:
        return "This gradient is already shorter than max_norm: leave it as it is"
    try:
        if all(close(c, max(-max_norm, min(max_norm, g)), 1e-9)
               for c, g in zip(clipped, grads)):
            return ("You clipped each number on its own, which turns the step: scale "
                    "them all by the one factor max_norm / length")
    except TypeError:
        pass
    return "Scale every number by the same factor, max_norm / length, so the direction stays"


def _rounded(values):
    if isinstance(values, (list, tuple)):
        return "[" + ", ".join(_rounded(v) for v in values) + "]"
    return f"{values:.6g}" if isinstance(values, float) else repr(values)


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"
