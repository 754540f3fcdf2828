"""Exercise 4 (chapter 4): forget zero_grad() and explain the XOR run. A solution.

Without zero_grad each backward() adds the new gradient to the old ones, so the update at
step k is lr × (g_1 + ... + g_k): gradient descent with momentum and no friction. The
first steps' directions keep pushing forever; the weights grow to about 30, the tanh
units saturate (their slope 1 - tanh² is almost 0), and the loss stalls near 0.8 while
the normal run goes on down.
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
    for _ in range(steps):
        loss = F.mean([(model(x) - target) ** 2 for x, target in XOR])
        if zero_grad:
            model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        losses.append(loss.data)
    return losses


GRAD_AFTER_K_STEPS = "b"
WHAT_HAPPENS = "b"
