"""Optimizers (SGD, Adam, AdamW), learning-rate schedules and gradient clipping.

An optimizer holds a list of parameters (Value leaves) and, after `loss.backward()` has
filled in their `.grad`, moves each one a little way downhill with `step()`. They are
written in order of increasing complexity, each with its state in plain lists you can
print (`opt.momentum_buffers`, `opt.m`, `opt.v`):

* `SGD`:   p -= lr * g                      (optionally with momentum and weight decay)
* `Adam`:  p -= lr * m_hat / (sqrt(v_hat) + eps), with running averages m of g and v of g²
* `AdamW`: Adam, with the weight decay applied to the weights directly instead of to g

Every update follows the formula PyTorch documents for `torch.optim.SGD/Adam/AdamW`, and the
tests check the numbers against PyTorch in float64.

A schedule is a function from the step number to a learning rate; the trainer sets
`opt.lr = schedule(step)` before each `opt.step()`.
"""
from __future__ import annotations

import math

from .checks import check_choice, check_int, check_number

__all__ = [
    "Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm",
    "constant_lr", "linear_decay_lr", "cosine_lr", "make_schedule", "make_optimizer",
    "OPTIMIZERS", "SCHEDULES",
]


class Optimizer:
    """What every optimizer shares: the parameter list, `lr`, `zero_grad()`, and saving
    and restoring its state (`state_dict()` / `load_state_dict()`).

    Subclasses list their per-parameter state buffers in `_buffers` (names of attributes
    holding one float per parameter) and their settings in `_hyperparameters`.
    """

    _buffers = ()
    _hyperparameters = ("lr",)

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("params: the optimizer got an empty parameter list")
        self.lr = check_number("lr", lr, 0)
        self.steps = 0  # how many times step() has run

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

    def load_state_dict(self, state):
        """Restore what `state_dict()` saved (same optimizer type, same number of
        parameters); a mismatch raises a ValueError saying what differs."""
        if not isinstance(state, dict) or state.get("type") != type(self).__name__:
            found = state.get("type") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"optimizer state: is for {found!r}, not {type(self).__name__}")
        for name in self._buffers:
            buf = state.get("buffers", {}).get(name)
            if not isinstance(buf, list) or len(buf) != len(self.params):
                got = len(buf) if isinstance(buf, list) else "none"
                raise ValueError(f"optimizer state: buffer {name!r} has {got} entries, "
                                 f"expected one per parameter ({len(self.params)})")
        for name, value in state.get("hyperparameters", {}).items():
            if name in self._hyperparameters:
                setattr(self, name, tuple(value) if isinstance(value, list) else value)
        self.steps = int(state.get("steps", 0))
        for name in self._buffers:
            setattr(self, name, [float(x) for x in state["buffers"][name]])

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

    _buffers = ("momentum_buffers",)
    _hyperparameters = ("lr", "momentum", "weight_decay", "nesterov")

    def __init__(self, params, lr=0.01, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr)
        self.momentum = check_number("momentum", momentum, 0, 1, high_open=True)
        self.weight_decay = check_number("weight_decay", weight_decay, 0)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov: needs momentum > 0")
        self.nesterov = bool(nesterov)
        # one velocity per parameter; starting at 0 makes the first buf equal g (as in torch)
        self.momentum_buffers = [0.0] * len(self.params)

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

    _buffers = ("m", "v")
    _hyperparameters = ("lr", "betas", "eps", "weight_decay")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas: must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (check_number("betas[0]", betas[0], 0, 1, high_open=True),
                      check_number("betas[1]", betas[1], 0, 1, high_open=True))
        self.eps = check_number("eps", eps, 0)
        self.weight_decay = check_number("weight_decay", weight_decay, 0)
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

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


# -------------------------------------------------------------------------------------
# Gradient clipping
# -------------------------------------------------------------------------------------
def clip_grad_norm(params, max_norm):
    """Scale all gradients down together so that their overall length is at most
    `max_norm`, and return that length *before* clipping (like
    `torch.nn.utils.clip_grad_norm_`):

        total_norm = sqrt(sum of g**2 over every parameter)
        if total_norm > max_norm:  g = g * max_norm / (total_norm + 1e-6)

    The direction of the step is unchanged; only a rare huge gradient is tamed.
    """
    max_norm = check_number("max_norm", max_norm, 0, low_open=True)
    params = list(params)
    total_norm = math.sqrt(math.fsum(p.grad * p.grad for p in params))
    scale = max_norm / (total_norm + 1e-6)
    if scale < 1.0:
        for p in params:
            p.grad *= scale
    return total_norm


# -------------------------------------------------------------------------------------
# Learning-rate schedules: step (0, 1, ..., total_steps - 1) -> learning rate
# -------------------------------------------------------------------------------------
def constant_lr(lr):
    """The same learning rate at every step."""
    lr = check_number("lr", lr, 0)
    return lambda step: lr


def linear_decay_lr(lr, total_steps, warmup_steps=0, final_lr=0.0):
    """Warm up linearly for `warmup_steps`, then decay linearly from `lr` toward
    `final_lr`, reaching it at step `total_steps`:

        lr_t = final_lr + (lr - final_lr) * (1 - (t - w) / (total_steps - w))

    With no warm-up and final_lr = 0 this is microgpt's `lr * (1 - step / num_steps)`."""
    return _warmup_then(lr, total_steps, warmup_steps,
                        lambda progress: final_lr + (lr - final_lr) * (1.0 - progress))


def cosine_lr(lr, total_steps, warmup_steps=0, min_lr=0.0):
    """Warm up linearly for `warmup_steps`, then follow half a cosine from `lr` down to
    `min_lr` at step `total_steps` (as `torch.optim.lr_scheduler.CosineAnnealingLR`):

        lr_t = min_lr + (lr - min_lr) * (1 + cos(pi * (t - w) / (total_steps - w))) / 2
    """
    return _warmup_then(lr, total_steps, warmup_steps, lambda progress: min_lr + (
        lr - min_lr) * (1.0 + math.cos(math.pi * progress)) / 2.0)


def _warmup_then(lr, total_steps, warmup_steps, decay):
    """A schedule: over the first w = `warmup_steps` steps the rate climbs linearly,
    lr·1/w, lr·2/w, ..., lr·w/w (never exactly 0); after that it is `decay(progress)`, with
    progress = (t - w) / (total_steps - w) going from 0 at the end of the warm-up to 1 at
    `total_steps`."""
    check_number("lr", lr, 0)
    check_int("total_steps", total_steps, 1)
    check_int("warmup_steps", warmup_steps, 0, total_steps - 1)

    def schedule(step):
        if step < warmup_steps:
            return lr * (step + 1) / warmup_steps
        return decay((step - warmup_steps) / (total_steps - warmup_steps))
    return schedule


SCHEDULES = ("constant", "linear", "cosine")


def make_schedule(name, lr, total_steps, warmup_steps=0):
    """A schedule by name: "constant", "linear" or "cosine". The last two decay toward 0,
    which they reach at step `total_steps`, one past the last step (0 .. total_steps - 1):
    the last step itself still uses a small rate (lr / (total_steps - warmup_steps) for
    "linear")."""
    check_choice("lr_schedule", name, SCHEDULES)
    if name == "constant":
        return constant_lr(lr)
    if name == "linear":
        return linear_decay_lr(lr, total_steps, warmup_steps)
    return cosine_lr(lr, total_steps, warmup_steps)
