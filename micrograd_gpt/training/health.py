"""Training health: are a model's activations and gradients in a good range?

A network trains well when the numbers flowing through it stay in a workable range
(Andrej Karpathy's makemore, part 3, made these checks popular). Four questions, asked
per module:

* **Activations**: the mean and spread (std) of each module's outputs. A spread that grows
  from layer to layer, or collapses to ~0, is trouble on the way.
* **Saturation**: a nonlinearity whose input is far out on its flat side passes back
  (almost) no gradient. The share of such units, over every position of a batch:

      tanh   |tanh(x)| > 0.97        (the slope 1 - tanh² is below 0.06)
      relu   x <= 0                  (the slope is 0; about half the units, normally)
      gelu   x < -3                  (the slope is above -0.012 and below 0)

  and the share of *dead* units: flat for every position of the batch, so that unit
  learns nothing from it.
* **Gradients**: the length of each parameter tensor's gradient.
* **Update-to-data ratio**: how much a step changes each tensor, relative to its size,
  log10(|Δw| / |w|). About -3 (a thousandth per step) is makemore's rule of thumb: much
  lower and the tensor learns slowly, much higher and it is thrown around. For plain SGD
  Δw = lr · grad, which is makemore's lr·|grad|/|w|; with Adam, Δw is Adam's own step.

`measure_step(model, batch, take_step)` takes one training step and returns these numbers
as plain data (loop.py stores them in the checkpoint's history, under "health", when
`TrainConfig(record_health=True)`). The activations are read with forward hooks on a
`float_copy()` of the model before the step, running the same forward the step runs; the
gradients are those the step computed.
"""
from __future__ import annotations

import math

from ..autograd import functional as F
from ..models.nn import MLP, ModuleList

__all__ = ["activation_stats", "parameter_stats", "measure_step", "SATURATION",
           "SATURATED_OUTPUT", "NONLINEARITY"]

# nonlinearity -> "this pre-activation x is on the flat side" (see the module docstring)
SATURATION = {
    "tanh": lambda x: abs(math.tanh(x)) > 0.97,
    "relu": lambda x: x <= 0.0,
    "gelu": lambda x: x < -3.0,
}
# the same functions the model's forward uses, on plain floats
NONLINEARITY = {"tanh": F.tanh, "relu": F.relu, "gelu": F.gelu}
# nonlinearity -> "this *output* is on the flat side" (for modules that output one)
SATURATED_OUTPUT = {
    "tanh": lambda t: abs(t) > 0.97,
    "relu": lambda t: t <= 0.0,
}


def _mean_std(numbers):
    mean = math.fsum(numbers) / len(numbers)
    return mean, math.sqrt(math.fsum((x - mean) ** 2 for x in numbers) / len(numbers))


def _flat(tensor):
    """The numbers of a float, a list, or a list of rows, as one list."""
    if isinstance(tensor, (list, tuple)):
        return [x for item in tensor for x in _flat(item)]
    return [tensor]


# -------------------------------------------------------------------------------------
# Activations
# -------------------------------------------------------------------------------------
def activation_stats(model, batch):
    """{module name: {"mean", "std"}} of every module's outputs over `batch` (a list of
    token lists, run as training runs them). A nonlinearity also gets "saturated" and
    "dead": an MLP's (nn.MLP) as an entry of its own ("blocks.0.mlp.gelu"), and a module
    whose output *is* a nonlinearity's (it says so: `output_nonlinearity = "tanh"`, as the
    ladder's tanh layer and RNN cell do) in its own entry. Reads a float copy, so the model
    itself is not touched."""
    fast = model.float_copy()
    seen = _Seen()
    handles = [handle for name, module in fast.named_modules()
               if name and not isinstance(module, ModuleList)   # the model itself; a list
               for handle in seen.watch(name, module)]
    try:
        for tokens in batch:
            fast.loss(tokens)
    finally:
        for handle in handles:
            handle.remove()
    return seen.stats()


