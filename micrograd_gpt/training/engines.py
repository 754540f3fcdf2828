"""Engines: what does the arithmetic of a training step, Values or PyTorch tensors.

The training loop (loop.py) is written once. It draws the batches, sets the learning rate
from the schedule, evaluates, prints and saves checkpoints; for the arithmetic it asks an
*engine*, an object with these parts:

    model                    the Value model (a checkpoint and the pictures read this one)
    optimizer                the optimizer as a checkpoint sees it: `state_dict()` and
                             `load_state_dict()` in optim.Optimizer's format, whichever engine
    step(batch, lr, clip)    one optimizer update on a batch: returns (loss, grad_norm)
    evaluate(documents)      the mean next-token loss over documents, no gradients
    sync_model()             copy the engine's current weights into `model`; returns it
    describe()               one line for the log: what runs where
    rank, world_size, is_main    which of several processes this is (torchrun); 0, 1, True
    close()                  let go of what the engine holds (processes, devices)

Two engines:

* "values" (the default, `ValuesEngine` below): the model's own Values, `loss.backward()`
  and the optimizers of optim.py. Every number is a node you can draw and trace.
* "torch" (torch_engine.py, needs PyTorch): the model's PyTorch twin (models/torch_twins.py)
  and `torch.optim`, on a CPU or a GPU, in float32 or float64, and under `torchrun` in
  several processes with DistributedDataParallel. In float64 it computes the same losses
  as the Value engine, step for step, to ~1e-12 (the tests check 1e-9).

Because both engines save the same weights (plain numbers, the Value model's names) and
the same optimizer state, a run can be resumed with either one.
"""
from __future__ import annotations

import dataclasses
import os
import random
import re
import time

from ..autograd import functional as F
from ..common.checks import check_choice, check_instance, check_int, describe
from ..common.install import INSTALL_TORCH
from ..autograd.tape import Tape, cyclic_gc_paused
from ..models.gpt import GPTConfig, count_parameters
from ..models.language_model import LanguageModel, check_plain
from ..models.registry import build_model
from .clip_grad import clip_grad_norm
from .optim import make_optimizer
from .presets import PRESETS, needs_torch

__all__ = [
    "ENGINES", "DEFAULT_ENGINE", "ValuesEngine", "make_engine", "set_threads",
    "check_engine_options", "import_torch_engine", "check_device", "check_threads",
    "max_threads", "DEVICE_FORMS",
    "check_engine_fits", "estimate_values_step_seconds", "estimate_step_seconds",
    "batch_loss",
    "train_step", "evaluate", "INSTALL_TORCH",
]

ENGINES = ("values", "torch")
DEFAULT_ENGINE = "values"


# -------------------------------------------------------------------------------------
# One step with Values
# -------------------------------------------------------------------------------------
def batch_loss(model, batch):
    """Mean next-token cross-entropy over every prediction in `batch` (a list of token
    lists): Σ_docs Σ_t -log p(next token) / (number of predictions). Long and short
    documents count per token, not per document. Returns one Value."""
    num_predictions = sum(len(doc) - 1 for doc in batch)
    return F.sum_values([model.loss(doc, reduction="sum") for doc in batch]) * (
        1.0 / num_predictions)


def train_step(model, optimizer, batch, lr, grad_clip=None):
    """One optimizer update on `batch`; returns `(loss, grad_norm)` as floats (grad_norm
    is the length before clipping, None when `grad_clip` is None).

    The forward pass runs on a `Tape`, which lists the step's nodes as they are made, so
    backward needs no search of the graph (the same gradients as `loss.backward()`). On
    the optimizer's first step the tape is checked to hold the whole graph: a model whose
    forward reuses Values computed before the step (stale after the first update) is
    refused with a clear error."""
    with cyclic_gc_paused():
        with Tape() as tape:
            loss = batch_loss(model, batch)
        if optimizer.steps == 0 and not tape.covers(loss):
            raise ValueError(
                f"{type(model).__name__}: its forward pass uses Values computed before the "
                "training step began (not from its parameters and the tokens), whose "
                "numbers would be stale after the first update; compute them inside "
                "forward, or keep them as parameters")
        optimizer.zero_grad()
        tape.backward(loss, leaves=optimizer.params)
        loss_value = loss.data
        del loss, tape  # drop the graph here: reference counting frees it while the GC is off
    grad_norm = clip_grad_norm(optimizer.params, grad_clip) if grad_clip else None
    optimizer.lr = lr
    optimizer.step()
    return loss_value, grad_norm


