"""Optimizers (SGD, Adam, AdamW): each moves the parameters downhill along their gradients.

An optimizer holds a list of parameters (Value leaves) and, after `loss.backward()` has
filled in their `.grad`, moves each one a little way downhill with `step()`. They are
written in order of increasing complexity, each with its state in plain lists you can
print (`opt.momentum_buffers`, `opt.m`, `opt.v`):

* `SGD`:   p -= lr * g                      (optionally with momentum and weight decay)
* `Adam`:  p -= lr * m_hat / (sqrt(v_hat) + eps), with running averages m of g and v of g²
* `AdamW`: Adam, with the weight decay applied to the weights directly instead of to g

Every update follows the formula PyTorch documents for `torch.optim.SGD/Adam/AdamW`, and the
tests check the numbers against PyTorch in float64.

Beside them: lr_schedules.py (the learning rate at each step: the trainer sets
`opt.lr = schedule(step)` before each `opt.step()`) and clip_grad.py (`clip_grad_norm`).
"""
from __future__ import annotations

import inspect
import math

from ..common.checks import (check_bool, check_choice, check_fields, check_int, check_number,
                     check_numbers, check_values, describe)

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "make_optimizer", "OPTIMIZERS", "OPTIMIZER_TYPES",
    "check_optimizer_state",
]


