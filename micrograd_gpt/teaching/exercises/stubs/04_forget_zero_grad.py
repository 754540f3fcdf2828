"""Exercise 4 (chapter 4): forget zero_grad() and explain the XOR run.

Part 1. Write `train_xor(model, steps, lr, zero_grad=True)`: chapter 4's training loop
for XOR, plain gradient descent. At every step:

    loss = the mean over XOR of (model(x) - target)²
    if zero_grad: model.zero_grad()          # the line this exercise is about
    loss.backward()
    p.data -= lr * p.grad                    for every parameter p

and return the list of the losses, one per step (loss.data, before the update).

Part 2. Run it twice on `make_model()`, with and without zero_grad, for 100 steps at
lr = 0.2, and look at the losses and at the weights (`model.parameters()`). Then answer:

GRAD_AFTER_K_STEPS: without zero_grad, what does p.grad hold at step k?
    a) the gradient of step k
    b) the sum of the gradients of steps 1..k
    c) the average of the gradients of steps 1..k
    d) the gradient of step 1, kept ever since

WHAT_HAPPENS: what happens to the run without zero_grad, and why?
    a) nothing: zero_grad only frees memory, so both runs take the very same steps and
       end at the same loss
    b) each step moves the weights by lr times the sum of all the gradients so far: they
       grow, the tanh units saturate, the loss stalls
    c) the old gradients cancel the new ones, so each step is smaller than the normal
       run's: the same path, only more slowly
    d) the steps overshoot from the start: the loss grows every step until it overflows,
       and the run stops with an error

Check your work:  micrograd-gpt exercise check 4
"""
import random

from micrograd_gpt import Linear, Module, Value
from micrograd_gpt import functional as F

# inputs as Values, targets as numbers: +1 when exactly one input is 1
XOR = [([Value(a), Value(b)], target)
       for a, b, target in [(0, 0, -1.0), (0, 1, 1.0), (1, 0, 1.0), (1, 1, -1.0)]]


class TinyMLP(Module):
    """2 inputs -> 3 tanh neurons -> 1 output (chapter 4)."""

    def __init__(self, rng):
        self.hidden = Linear(2, 3, rng=rng, std=1.0)
        self.out = Linear(3, 1, rng=rng, std=1.0)

    def forward(self, x):
        return self.out([h.tanh() for h in self.hidden(x)])[0]


def make_model(seed=0):
    """A fresh TinyMLP, the same for the same seed."""
    return TinyMLP(random.Random(seed))


def train_xor(model, steps, lr, zero_grad=True):
    """Gradient descent on XOR for `steps` steps; returns the loss of every step."""
    losses = []
    # TODO: the loop of the docstring
    raise NotImplementedError("write the training loop")


GRAD_AFTER_K_STEPS = None  # TODO: "a", "b", "c" or "d"
WHAT_HAPPENS = None        # TODO: "a", "b", "c" or "d"


if __name__ == "__main__":  # python 04_forget_zero_grad.py: look at both runs
    for forget in (False, True):
        model = make_model()
        losses = train_xor(model, 100, 0.2, zero_grad=not forget)
        biggest = max(abs(p.data) for p in model.parameters())
        print(f"zero_grad={not forget}: losses {[round(x, 3) for x in losses[::20]]}, "
              f"largest weight {biggest:.1f}")
