"""A two-layer network learns XOR: Module, Linear, parameters(), gradient descent.

    python examples/04_mlp.py
"""
import random

from micrograd_gpt import Linear, Module, Value
from micrograd_gpt import functional as F


class TinyMLP(Module):
    """2 inputs -> 3 tanh neurons -> 1 output."""

    def __init__(self, rng):
        self.hidden = Linear(2, 3, rng=rng, std=1.0)
        self.out = Linear(3, 1, rng=rng, std=1.0)

    def forward(self, x):
        h = [v.tanh() for v in self.hidden(x)]  # [2] -> [3]
        return self.out(h)[0]                   # [3] -> one Value


def main():
    model = TinyMLP(random.Random(0))
    print(model)
    print(f"{len(model.parameters())} parameters")
    xor = [([Value(a), Value(b)], target)
           for a, b, target in [(0, 0, -1.0), (0, 1, 1.0), (1, 0, 1.0), (1, 1, -1.0)]]
    for step in range(201):
        loss = F.mean([(model(x) - target) ** 2 for x, target in xor])
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.2 * p.grad  # gradient descent
        if step % 40 == 0:
            print(f"step {step:3}: loss {loss.data:.4f}")
    for x, target in xor:
        print(f"  xor({x[0].data:g}, {x[1].data:g}) = {model(x).data:+.3f}  (target {target:+g})")
    assert all((model(x).data > 0) == (target > 0) for x, target in xor)


if __name__ == "__main__":
    main()
