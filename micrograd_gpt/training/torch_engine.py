"""The torch engine: the same training step on tensors, with torch.optim, on a CPU or a GPU,
in one process or several (torchrun + DistributedDataParallel).

What stays the Value engine's (loop.py does it for both): the data and its tokenizer, the
batches (the same seeded `random.Random`), the learning-rate schedule, the evaluation
documents, the progress line, the checkpoints and the samples. What changes is who does
the arithmetic of a step:

1. the batch becomes two tensors [B, T]: the inputs (each document but its last token) and
   the targets (each document but its first), short documents padded at the end with a
   target that `cross_entropy` ignores (`ignore_index`), so a pad changes nothing;
2. the model's PyTorch twin (models/torch_twins.py: the same computation, all positions at once)
   gives the logits [B, T, V], and the loss is the sum of the cross-entropies divided by the
   number of predictions in the batch, exactly the Value engine's `batch_loss`;
3. `loss.backward()`, `torch.nn.utils.clip_grad_norm_` (the same formula as
   clip_grad.clip_grad_norm) and `torch.optim.SGD/Adam/AdamW` (the same formulas as optim.py).

In float64 this is the Value engine's step up to rounding (the tests check 1e-9 over 20
steps). In float32 it is what everyone trains with.

**Several processes.** Started by `torchrun --nproc_per_node N -m micrograd_gpt train
--engine torch ...`, every process runs this same program. Each builds the same model and
draws the same batch (same seed), then takes its share of it: process r gets the documents
r, r + N, r + 2N, ... . DistributedDataParallel adds the processes' gradients up during
backward and divides by N. Since the loss of the whole batch is (Σ over all shares of the
per-token losses) / (predictions in the whole batch), each process back-propagates its own
sum divided by the *whole* batch's number of predictions, times N: after DDP's average
that is exactly the whole batch's gradient, however unevenly the tokens fall. Every
process then has the same gradient, clips it alike and takes the same optimizer step, so
the weights stay equal everywhere; the first process (rank 0) alone prints and saves.
Backend: gloo on CPUs, nccl on GPUs (one GPU per process: cuda:LOCAL_RANK).

**Checkpoints.** The weights go back to the Value model (plain floats, the same names) and
the optimizer state is saved in optim.py's format (torch_optimizer.py) (one number per parameter, in the Value
model's order), so a checkpoint does not depend on the engine that wrote it.
"""
from __future__ import annotations

import importlib
import os

from ..common.install import INSTALL_TORCH

try:
    import torch
    import torch.distributed as dist
    from torch.nn import functional as TF
    from torch.nn.parallel import DistributedDataParallel
except ImportError as error:  # pragma: no cover - depends on the machine
    raise ImportError("micrograd_gpt.training.torch_engine needs PyTorch: "
                      f"{INSTALL_TORCH}") from error

from ..common.checks import check_choice
from ..models.registry import MODEL_CLASSES
from .engines import check_device
from .torch_optimizer import TorchOptimizer, in_dtype

__all__ = ["TorchEngine", "twin_class", "twin_of", "copy_weights_into",
           "DTYPES"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}
IGNORE = -100           # the target of a padded position: cross_entropy skips it
EVAL_CHUNK = 64         # documents per forward when evaluating (bounds the memory)


# -------------------------------------------------------------------------------------
# Weights: Value model <-> twin
# -------------------------------------------------------------------------------------
def twin_class(model):
    """The class of the PyTorch twin of `model` (a Value model or its class), imported from
    the dotted name the class carries (`GPT.torch_twin`)."""
    if model.torch_twin is None:
        with_twins = ", ".join(cls.kind for cls in MODEL_CLASSES if cls.torch_twin)
        raise ValueError(f"model: no PyTorch twin for the model kind {model.kind!r} "
                         f"(there are twins for: {with_twins})")
    module_name, _, class_name = model.torch_twin.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def twin_of(model, dtype="float64", device="cpu"):
    """The PyTorch twin of the Value model `model` (models/torch_twins.py), holding a copy of
    its weights in `dtype` ("float32", "float64" or a torch dtype) on `device` ("cpu",
    "cuda", "cuda:N"; None: a GPU when there is one)."""
    dtype = dtype if isinstance(dtype, torch.dtype) else _dtype(dtype)
    twin = twin_class(model)(model.config, dtype=dtype)
    state = {name: in_dtype(torch.tensor(values, dtype=torch.float64), dtype,
                            f"weights[{name!r}]")
             for name, values in model.state_dict().items()}
    twin.load_state_dict(state, strict=True)
    return twin.to(_device(device))


def copy_weights_into(model, twin):
    """Copy the twin's weights into the Value model `model` (by name; a float32 weight
    becomes the Python float of exactly that value). Returns `model`."""
    model.load_state_dict({name: tensor.detach().to("cpu", torch.float64).tolist()
                           for name, tensor in twin.state_dict().items()})
    return model


def _device(device):
    """A torch.device from "cpu", "cuda", "cuda:1" (`engines.check_device`), a torch.device
    or None (a GPU when there is one)."""
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, torch.device):  # (the engine passes on the one it chose)
        device = torch.device(check_device(device))
    check_choice("device", device.type, ("cpu", "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was asked for, but PyTorch sees no GPU here "
                         "(torch.cuda.is_available() is False); use --device cpu")
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device: {str(device)!r} was asked for, but PyTorch sees "
                         f"{torch.cuda.device_count()} GPU(s) here, numbered from 0")
    return device


def _dtype(dtype):
    return DTYPES[check_choice("dtype", "float32" if dtype is None else dtype, tuple(DTYPES))]


