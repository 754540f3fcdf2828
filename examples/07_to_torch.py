"""The same GPT in PyTorch: equal logits and gradients, then train in torch and copy back.

    python examples/07_to_torch.py

Needs PyTorch (pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu);
without it, says so and exits.
"""
import random
import sys

from micrograd_gpt import GPT, GPTConfig
from micrograd_gpt.common.install import INSTALL_TORCH


def main():
    try:
        import torch
    except ImportError:
        print("skipped: this example needs PyTorch, which is not installed "
              f"({INSTALL_TORCH})")
        return 0
    from micrograd_gpt.training.interop import from_torch, to_torch

    torch.set_num_threads(1)  # tiny arrays: extra threads cost more than they save
    model = GPT(GPTConfig(vocab_size=27, d_model=16, num_heads=2, num_layers=1, max_seq_len=16),
                rng=random.Random(0))
    tokens = [26, 4, 12, 12, 0, 26]  # [BOS] e m m a [BOS]
    twin = to_torch(model)
    print(f"to_torch: {type(twin).__name__}, float64, "
          f"{sum(p.numel() for p in twin.parameters()):,} parameters")

    loss = model.loss(tokens)
    loss.backward()
    torch_loss = twin.loss(torch.tensor(tokens))
    torch_loss.backward()
    print(f"loss: Values {loss.data:.12f}, torch {torch_loss.item():.12f}")
    ours = dict(model.named_tensors())
    worst = 0.0
    for name, param in twin.named_parameters():
        tensor = ours[name]  # a list of Values, or a list of rows of Values
        if isinstance(tensor[0], list):
            grads = [[v.grad for v in row] for row in tensor]
        else:
            grads = [v.grad for v in tensor]
        difference = param.grad - torch.tensor(grads, dtype=torch.float64)
        worst = max(worst, difference.abs().max().item())
    print(f"largest gradient difference: {worst:.1e}")
    assert worst < 1e-12

    optimizer = torch.optim.Adam(twin.parameters(), lr=0.01)
    for _ in range(50):
        optimizer.zero_grad()
        twin.loss(torch.tensor(tokens)).backward()
        optimizer.step()
    from_torch(twin, model)
    print(f"after 50 Adam steps in torch, copied back: the Value model's loss on 'emma' is "
          f"{model.loss(tokens).data:.4f} (was {loss.data:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
