"""Checks exercise 4: the XOR training loop with and without zero_grad, and two answers
about what forgetting it does (checked against the learner's own run)."""
from __future__ import annotations

import functools
import random

from ...autograd import functional as F
from ...autograd.value import Value
from ...models.nn import Linear, Module
from .choices import Question, ask
from .tutor import Wrong, run_part

STEPS, LR = 100, 0.2
XOR = [((a, b), target) for a, b, target in [(0, 0, -1.0), (0, 1, 1.0), (1, 0, 1.0),
                                             (1, 1, -1.0)]]


class _TinyMLP(Module):
    """The checker's own copy of chapter 4's network, to run the reference loop."""

    def __init__(self, rng):
        self.hidden = Linear(2, 3, rng=rng, std=1.0)
        self.out = Linear(3, 1, rng=rng, std=1.0)

    def forward(self, x):
        return self.out([h.tanh() for h in self.hidden(x)])[0]


@functools.cache
def reference_run(zero_grad, seed=0):
    """(losses, largest |weight|) of the reference loop."""
    model = _TinyMLP(random.Random(seed))
    losses = []
    for _ in range(STEPS):
        loss = F.mean([(model([Value(a), Value(b)]) - t) ** 2 for (a, b), t in XOR])
        if zero_grad:
            model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= LR * p.grad
        losses.append(loss.data)
    return losses, max(abs(p.data) for p in model.parameters())


def check(learner):
    """The parts of exercise 4."""
    return [run_part("train_xor with zero_grad", lambda: _check_run(learner, True)),
            run_part("train_xor without zero_grad", lambda: _check_run(learner, False)),
            run_part("GRAD_AFTER_K_STEPS", lambda: _check_grad_answer(learner)),
            run_part("WHAT_HAPPENS", lambda: _check_what_happens(learner))]


def _check_run(learner, zero_grad):
    train_xor, make_model = learner.function("train_xor"), learner.function("make_model")
    losses = train_xor(make_model(0), STEPS, LR, zero_grad=zero_grad)
    expected, biggest = reference_run(zero_grad)
    if not isinstance(losses, list) or len(losses) != STEPS:
        raise Wrong(f"train_xor(model, {STEPS}, {LR}) must return a list of {STEPS} losses, "
                    f"got {type(losses).__name__} of length {_length(losses)}")
    for step, (got, want) in enumerate(zip(losses, expected)):
        if not isinstance(got, (int, float)) or abs(got - want) > 1e-9 * max(1.0, want):
            raise Wrong(f"step {step}: your loss is {got!r}, the loop of the docstring gives "
                        f"{want!r}" + _hint(step, zero_grad))
    return (f"the same {STEPS} losses as the reference: {expected[0]:.3f} -> "
            f"{expected[-1]:.3f}, largest weight {biggest:.1f}")


def _length(value):
    try:
        return len(value)
    except TypeError:
        return "?"


def _hint(step, zero_grad):
    if step == 0:
        return ". The first loss is before any update: is it the mean of the squared errors?"
    if zero_grad:
        return ". Clear the gradients before backward(), every step."
    return ". Without zero_grad, never clear the gradients, not even once."


GRAD_AFTER_K_STEPS = Question(
    name="GRAD_AFTER_K_STEPS",
    options={"a": "the gradient of step k", "b": "the sum of the gradients of steps 1..k",
             "c": "the average of the gradients of steps 1..k",
             "d": "the gradient of step 1, kept ever since"},
    right="b",
    why_not=dict.fromkeys(
        "acd", "what does backward() do to a .grad that already holds a number (chapter "
               "1, 'Gradients add up on leaves')? And without zero_grad(), what ever "
               "empties it?"),
    because="each backward() adds its gradient to what is there, and nothing clears it")

WHAT_HAPPENS = Question(
    name="WHAT_HAPPENS",
    options={
        "a": "nothing: zero_grad only frees memory, so both runs take the very same "
             "steps and end at the same loss",
        "b": "each step moves the weights by lr times the sum of all the gradients so far: "
             "they grow, the tanh units saturate, the loss stalls",
        "c": "the old gradients cancel the new ones, so each step is smaller than the "
             "normal run's: the same path, only more slowly",
        "d": "the steps overshoot from the start: the loss grows every step until it "
             "overflows, and the run stops with an error"},
    right="b",
    why_not={"a": "are the two runs' losses the same, step for step?",
             "c": "did the forgetful run's weights move less than the normal run's? Look "
                  "at the largest weight after each",
             "d": "did the forgetful run stop with an error? Look at its last losses"},
    because="the old directions keep pushing long after they stopped being right: ")
QUESTIONS = [GRAD_AFTER_K_STEPS, WHAT_HAPPENS]


def _check_grad_answer(learner):
    return ask(learner, GRAD_AFTER_K_STEPS)


def _check_what_happens(learner):
    normal, _ = reference_run(True)
    forgetful, biggest = reference_run(False)
    numbers = (f"with zero_grad the loss goes {normal[0]:.2f} -> {normal[-1]:.2f}; without "
               f"it {forgetful[0]:.2f} -> {forgetful[-1]:.2f}, and the largest weight "
               f"reaches {biggest:.0f}")
    try:
        return ask(learner, WHAT_HAPPENS) + numbers
    except Wrong as wrong:
        raise Wrong(f"{wrong} ({numbers})", wrong.answer) from None
