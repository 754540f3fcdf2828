"""Move a model's weights to PyTorch and back (torch is optional: imported when called).

`to_torch(model)` builds the model's PyTorch twin (models/torch_twins.py), a float64
`torch.nn.Module` that computes exactly what the Value model computes, with the same
parameter names (`blocks.0.attn.wq.weight`, ...), so the two can be compared number by
number or the weights trained on one and used by the other. `from_torch(torch_module,
model)` copies the torch weights back into the Value model.

`import micrograd_gpt` never imports torch; calling these functions does.
"""
from __future__ import annotations

from ..common.install import INSTALL_TORCH

__all__ = ["to_torch", "from_torch"]


def to_torch(model):
    """A float64 torch module equal to `model`, holding a copy of its weights.

    The torch module takes a LongTensor of token ids, shape [T] or [B, T], and returns
    logits [..., T, V]. It processes all positions at once with a causal mask: the same
    numbers as the Value model's one-position-at-a-time cache, up to float rounding.
    (The torch engine, `train --engine torch`, trains exactly this twin.)
    """
    torch, torch_engine = _import_torch()
    return torch_engine.twin_of(model, dtype=torch.float64)


def from_torch(torch_module, model):
    """Copy the parameters of `torch_module` (e.g. one made by `to_torch` and trained) into
    the Value model `model`, by name. Returns `model`. Names and shapes must match exactly
    (a ValueError says which one does not)."""
    _, torch_engine = _import_torch()
    return torch_engine.copy_weights_into(model, torch_module)


def _import_torch():
    """torch and the torch engine, imported on first use (PyTorch is optional)."""
    try:
        import torch

        from . import torch_engine
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise ImportError(
            f"micrograd_gpt.training.interop needs PyTorch: {INSTALL_TORCH}") from error
    return torch, torch_engine