class Optimizer:
    """What every optimizer shares: the parameter list, `lr`, `zero_grad()`, and saving
    and restoring its state (`state_dict()` / `load_state_dict()`).

    Subclasses list their per-parameter state buffers in `_buffers` (names of attributes
    holding one float per parameter, with the smallest value each may hold) and check
    their settings in `check_settings`, which both `__init__` and `load_state_dict` use,
    so a setting read back from a file passes exactly the checks a new optimizer does.
    """

    _buffers = {}  # buffer name -> the lowest value an entry may hold

    def __init__(self, params, **settings):
        self.params = check_values("params", params)
        for name, value in self.check_settings(**settings).items():
            setattr(self, name, value)
        self.steps = 0  # how many times step() has run

    @staticmethod
    def check_settings(lr):
        """The settings, checked (a ValueError names a bad one): a dict name -> value."""
        return {"lr": check_number("lr", lr, 0)}

    @property
    def lr(self):
        """The learning rate of the next `step()` (the trainer sets it from the schedule)."""
        return self._lr

    @lr.setter
    def lr(self, value):
        # checked on every change: a nan learning rate would turn every weight into nan
        self._lr = check_number("lr", value, 0)

    def zero_grad(self):
        """Set every parameter's gradient to 0 (leaves accumulate across backward calls)."""
        for p in self.params:
            p.grad = 0.0

    def step(self):
        raise NotImplementedError

    def state_dict(self):
        """Everything needed to continue exactly where this optimizer stopped, as plain
        JSON-ready data: its type, settings, step count and state buffers."""
        return {
            "type": type(self).__name__,
            "hyperparameters": {name: getattr(self, name) for name in self._hyperparameters},
            "steps": self.steps,
            "buffers": {name: list(getattr(self, name)) for name in self._buffers},
        }

    @property
    def _hyperparameters(self):
        return tuple(inspect.signature(self.check_settings).parameters)

    def load_state_dict(self, state):
        """Restore what `state_dict()` saved (same optimizer type, same number of
        parameters). Everything is checked before anything changes: a mismatch, a bad
        setting or a non-finite buffer raises a ValueError saying what is wrong."""
        state = check_optimizer_state(state, len(self.params), expected_type=type(self))
        for name, value in state["hyperparameters"].items():
            setattr(self, name, value)
        self.steps = state["steps"]
        for name in self._buffers:
            setattr(self, name, list(state["buffers"][name]))

    def __repr__(self):
        settings = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._hyperparameters)
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay.

    For each parameter p with gradient g (PyTorch's formula, without dampening):

        g = g + weight_decay * p              (L2 penalty: pulls weights toward 0)
        buf = momentum * buf + g              (a running sum: keeps rolling downhill)
        g = g + momentum * buf  if nesterov   (look ahead along the velocity)
            buf                 otherwise
        p = p - lr * g

    With momentum = 0 this is plain gradient descent, `p -= lr * g`.
    """

    _buffers = {"momentum_buffers": -math.inf}

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         nesterov=nesterov)
        # one velocity per parameter; starting at 0 makes the first buf equal g (as in torch)
        self.momentum_buffers = [0.0] * len(self.params)

    @staticmethod
    def check_settings(lr, momentum=0.0, weight_decay=0.0, nesterov=False):
        """SGD's settings, checked: lr >= 0, momentum in [0, 1), weight_decay >= 0."""
        settings = {"lr": check_number("lr", lr, 0),
                    "momentum": check_number("momentum", momentum, 0, 1, high_open=True),
                    "weight_decay": check_number("weight_decay", weight_decay, 0),
                    "nesterov": check_bool("nesterov", nesterov)}
        if nesterov and settings["momentum"] == 0:
            raise ValueError("nesterov: needs momentum > 0")
        return settings

    def step(self):
        """Update every parameter once from its current `.grad`."""
        self.steps += 1
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        buffers = self.momentum_buffers
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                g = g + wd * p.data
            if mu:
                buffers[i] = mu * buffers[i] + g
                g = g + mu * buffers[i] if self.nesterov else buffers[i]
            p.data -= lr * g


class Adam(Optimizer):
    """Adam: momentum on the gradient, divided by a running size of the gradient.

    Each parameter keeps two running averages, updated at step t = 1, 2, ...:

        g = g + weight_decay * p                  (L2 penalty, as torch.optim.Adam)
        m = beta1 * m + (1 - beta1) * g           (mean of recent gradients)
        v = beta2 * v + (1 - beta2) * g**2        (mean of recent squared gradients)
        m_hat = m / (1 - beta1**t)                (bias correction: m and v start at 0,
        v_hat = v / (1 - beta2**t)                 so early averages are too small)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Dividing by sqrt(v_hat) takes the scale of the gradient out. On the first step
    m_hat = g and v_hat = g², so every parameter moves by `lr` (up to eps), however big or
    small its gradient; after that the step is at most about `lr`, and smaller where the
    recent gradients disagree in sign.
    """

    _buffers = {"m": -math.inf, "v": 0.0}  # v averages squares: never below 0

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    @staticmethod
    def check_settings(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        """Adam's settings, checked: lr >= 0, each beta in [0, 1), eps > 0 (it keeps the
        division by sqrt(v_hat) + eps away from 0/0 for a parameter whose gradient has
        always been 0), weight_decay >= 0."""
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas: must be a pair (beta1, beta2) of numbers in [0, 1), "
                             f"got {describe(betas)}")
        return {"lr": check_number("lr", lr, 0),
                "betas": tuple(check_number(f"betas[{i}]", b, 0, 1, high_open=True)
                               for i, b in enumerate(betas)),
                "eps": check_number("eps", eps, 0, low_open=True),
                "weight_decay": check_number("weight_decay", weight_decay, 0)}

    def _decay_weights(self):
        """Adam folds weight decay into the gradient instead (see `_l2_coefficient`)."""

    def _l2_coefficient(self):
        """Adam adds weight_decay·p to the gradient (an L2 penalty, as torch.optim.Adam)."""
        return self.weight_decay

    def step(self):
        """Update every parameter once from its current `.grad`."""
        self.steps += 1
        t = self.steps
        beta1, beta2 = self.betas
        bias_correction1 = 1.0 - beta1 ** t
        bias_correction2 = 1.0 - beta2 ** t
        self._decay_weights()
        lr, eps, m, v, sqrt = self.lr, self.eps, self.m, self.v, math.sqrt
        l2 = self._l2_coefficient()
        one_minus_beta1, one_minus_beta2 = 1.0 - beta1, 1.0 - beta2
        # This loop runs once per parameter, so it is kept free of method calls.
        for i, p in enumerate(self.params):
            g = p.grad + l2 * p.data if l2 else p.grad
            m_i = m[i] = beta1 * m[i] + one_minus_beta1 * g
            v_i = v[i] = beta2 * v[i] + one_minus_beta2 * g * g
            m_hat = m_i / bias_correction1
            v_hat = v_i / bias_correction2
            p.data -= lr * m_hat / (sqrt(v_hat) + eps)


class AdamW(Adam):
    """Adam with *decoupled* weight decay (Loshchilov & Hutter): the weights shrink by a
    factor (1 - lr * weight_decay) before the Adam step, and the gradient is left alone:

        p = p * (1 - lr * weight_decay)
        ... then exactly Adam with weight_decay = 0.

    With Adam's L2 form the decay would be divided by sqrt(v_hat) like the gradient, so
    parameters with large gradients would hardly be decayed; here all shrink alike.
    """

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decay_weights(self):
        if self.weight_decay:
            shrink = 1.0 - self.lr * self.weight_decay
            for p in self.params:
                p.data *= shrink

    def _l2_coefficient(self):
        return 0.0  # the decay happened in _decay_weights, not through the gradient


OPTIMIZERS = ("sgd", "adam", "adamw")


def make_optimizer(name, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   momentum=0.0):
    """An optimizer by name: "sgd", "adam" or "adamw" (used by the trainer's config)."""
    check_choice("optimizer", name, OPTIMIZERS)
    if name == "sgd":
        return SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    return AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


OPTIMIZER_TYPES = {cls.__name__: cls for cls in (SGD, Adam, AdamW)}


def check_optimizer_state(state, num_params, expected_type=None):
    """`state` (from `state_dict()`, e.g. read back from a checkpoint), checked through and
    through before any optimizer uses it: a known type (`expected_type`'s, if given), its
    settings as the constructor checks them, steps >= 0, and each buffer a list of
    `num_params` finite numbers. Returns a clean copy (betas as a tuple, floats)."""
    check_fields("optimizer state", state, ("type", "hyperparameters", "steps", "buffers"),
                 required=("type", "hyperparameters", "steps", "buffers"))
    found = state["type"]
    if expected_type is not None and found != expected_type.__name__:
        raise ValueError(f"optimizer state: is for {describe(found)}, not "
                         f"{expected_type.__name__}")
    cls = OPTIMIZER_TYPES.get(found) if isinstance(found, str) else None
    if cls is None:
        raise ValueError(f"optimizer state: unknown type {describe(found)} (known: "
                         f"{', '.join(OPTIMIZER_TYPES)})")
    names = tuple(inspect.signature(cls.check_settings).parameters)
    hyperparameters = check_fields("optimizer state: hyperparameters",
                                   state["hyperparameters"], names, required=names)
    buffers = check_fields("optimizer state: buffers", state["buffers"],
                           tuple(cls._buffers), required=tuple(cls._buffers))
    try:
        settings = cls.check_settings(**hyperparameters)
    except ValueError as e:
        raise ValueError(f"optimizer state: hyperparameters: {e}") from None
    for name in cls._buffers:
        got = buffers[name]
        if isinstance(got, list) and len(got) != num_params:
            raise ValueError(f"optimizer state: buffer {name!r} has {len(got)} entries, "
                             f"expected one per parameter ({num_params})")
    return {
        "type": found,
        "hyperparameters": settings,
        "steps": check_int("optimizer state: steps", state["steps"], 0),
        "buffers": {name: check_numbers(f"optimizer state: buffer {name!r}", buffers[name],
                                        low, min_length=0)
                    for name, low in cls._buffers.items()},
    }
