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

import gc
import os
import random
import time
from contextlib import contextmanager

from ..autograd import functional as F
from ..common.checks import check_choice, check_instance, check_int
from ..autograd.value import Tape
from ..models.gpt import GPTConfig, count_parameters
from ..models.language_model import LanguageModel, check_plain
from ..models.registry import build_model
from .clip_grad import clip_grad_norm
from .optim import make_optimizer
from .presets import PRESETS, needs_torch

__all__ = [
    "ENGINES", "DEFAULT_ENGINE", "ValuesEngine", "make_engine", "set_threads",
    "check_engine_options", "import_torch_engine",
    "check_engine_fits", "estimate_values_step_seconds", "cyclic_gc_paused", "batch_loss",
    "train_step", "evaluate", "INSTALL_TORCH",
]

ENGINES = ("values", "torch")
DEFAULT_ENGINE = "values"
INSTALL_TORCH = "pip install 'micrograd-gpt[torch]'"


# -------------------------------------------------------------------------------------
# One step with Values
# -------------------------------------------------------------------------------------
@contextmanager
def cyclic_gc_paused():
    """Switch off Python's *cyclic* garbage collector inside the block (restored after).

    Python frees most objects by reference counting, the moment the last reference goes.
    The cyclic collector is an extra pass for objects that refer to each other in a loop;
    it runs every few hundred new objects and walks the objects alive at that moment. A
    training step creates tens of thousands of Value nodes that all stay alive until
    backward is done, so the collector would walk them again and again, finding nothing:
    a Value graph has no cycles (a node points only to older nodes, its children). With the
    collector paused a step takes about a fifth less time (measured: 125 instead of 155 ms
    for the tiny preset's step); reference counting still frees the whole graph as soon as
    the loss is dropped, so memory does not grow.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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
    options) is a mistake there. For the torch engine they are checked where they are used.
    """
    check_choice("engine", name, ENGINES)
    options = dict(device=device, dtype=dtype, threads=threads)
    given = [option for option, value in options.items() if value is not None]
    if name == "values" and given:
        raise ValueError(f"{given[0]}: only the torch engine takes one (got "
                         f"{options[given[0]]!r}); the Value engine computes in Python "
                         "floats on the CPU: use --engine torch, or leave it out")
    return name


def set_threads(name, threads=None):
    """The torch engine's CPU threads per process: `torch.set_num_threads(threads)`, default
    1. The models here are small: split between threads, each operation mostly waits (on a
    busy 2-core machine the small preset's step took 36 ms with one thread, 359 ms with
    two). The Value engine has no threads to set (None only)."""
    if check_engine_options(name, threads=threads) == "torch":
        import_torch_engine().torch.set_num_threads(check_int("threads", 1 if threads is None
                                                        else threads, 1))


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