def evaluate(model, documents):
    """Mean next-token cross-entropy over all predictions in `documents`, without
    building a graph: the model's own forward on a `float_copy()` of its weights. A model
    that guesses uniformly scores ln(vocab_size)."""
    check_instance("model", model, LanguageModel, "a language model (e.g. a GPT)")
    check_instance("documents", documents, (list, tuple), "a list of token-id lists")
    if not documents:
        raise ValueError("documents: need at least one document to evaluate on")
    fast = model.float_copy()
    total = sum(check_plain([fast.loss(doc, reduction="sum")], type(model).__name__)[0]
                for doc in documents)
    return total / sum(len(doc) - 1 for doc in documents)


# -------------------------------------------------------------------------------------
# The engines
# -------------------------------------------------------------------------------------
class ValuesEngine:
    """The Value engine: the model's own Values, `backward()`, and optim.py's optimizers.

    `config` is the run's TrainConfig (its optimizer settings are used here).
    """

    name = "values"
    rank, world_size, is_main = 0, 1, True

    def __init__(self, model, config):
        self.model = model
        self.optimizer = make_optimizer(
            config.optimizer, model.parameters(), lr=config.lr, betas=config.betas,
            eps=config.eps, weight_decay=config.weight_decay, momentum=config.momentum)

    def step(self, batch, lr, grad_clip=None):
        """One optimizer update on `batch` (see `train_step`): (loss, grad_norm)."""
        return train_step(self.model, self.optimizer, batch, lr, grad_clip)

    def evaluate(self, documents):
        """The mean next-token loss over `documents` (see `evaluate`)."""
        return evaluate(self.model, documents)

    def sync_model(self):
        """The model: its Values are the weights, nothing to copy."""
        return self.model

    def describe(self):
        """One line for the log and the checkpoint: what does the arithmetic."""
        return "values (pure Python: one graph node per number)"

    def close(self):
        """Nothing to let go of."""


def make_engine(name, model, config, device=None, dtype=None):
    """The engine `name` ("values" or "torch") for training `model` as `config` says.

    device ("cpu", "cuda", "cuda:1"; None: a GPU when there is one) and dtype ("float32",
    the default, or "float64") are the torch engine's; the Value engine computes in
    Python floats (float64) on the CPU and refuses them.
    """
    if check_engine_options(name, device=device, dtype=dtype) == "values":
        _refuse_several_processes()
        return ValuesEngine(model, config)
    return import_torch_engine().TorchEngine(model, config, device=device, dtype=dtype)


def _refuse_several_processes():
    """Under torchrun the Value engine would train the whole run once in every process,
    all of them printing and writing the same checkpoint: refuse."""
    processes = os.environ.get("WORLD_SIZE", "1")
    if processes.strip() not in ("", "1"):
        raise ValueError(f"engine: torchrun started {processes} processes, but only the torch "
                         "engine shares the work between processes: add --engine torch")


def check_engine_options(name, device=None, dtype=None, threads=None):
    """`name` if it is an engine and the options fit it: the Value engine computes in
    Python floats on the CPU, so a device, dtype or thread count (the torch engine's
    options) is a mistake there. For the torch engine the device must be written as
    `check_device` says and the threads be at most `max_threads()`; whether the device
    exists is checked where it is used.
    """
    check_choice("engine", name, ENGINES)
    options = dict(device=device, dtype=dtype, threads=threads)
    given = [option for option, value in options.items() if value is not None]
    if name == "values" and given:
        raise ValueError(f"{given[0]}: only the torch engine takes one (got "
                         f"{options[given[0]]!r}); the Value engine computes in Python "
                         "floats on the CPU: use --engine torch, or leave it out")
    check_device(device)
    check_threads(threads)
    return name


DEVICE_FORMS = "'cpu', 'cuda' or 'cuda:N' (N: a GPU's number, from 0)"


def check_device(device):
    """`device` if it is None, "cpu", "cuda" or "cuda:N": the devices the torch engine
    computes on (PyTorch itself also takes forms such as "cpu:1", which mean nothing more
    here)."""
    if device is None:
        return None
    if not isinstance(device, str) or not re.fullmatch(r"cpu|cuda(:\d{1,4})?", device):
        raise ValueError(f"device: must be {DEVICE_FORMS}, got {describe(device)}")
    return device


def max_threads():
    """The most CPU threads a process may ask for: this machine's CPUs (more only wait for
    each other, and a huge number makes PyTorch fail allocating them)."""
    return os.cpu_count() or 1


def check_threads(threads):
    """`threads` if it is None or an integer in [1, max_threads()]."""
    if isinstance(threads, int) and not isinstance(threads, bool) and threads > max_threads():
        raise ValueError(f"threads: at most {max_threads()}, the CPUs of this machine (more "
                         f"threads only wait for each other), got {threads:,}")
    return check_int("threads", threads, 1, none_ok=True)


def set_threads(name, threads=None):
    """The torch engine's CPU threads per process: `torch.set_num_threads(threads)`, default
    1, at most the machine's CPUs (`max_threads`). The models here are small: split
    between threads, each operation mostly waits (on a busy 2-core machine the small
    preset's step took 36 ms with one thread, 359 ms with two). The Value engine has no
    threads to set (None only)."""
    if check_engine_options(name, threads=threads) == "torch":
        import_torch_engine().torch.set_num_threads(1 if threads is None else threads)