# -------------------------------------------------------------------------------------
# Batches as tensors
# -------------------------------------------------------------------------------------
def _batch_tensors(documents, device):
    """(inputs, targets), both [B, T] for T = the longest document's predictions: inputs
    are doc[:-1] padded with token 0, targets doc[1:] padded with IGNORE."""
    length = max(len(doc) for doc in documents) - 1
    inputs = [doc[:-1] + [0] * (length - len(doc) + 1) for doc in documents]
    targets = [doc[1:] + [IGNORE] * (length - len(doc) + 1) for doc in documents]
    return (torch.tensor(inputs, dtype=torch.long, device=device),
            torch.tensor(targets, dtype=torch.long, device=device))


def _loss_sum(module, documents, device):
    """Σ of the next-token cross-entropies of every prediction in `documents` (a tensor)."""
    inputs, targets = _batch_tensors(documents, device)
    logits = module(inputs)                                      # [B, T, V]
    return TF.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                            ignore_index=IGNORE, reduction="sum")


# -------------------------------------------------------------------------------------
# The engine
# -------------------------------------------------------------------------------------
class TorchEngine:
    """Trains the PyTorch twin of `model` (see the module docstring); the Value model
    `model` gets the weights back on `sync_model()` (for checkpoints and pictures).

    config: the run's TrainConfig. device: "cpu", "cuda", "cuda:N" or None (a GPU when
    there is one). dtype: "float32" (default) or "float64". Under torchrun (WORLD_SIZE > 1
    in the environment) it joins the other processes and wraps the twin in
    DistributedDataParallel.
    """

    name = "torch"

    def __init__(self, model, config, device=None, dtype=None):
        if not model.trained_by_gradient:
            raise ValueError(f"engine: {type(model).__name__} is counted in one pass over the "
                             "data, not trained by gradient steps, so the torch engine has "
                             "nothing to do; leave out --engine torch")
        if getattr(config, "record_health", False):
            raise ValueError("record_health: the health statistics are measured on the Value "
                             "model's own nodes; record them with the Value engine (leave "
                             "out --engine torch, or --health)")
        self.model = model
        self.dtype = _dtype(dtype)
        processes = _environment_int("WORLD_SIZE", 1)  # torchrun says how many we are
        if config.batch_size < processes:
            raise ValueError(f"batch_size: {config.batch_size} document(s) per step cannot be "
                             f"shared by {processes} processes; use a batch size of at "
                             f"least {processes}, or fewer processes")
        self.rank, self.world_size, self.device, self._owns_group = _join_processes(
            _device(device), processes)
        self._description = _description(self.device, self.dtype, self.world_size)
        self.twin = twin_of(model, self.dtype, self.device)
        self.module = self.twin if self.world_size == 1 else DistributedDataParallel(
            self.twin, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        params = dict(self.twin.named_parameters())
        self.optimizer = TorchOptimizer(config, [(name, params[name])
                                                 for name, _ in model.named_tensors()])

    @property
    def is_main(self):
        """Whether this is the process that prints and saves (rank 0)."""
        return self.rank == 0

    def step(self, batch, lr, grad_clip=None):
        """One optimizer update on `batch` (this process's share of it): (loss, grad_norm)
        as floats, both of the whole batch."""
        predictions = sum(len(doc) - 1 for doc in batch)
        self.optimizer.zero_grad()
        share_sum = _loss_sum(self.module, batch[self.rank::self.world_size], self.device)
        # DDP averages over the processes: times world_size gives the whole batch's gradient
        (share_sum * (self.world_size / predictions)).backward()
        loss = self._sum_over_processes(share_sum.detach()).item() / predictions
        grad_norm = None
        if grad_clip:
            grad_norm = torch.nn.utils.clip_grad_norm_(self.twin.parameters(), grad_clip).item()
        self.optimizer.lr = lr
        self.optimizer.step()
        return loss, grad_norm

    @torch.no_grad()
    def evaluate(self, documents):
        """Mean next-token cross-entropy over all predictions in `documents`: each process
        takes its share, in chunks of EVAL_CHUNK documents, and the sums are added up."""
        if not documents:
            raise ValueError("documents: need at least one document to evaluate on")
        share = documents[self.rank::self.world_size]
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        for start in range(0, len(share), EVAL_CHUNK):
            total += _loss_sum(self.twin, share[start:start + EVAL_CHUNK], self.device).double()
        total = self._sum_over_processes(total)
        return total.item() / sum(len(doc) - 1 for doc in documents)

    def _sum_over_processes(self, tensor):
        if self.world_size > 1:
            dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def sync_model(self):
        """Copy the twin's weights into the Value model; returns the model."""
        return copy_weights_into(self.model, self.twin)

    def describe(self):
        """What runs where, e.g. "torch 2.13.0, cpu, float32, 2 processes (...)"."""
        return self._description

    def close(self):
        """Leave the process group, if this engine started it."""
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self._owns_group = False


def _description(device, dtype, world_size):
    where = f"torch {torch.__version__}, {device}, {str(dtype).replace('torch.', '')}"
    if world_size == 1:
        return where
    return f"{where}, {world_size} processes (DistributedDataParallel, {dist.get_backend()})"


def _join_processes(device, world_size):
    """(rank, world_size, device, started_the_group): under torchrun (WORLD_SIZE > 1) join
    the process group (gloo on CPUs, nccl on GPUs; each process on GPU LOCAL_RANK)."""
    if world_size == 1:
        return 0, 1, device, False
    if device.type == "cuda":
        device = torch.device("cuda", _environment_int("LOCAL_RANK", 0))
        torch.cuda.set_device(device)
    started = not dist.is_initialized()
    if started:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device, started


def _environment_int(name, default):
    text = os.environ.get(name)
    try:
        return default if text is None else int(text)
    except ValueError:
        raise ValueError(f"{name}: the environment variable must be a whole number (torchrun "
                         f"sets it), got {text!r}") from None
