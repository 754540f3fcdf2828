"""Exercise 13 (chapter 8): Adam's update, the schedule and clipping, by hand.

On plain floats, no Values: everything an optimizer step does between backward() and the
next forward.

Part 1. `adam_step(p, g, m, v, t, lr, betas, eps)`: p, g, m and v are lists with one
number per weight (the weights, their gradients, Adam's two running averages); t is the
number of this step, 1 for the first. Return the new (p, m, v):

    m = β1·m + (1 − β1)·g           v = β2·v + (1 − β2)·g²
    m̂ = m / (1 − β1^t)              v̂ = v / (1 − β2^t)
    p = p − lr · m̂ / (√v̂ + eps)

Before you write it: what is m̂ on the first step? How far does every weight move then,
whatever the size of its gradient?

Part 2. `learning_rate(step, lr, total_steps, warmup_steps)`: the rate of step `step`
(steps are numbered 0 to total_steps − 1) of the presets' "linear" schedule. Over the
first `warmup_steps` steps it climbs to lr in equal parts (the first step already moves);
then it falls in a straight line, to reach 0 at step total_steps, one past the last.

Part 3. `clip(grads, max_norm)`: the length of the whole gradient is √(Σ g²); if it is
above max_norm, scale every number by max_norm / length, so that the direction stays
and the length becomes max_norm. Return (the clipped gradients, the length before).

The checker runs the package's own Adam (on Values), make_schedule("linear") and
clip_grad_norm beside yours, and where yours differs says at which step, and, for a
usual slip, which one it is.

Check your work:  micrograd-gpt exercise check 13
"""
import math


def adam_step(p, g, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8):
    """One Adam step: the new (p, m, v), lists with one number per weight."""
    # TODO
    raise NotImplementedError("write adam_step")


def learning_rate(step, lr, total_steps, warmup_steps):
    """The learning rate of step `step` (0 .. total_steps - 1): warm-up, then linear decay."""
    # TODO
    raise NotImplementedError("write learning_rate")


def clip(grads, max_norm):
    """(grads scaled to the length max_norm if they are longer, their length before)."""
    # TODO
    raise NotImplementedError("write clip")
