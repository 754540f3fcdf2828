"""torch.optim's SGD, Adam and AdamW for the torch engine, saved in optim.py's format.

The torch engine trains with `torch.optim`, whose state (per-parameter tensors keyed by
torch's names, `exp_avg`, `exp_avg_sq`, ...) differs from the state our own optimizers
save. `TorchOptimizer` wraps a torch optimizer and speaks optim.py's format on both
sides, so a checkpoint written by either engine resumes with either engine.
"""
from __future__ import annotations

import inspect

from ..common.install import INSTALL_TORCH

try:
    import torch
except ImportError as error:  # pragma: no cover - depends on the machine
    raise ImportError("micrograd_gpt.training.torch_optimizer needs PyTorch: "
                      f"{INSTALL_TORCH}") from error

from .optim import SGD, Adam, AdamW, check_optimizer_state

__all__ = ["TorchOptimizer", "in_dtype"]

# our optimizer name -> (optim.py's class, torch's class); our buffer -> torch's state key
_OPTIMIZERS = {"sgd": (SGD, torch.optim.SGD), "adam": (Adam, torch.optim.Adam),
               "adamw": (AdamW, torch.optim.AdamW)}
_BUFFERS = {"momentum_buffers": "momentum_buffer", "m": "exp_avg", "v": "exp_avg_sq"}


class TorchOptimizer:
    """`torch.optim.SGD`, `Adam` or `AdamW`, set up with the run's settings, whose
    `state_dict()` and `load_state_dict()` speak optim.py's format: the same type name,
    settings and step count, and each buffer (Adam's m and v, SGD's momentum) as one flat
    list of numbers in the order of the Value model's `parameters()`. A checkpoint written
    by either engine therefore resumes with either engine.

    `named_params`: (name, torch parameter) in the order of the Value model's tensors.
    """

    def __init__(self, config, named_params):
        self.params = [param for _, param in named_params]
        ours, theirs = _OPTIMIZERS[config.optimizer]
        self.kind = ours
        settings = dict(lr=config.lr, weight_decay=config.weight_decay)
        if ours is SGD:
            settings.update(momentum=config.momentum)
        else:
            settings.update(betas=tuple(config.betas), eps=config.eps)
        self.torch_optimizer = theirs(self.params, **settings)
        self.steps = 0
        # the settings optim.py's optimizer of this type saves: lr, betas, eps, ...
        self._settings = tuple(inspect.signature(ours.check_settings).parameters)

    @property
    def lr(self):
        return self.torch_optimizer.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        for group in self.torch_optimizer.param_groups:
            group["lr"] = value

    def zero_grad(self):
        """Forget the gradients (set_to_none: the next backward writes them afresh)."""
        self.torch_optimizer.zero_grad(set_to_none=True)

    def step(self):
        """One update of every parameter from its `.grad` (torch.optim does it)."""
        self.torch_optimizer.step()
        self.steps += 1

    def state_dict(self):
        """optim.Optimizer.state_dict()'s format (see the class docstring)."""
        group = self.torch_optimizer.param_groups[0]
        return {
            "type": self.kind.__name__,
            "hyperparameters": {name: group[name] for name in self._settings},
            "steps": self.steps,
            "buffers": {name: self._flat(_BUFFERS[name]) for name in self.kind._buffers},
        }

    def _flat(self, key):
        """State `key` of every parameter, flattened and joined (zeros where there is none)."""
        state = self.torch_optimizer.state
        parts = [state.get(p, {}).get(key) for p in self.params]
        parts = [torch.zeros_like(p) if part is None else part
                 for p, part in zip(self.params, parts)]
        return torch.cat([part.detach().reshape(-1).to("cpu", torch.float64)
                          for part in parts]).tolist()

    def load_state_dict(self, state):
        """Restore a state saved by either engine, checked through first as optim.py's
        optimizers check it (a ValueError says what does not fit)."""
        state = check_optimizer_state(state, sum(p.numel() for p in self.params),
                                      expected_type=self.kind)
        for group in self.torch_optimizer.param_groups:
            group.update(state["hyperparameters"])
        self.steps = state["steps"]
        self._load_buffers(state["buffers"])

    def _load_buffers(self, buffers):
        """Cut the flat buffers into one tensor per parameter and hand them to torch."""
        self.torch_optimizer.state.clear()
        if self.steps == 0:
            return  # nothing happened yet: torch starts its state at the first step
        if self.kind is SGD and not self.torch_optimizer.param_groups[0]["momentum"]:
            return  # plain SGD keeps no state
        dtype = self.params[0].dtype
        columns = {name: in_dtype(torch.tensor(buffers[name], dtype=torch.float64), dtype,
                                  f"buffer {name!r}")
                   for name in self.kind._buffers}
        start = 0
        for p in self.params:
            state = {_BUFFERS[name]: flat[start:start + p.numel()].reshape(p.shape).to(p)
                     for name, flat in columns.items()}
            if self.kind is not SGD:
                state["step"] = torch.tensor(float(self.steps))
            self.torch_optimizer.state[p] = state
            start += p.numel()


def in_dtype(tensor, dtype, what):
    """`tensor` (float64) rounded to `dtype`, refused when a finite number becomes
    infinite there (float32 ends at ±3.4e38; a Value is a float64, which goes to 1.8e308):
    a resumed run would otherwise train on inf without a word. `what` names the numbers."""
    rounded = tensor.to(dtype)
    if not bool(torch.isfinite(rounded).all()):
        largest = tensor.abs().max().item()
        raise ValueError(f"{what}: holds {largest:.3g}, beyond the range of "
                         f"{str(dtype).replace('torch.', '')} (±{torch.finfo(dtype).max:.3g}); "
                         "use --dtype float64, or the Value engine")
    return rounded
