"""Move a model's weights to PyTorch and back (torch is optional: imported only in here).

`to_torch(model)` builds the model's PyTorch twin (torch_models.py), a float64
`torch.nn.Module` that computes exactly what the Value model computes, with the same
parameter names (`blocks.0.attn.wq.weight`, ...), so the two can be compared number by
number or the weights trained on one and used by the other. `from_torch(torch_module,
model)` copies the torch weights back into the Value model.

`import micrograd_gpt` never imports torch; calling these functions does.
"""
from __future__ import annotations

__all__ = ["to_torch", "from_torch"]


def to_torch(model):
    """A float64 torch module equal to `model`, holding a copy of its weights.

    The torch module takes a LongTensor of token ids, shape [T] or [B, T], and returns
    logits [..., T, V]. It processes all positions at once with a causal mask: the same
    numbers as the Value model's one-position-at-a-time cache, up to float rounding.
    """
    torch, torch_models = _import_torch()
    twin_class = torch_models.TORCH_MODELS.get(model.kind)
    if twin_class is None:
        raise ValueError(f"model: no PyTorch twin for the model kind {model.kind!r} "
                         f"(there are twins for: {', '.join(torch_models.TORCH_MODELS)})")
    twin = twin_class(model.config, dtype=torch.float64)
    state = {name: torch.tensor(values, dtype=torch.float64)
             for name, values in model.state_dict().items()}
    twin.load_state_dict(state, strict=True)
    return twin


def from_torch(torch_module, model):
    """Copy the parameters of `torch_module` (e.g. one made by `to_torch` and trained) into
    the Value model `model`, by name. Returns `model`. Names and shapes must match exactly
    (a ValueError says which one does not)."""
    state = {name: tensor.detach().double().cpu().tolist()
             for name, tensor in torch_module.state_dict().items()}
    model.load_state_dict(state)
    return model


def _import_torch():
    """torch and the twins, imported on first use (PyTorch is an optional dependency)."""
    try:
        import torch

        from . import torch_models
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise ImportError(
            "micrograd_gpt.interop needs PyTorch: pip install 'micrograd-gpt[torch]'") from error
    return torch, torch_models