def import_torch_engine():
    """torch_engine.py, imported on first use; without PyTorch a ValueError that says how
    to install it (the command line prints it as one line)."""
    try:
        from . import torch_engine
    except ImportError:
        raise ValueError(f"engine: 'torch' needs PyTorch, which is not installed: "
                         f"{INSTALL_TORCH}") from None
    return torch_engine


# -------------------------------------------------------------------------------------
# Presets too big for Values: refuse them with an estimate
# -------------------------------------------------------------------------------------
def check_engine_fits(name, config, vocab_size):
    """A ValueError when the run `config` (a TrainConfig) comes from a preset that needs the
    torch engine but `name` is "values"; the message estimates how long the Value engine
    would take, from a step of the tiny preset's model timed just now on this machine."""
    if name != "values" or config.preset is None or not needs_torch(config.preset):
        return
    seconds = estimate_values_step_seconds(config, vocab_size)
    raise ValueError(
        f"preset {config.preset!r} needs the torch engine (--engine torch; "
        f"{INSTALL_TORCH}): with Values one of its steps would take about "
        f"{_long_duration(seconds)} and its {config.steps:,} steps about "
        f"{_long_duration(seconds * config.steps)} (estimated from a step of a small model "
        "timed just now, scaled by the work per token)")


def estimate_values_step_seconds(config, vocab_size, rng=None):
    """How long one Value-engine step of the GPT run `config` would take on this machine.

    Times one step of the tiny preset's model (best of three, a fraction of a second), then
    scales it by the work of a step: (predicted tokens) x (multiply-adds per token,
    `_work_per_token`). A Value step costs about the same per node whatever the model's
    size, and a GPT makes about one node-edge per multiply-add, so the ratio of the work is
    about the ratio of the time (benchmarks/engines.py compares estimates with
    measurements).
    """
    rng = rng if rng is not None else random.Random(0)
    small = dict(PRESETS["tiny"]["model"])
    length = small["max_seq_len"]
    model = build_model("gpt", dict(small, vocab_size=vocab_size), rng=rng)
    optimizer = make_optimizer("adam", model.parameters(), lr=1e-3)
    batch = [[rng.randrange(vocab_size) for _ in range(length + 1)] for _ in range(2)]
    best = min(_timed(lambda: train_step(model, optimizer, batch, 1e-3)) for _ in range(3))
    small_work = 2 * length * _work_per_token(model.config, length)
    big_length = config.model["max_seq_len"]
    big_config = GPTConfig(vocab_size=vocab_size, **config.model)
    big_work = config.batch_size * big_length * _work_per_token(big_config, big_length)
    return best * big_work / small_work


def estimate_step_seconds(engine, config, vocab_size, length):
    """How long one step of the run `config` takes on this machine with `engine`, for a
    warning before a long run (`micrograd-gpt train` says it when a Value run would take
    more than a few minutes).

    "values": a GPT's step is scaled from a tiny one (`estimate_values_step_seconds`, a
    fraction of a second); another model kind is small, so one of its own steps is timed.
    "torch": a step of the run's model on PyTorch, CPU, float32, timed after one warm-up
    step (needs PyTorch: a ValueError says how to install it). `length`: the tokens a
    document holds (TrainConfig's sequence length).
    """
    rng = random.Random(0)
    if engine == "values" and config.model_kind == "gpt":
        return estimate_values_step_seconds(config, vocab_size, rng)
    model = build_model(config.model_kind, dict(config.model, vocab_size=vocab_size), rng=rng)
    batch = [[rng.randrange(vocab_size) for _ in range(length + 1)]
             for _ in range(config.batch_size)]
    if engine == "values":
        optimizer = make_optimizer("adam", model.parameters(), lr=1e-3)
        return _timed(lambda: train_step(model, optimizer, batch, 1e-3))
    quiet = dataclasses.replace(config, record_health=False)
    timer = import_torch_engine().TorchEngine(model, quiet, device="cpu", dtype="float32")
    try:
        timer.step(batch, 1e-3)  # the first step pays for setting up
        return min(_timed(lambda: timer.step(batch, 1e-3)) for _ in range(3))
    finally:
        timer.close()


def _timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _work_per_token(config, length):
    """Multiply-adds of a GPT's forward for one token of a `length`-token document: every
    weight once (count_parameters) plus attention, which looks back at length/2 positions
    on average (scores and weighted sum: 2 multiply-adds per position per width)."""
    return count_parameters(config) + config.num_layers * config.d_model * (length + 1)


def _long_duration(seconds):
    """ "5 hours", "12 days": a rough duration for an estimate."""
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}"
    return f"{seconds:,.0f} seconds"
