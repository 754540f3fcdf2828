"""The torch engine: the same training step on tensors, with torch.optim, on a CPU or a GPU,
in one process or several (torchrun + DistributedDataParallel).

What stays the Value engine's (train.py does it for both): the data and its tokenizer, the
batches (the same seeded `random.Random`), the learning-rate schedule, the evaluation
documents, the progress line, the checkpoints and the samples. What changes is who does
the arithmetic of a step:

1. the batch becomes two tensors [B, T]: the inputs (each document but its last token) and
   the targets (each document but its first), short documents padded at the end with a
   target that `cross_entropy` ignores (`ignore_index`), so a pad changes nothing;
2. the model's PyTorch twin (torch_models.py: the same computation, all positions at once)
   gives the logits [B, T, V], and the loss is the sum of the cross-entropies divided by the
   number of predictions in the batch, exactly the Value engine's `batch_loss`;
3. `loss.backward()`, `torch.nn.utils.clip_grad_norm_` (the same formula as
   optim.clip_grad_norm) and `torch.optim.SGD/Adam/AdamW` (the same formulas as optim.py).

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
the optimizer state is saved in optim.py's format (one number per parameter, in the Value
model's order), so a checkpoint does not depend on the engine that wrote it.
"""
from __future__ import annotations

import inspect
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

from ..common.checks import check_choice, check_int, check_rng
from .optim import SGD, Adam, AdamW, check_optimizer_state
from ..models.sampling import check_sampling, sample_token
from ..models.torch_twins import TORCH_MODELS

__all__ = ["TorchEngine", "TorchSampler", "TorchOptimizer", "twin_of", "copy_weights_into",
           "DTYPES"]

DTYPES = {"float32": torch.float32, "float64": torch.float64}
IGNORE = -100           # the target of a padded position: cross_entropy skips it
EVAL_CHUNK = 64         # documents per forward when evaluating (bounds the memory)


# -------------------------------------------------------------------------------------
# Weights: Value model <-> twin
# -------------------------------------------------------------------------------------
def twin_of(model, dtype=torch.float64, device="cpu"):
    """The PyTorch twin of the Value model `model` (torch_models.py), holding a copy of its
    weights in `dtype` on `device`."""
    twin_class = TORCH_MODELS.get(model.kind)
    if twin_class is None:
        raise ValueError(f"model: no PyTorch twin for the model kind {model.kind!r} "
                         f"(there are twins for: {', '.join(TORCH_MODELS)})")
    twin = twin_class(model.config, dtype=dtype)
    state = {name: torch.tensor(values, dtype=torch.float64)
             for name, values in model.state_dict().items()}
    twin.load_state_dict(state, strict=True)  # copies, rounding to `dtype`
    return twin.to(device)


def copy_weights_into(model, twin):
    """Copy the twin's weights into the Value model `model` (by name; a float32 weight
    becomes the Python float of exactly that value). Returns `model`."""
    model.load_state_dict({name: tensor.detach().to("cpu", torch.float64).tolist()
                           for name, tensor in twin.state_dict().items()})
    return model


def _device(device):
    """A torch.device from "cpu", "cuda", "cuda:1" or None (a GPU when there is one)."""
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {device!r}") from None
    check_choice("device", device.type, ("cpu", "cuda"))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' was asked for, but PyTorch sees no GPU here "
                         "(torch.cuda.is_available() is False); use --device cpu")
    return device


def _dtype(dtype):
    return DTYPES[check_choice("dtype", "float32" if dtype is None else dtype, tuple(DTYPES))]


# -------------------------------------------------------------------------------------
# The optimizer, saved in optim.py's format
# -------------------------------------------------------------------------------------
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
        columns = {name: torch.tensor(buffers[name], dtype=torch.float64)
                   for name in self.kind._buffers}
        start = 0
        for p in self.params:
            state = {_BUFFERS[name]: flat[start:start + p.numel()].reshape(p.shape).to(p)
                     for name, flat in columns.items()}
            if self.kind is not SGD:
                state["step"] = torch.tensor(float(self.steps))
            self.torch_optimizer.state[p] = state
            start += p.numel()


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

    def sampler(self):
        """Generation with the twin as it is now (TorchSampler)."""
        return TorchSampler(self.model, twin=self.twin)

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


# -------------------------------------------------------------------------------------
# Generation
# -------------------------------------------------------------------------------------
class TorchSampler:
    """Generates from a Value model's PyTorch twin: `generate` takes the arguments of
    `LanguageModel.generate` and makes the same draws from the same `rng`, since each
    next token comes from `sampling.sample_token` on the last position's logits of (at most
    `max_context` of) the sequence so far. Much faster than the Value model's float copy
    for a big model. `twin`: an existing twin to use (default: a new one of `model`).
    """

    def __init__(self, model, device=None, dtype=None, twin=None):
        self.model = model
        self.max_context = model.max_context
        self.twin = twin if twin is not None else twin_of(model, _dtype(dtype), _device(device))
        self.device = next(self.twin.parameters()).device

    @torch.no_grad()
    def generate(self, prompt, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                 rng=None, stop_token=None):
        """Up to `max_new_tokens` sampled tokens after `prompt`; only the new ones are
        returned, ending early right after `stop_token` (LanguageModel.generate's rules)."""
        self.model.check_tokens(prompt, "prompt")
        check_int("max_new_tokens", max_new_tokens, 0)
        check_sampling(temperature, top_k, top_p)
        check_int("stop_token", stop_token, 0, self.model.vocab_size - 1, none_ok=True)
        rng = check_rng("rng", rng)
        sequence, new_tokens = list(prompt), []
        while len(new_tokens) < max_new_tokens:
            token = sample_token(self._next_logits(sequence), temperature, top_k, top_p, rng)
            new_tokens.append(token)
            sequence.append(token)
            if token == stop_token:
                break
        return new_tokens

    def _next_logits(self, sequence):
        """Plain-float logits [V] after the last token, seeing at most max_context tokens
        (what the Value model's cache does when generate() crops the context)."""
        context = sequence if self.max_context is None else sequence[-self.max_context:]
        tokens = torch.tensor(context, dtype=torch.long, device=self.device)
        return self.twin(tokens)[-1].to("cpu", torch.float64).tolist()