class _Seen:
    """What the forward hooks of `activation_stats` collect, and the statistics of it."""

    def __init__(self):
        self.outputs = {}   # module name -> every number it output
        self.inputs = {}    # (MLP name, activation) -> [positions][units] before it
        self.rows = {}      # (name, nonlinearity) -> [positions][units] it output

    def watch(self, name, module):
        """Hook `module` up; returns the handles."""
        self.outputs[name] = []
        handles = [module.register_forward_hook(_keeper(self.outputs[name], _flat))]
        if isinstance(module, MLP):  # its fc layer's outputs are the nonlinearity's inputs
            rows = self.inputs[name, module.activation] = []
            handles.append(module.fc.register_forward_hook(_keeper(rows, _as_row)))
        kind = getattr(module, "output_nonlinearity", None)
        if kind in SATURATED_OUTPUT:
            rows = self.rows[name, kind] = []
            handles.append(module.register_forward_hook(_keeper(rows, _as_row)))
        return handles

    def stats(self):
        stats = {name: dict(zip(("mean", "std"), _mean_std(numbers)))
                 for name, numbers in self.outputs.items() if numbers}
        for (name, activation), rows in self.inputs.items():
            function = NONLINEARITY[activation]
            mean, std = _mean_std([function(x) for row in rows for x in row])
            stats[f"{name}.{activation}"] = {"mean": mean, "std": std,
                                             **_flat_shares(rows, SATURATION[activation])}
        for (name, kind), rows in self.rows.items():
            stats[name].update(_flat_shares(rows, SATURATED_OUTPUT[kind]))
        return stats


def _keeper(store, numbers_of):
    """A forward hook that adds `numbers_of(output)` to the list `store`."""
    def hook(module, args, output):
        store.extend(numbers_of(output))
    return hook


def _as_row(output):
    return [list(output)]


def _flat_shares(rows, flat_side):
    """{"saturated": share of all numbers in `rows` ([positions][units]) on the flat side,
    "dead": share of the units on the flat side at every position}."""
    off = [[flat_side(x) for x in row] for row in rows]
    return {"saturated": sum(map(sum, off)) / (len(off) * len(off[0])),
            "dead": sum(all(unit) for unit in zip(*off)) / len(off[0])}


# -------------------------------------------------------------------------------------
# Gradients and updates
# -------------------------------------------------------------------------------------
def parameter_stats(model, before, grad_scale=1.0):
    """{tensor name: {"shape", "grad_norm", "update_ratio"}} after a training step.

    `before` is `model.state_dict()` from before the step; the gradients are the ones in
    `.grad`, multiplied by `grad_scale` (to undo gradient clipping, which scales all of
    them alike). update_ratio = log10(|w_after - w_before| / |w_before|), None where it
    is undefined (a tensor that was all zeros, or that did not move).
    """
    stats = {}
    for name, tensor in model.named_tensors():
        params = _flat(tensor)
        old = _flat(before[name])
        grad_norm = math.sqrt(math.fsum(p.grad * p.grad for p in params)) * grad_scale
        change = math.sqrt(math.fsum((p.data - w) ** 2 for p, w in zip(params, old)))
        size = math.sqrt(math.fsum(w * w for w in old))
        ratio = math.log10(change / size) if change > 0 and size > 0 else None
        shape = [len(tensor), len(tensor[0])] if isinstance(tensor[0], list) else [len(tensor)]
        stats[name] = {"shape": shape, "grad_norm": grad_norm, "update_ratio": ratio}
    return stats


def measure_step(model, batch, take_step):
    """Take one training step, `take_step()` (which returns `(loss, grad_norm)` as
    `engines.train_step` does), and measure the model's health around it.

    Returns `(loss, grad_norm, record)`; `record` is plain data: {"grad_norm": the
    gradient's length before clipping, "activations": activation_stats(model, batch)
    before the step, "parameters": parameter_stats(...) of the step}.
    """
    before = model.state_dict()
    activations = activation_stats(model, batch)
    loss, grad_norm = take_step()
    used = math.sqrt(math.fsum(p.grad * p.grad for p in model.parameters()))
    # clipping scaled every gradient by used / grad_norm; report the gradients backward gave
    scale = grad_norm / used if grad_norm is not None and used > 0 else 1.0
    record = {"grad_norm": used * scale, "activations": activations,
              "parameters": parameter_stats(model, before, scale)}
    return loss, grad_norm, _finite(record)


def _finite(data):
    """`data` with every inf or nan replaced by None (JSON has no such numbers, and a run
    that blows up should still be able to save what it measured)."""
    if isinstance(data, dict):
        return {key: _finite(value) for key, value in data.items()}
    if isinstance(data, float) and not math.isfinite(data):
        return None
    return data
