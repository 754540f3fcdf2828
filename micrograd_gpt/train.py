"""Training a GPT on characters: the loop, its settings, progress, evaluation and sampling.

One training step, in order:

1. draw a mini-batch of documents (token lists) with the batch `random.Random`;
2. forward: the loss is the cross-entropy of every next-token prediction in the batch,
   averaged over the predicted tokens (a document of n tokens makes n - 1 predictions);
3. backward: `loss.backward()` fills every parameter's `.grad`;
4. clip the gradient's overall length, set the learning rate from the schedule, and let the
   optimizer move the weights.

Around it: a progress line (step, loss, tokens/s, ETA), a validation loss every
`eval_interval` steps, a checkpoint (see checkpoint.py) at the same times and at the end,
and the loss history, which travels inside the checkpoint.

Everything random comes from seeded `random.Random` objects, never the global one: the
model's initial weights (`Random(seed)`), the batches (`Random("batches:<seed>")`, whose
state is saved in every checkpoint), and sampling (the caller's rng). The same settings
and seed therefore give the same model to the last bit, and a run resumed from a checkpoint
continues exactly as if it had never stopped.

`train(TrainConfig(...))` is the Python entry point; `main_train` / `main_sample` are the
`micrograd-gpt train` / `micrograd-gpt sample` commands on top of it.
"""
from __future__ import annotations

import dataclasses
import gc
import hashlib
import math
import random
import statistics
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import functional as F
from .checkpoint import load_checkpoint, save_checkpoint
from .data import DATASETS, CharTokenizer, chunk_text, load_dataset, read_text_file, \
    split_lines, train_val_split
from .engine import no_grad
from .optim import SCHEDULES, clip_grad_norm, make_optimizer, make_schedule
from .presets import DEFAULT_PRESET, PRESETS

__all__ = [
    "TrainConfig", "TrainResult", "PreparedData", "train", "prepare_data", "train_step",
    "batch_loss", "evaluate", "sample", "cyclic_gc_paused", "ProgressLine",
]

OPTIMIZERS = ("sgd", "adam", "adamw")
# Settings a resumed run may change; everything else must match the checkpoint's run.
RESUMABLE_FIELDS = ("steps", "eval_interval", "eval_docs", "checkpoint_interval")


# -------------------------------------------------------------------------------------
# Settings
# -------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint).

    Start from a preset and change what you like:
    `TrainConfig.from_preset("microgpt", steps=200, seed=3)`.
    """

    model: dict = field(default_factory=lambda: dict(PRESETS[DEFAULT_PRESET]["model"]))
    """GPTConfig fields except vocab_size (which comes from the data)."""
    data: str = "names"            # "names", "text" (the sonnets) or a path to a UTF-8 file
    text_mode: bool | None = None  # True: cut a continuous text into max_seq_len pieces;
    #                                False: one document per line; None: True for "text" only
    val_fraction: float = 0.1      # share of the documents held out for validation
    steps: int = 500               # optimizer steps in the whole run
    batch_size: int = 8            # documents per step
    lr: float = 0.01               # peak learning rate
    lr_schedule: str = "linear"    # "constant", "linear" (decay to 0) or "cosine" (to 0)
    warmup_steps: int = 0          # linear warm-up steps (capped at steps - 1)
    optimizer: str = "adam"        # "sgd", "adam" or "adamw"
    betas: tuple = (0.9, 0.99)     # Adam's averaging factors for m and v
    eps: float = 1e-8              # Adam's guard against dividing by ~0
    weight_decay: float = 0.0      # L2 (sgd, adam) or decoupled (adamw) weight decay
    momentum: float = 0.0          # SGD only
    grad_clip: float | None = 1.0  # clip the gradient's length to this (None: never)
    eval_interval: int = 100       # validation loss (and checkpoint) every N steps; 0: at the end
    eval_docs: int = 200           # evaluate on at most this many documents (a fixed subset)
    checkpoint_interval: int | None = None  # None: same as eval_interval; 0: only at the end
    seed: int = 0                  # one number fixes the init, the split and the batches
    preset: str | None = None      # the preset this came from (for the record only)

    def __post_init__(self):
        if isinstance(self.betas, list):  # JSON gives back a list
            self.betas = tuple(self.betas)
        if not isinstance(self.model, dict):
            raise ValueError(f"model: must be a dict of GPTConfig fields, got {self.model!r}")
        if "vocab_size" in self.model:
            raise ValueError("model: leave out vocab_size; it comes from the data")
        if not isinstance(self.data, str) or not self.data:
            raise ValueError(f"data: must be 'names', 'text' or a file path, got {self.data!r}")
        _check_int("steps", self.steps, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("warmup_steps", self.warmup_steps, 0)
        _check_int("eval_interval", self.eval_interval, 0)
        _check_int("eval_docs", self.eval_docs, 1)
        _check_int("seed", self.seed, None)
        if self.checkpoint_interval is not None:
            _check_int("checkpoint_interval", self.checkpoint_interval, 0)
        _check_float("lr", self.lr, 0.0, open_low=True)
        _check_float("eps", self.eps, 0.0)
        _check_float("weight_decay", self.weight_decay, 0.0)
        _check_float("momentum", self.momentum, 0.0, 1.0)
        _check_float("val_fraction", self.val_fraction, 0.0, 1.0, open_low=True)
        if self.grad_clip is not None:
            _check_float("grad_clip", self.grad_clip, 0.0, open_low=True)
        if self.lr_schedule not in SCHEDULES:
            raise ValueError(f"lr_schedule: must be one of {', '.join(SCHEDULES)}, "
                             f"got {self.lr_schedule!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: must be one of {', '.join(OPTIMIZERS)}, "
                             f"got {self.optimizer!r}")
        if len(self.betas) != 2:
            raise ValueError(f"betas: must be a pair (beta1, beta2), got {self.betas!r}")
        for i, b in enumerate(self.betas):
            _check_float(f"betas[{i}]", b, 0.0, 1.0)
        if self.text_mode not in (None, True, False):
            raise ValueError(f"text_mode: must be None, True or False, got {self.text_mode!r}")

    @classmethod
    def from_preset(cls, name=DEFAULT_PRESET, model=None, **overrides):
        """The settings of preset `name` (see presets.py), with `overrides` applied; `model`
        (a dict) changes single model fields, e.g. `model={"d_model": 32}`."""
        if name not in PRESETS:
            raise ValueError(f"preset: unknown name {name!r} (choose from {', '.join(PRESETS)})")
        preset = PRESETS[name]
        settings = dict(preset["train"], preset=name, **overrides)
        return cls(model=dict(preset["model"], **(model or {})), **settings)

    @property
    def effective_checkpoint_interval(self):
        return self.eval_interval if self.checkpoint_interval is None else self.checkpoint_interval

    def uses_text_mode(self):
        """Whether the data is cut into pieces (True) or read one document per line."""
        return self.data == "text" if self.text_mode is None else self.text_mode


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        allowed = "an integer" if low is None else f"an integer >= {low}"
        raise ValueError(f"{name}: must be {allowed}, got {value!r}")


def _check_float(name, value, low, high=math.inf, open_low=False):
    bad = isinstance(value, bool) or not isinstance(value, (int, float))
    if not bad:
        bad = not (value > low if open_low else value >= low) or not value < high
    if bad:
        where = f"{'(' if open_low else '['}{low:g}, {high:g})"
        raise ValueError(f"{name}: must be a number in {where}, got {value!r}")


# -------------------------------------------------------------------------------------
# Data: text -> documents -> token lists, split into train and validation
# -------------------------------------------------------------------------------------
@dataclass
class PreparedData:
    """The token lists a run trains and validates on."""

    description: str        # what the data is, for the log
    tokenizer: CharTokenizer
    train: list             # [num_train][<= max_seq_len + 1] token ids
    val: list               # [num_val][...]
    text_mode: bool
    fingerprint: str        # sha256 of the text: a resumed run checks it is the same data
    num_documents: int
    num_cropped: int        # documents cut to max_seq_len + 1 tokens


def prepare_data(config):
    """Read `config.data`, cut it into documents, build the tokenizer, split (by
    `config.seed`) and encode. Documents longer than max_seq_len + 1 tokens are cropped:
    the model has only max_seq_len positions to predict from."""
    text, description = _read_data(config.data)
    max_seq_len = config.model.get("max_seq_len")
    _check_int("model['max_seq_len']", max_seq_len, 1)
    text_mode = config.uses_text_mode()
    documents = chunk_text(text, max_seq_len) if text_mode else split_lines(text)
    tokenizer = CharTokenizer.from_documents(documents)
    train_docs, val_docs = train_val_split(documents, config.val_fraction, config.seed)
    if text_mode:
        # a piece of a longer text: BOS in front, no closing BOS (the text goes on)
        encode = lambda doc: [tokenizer.bos] + tokenizer.encode(doc)  # noqa: E731
    else:
        encode = tokenizer.encode_document
    limit = max_seq_len + 1
    train_ids = [encode(doc) for doc in train_docs]
    val_ids = [encode(doc) for doc in val_docs]
    num_cropped = sum(len(ids) > limit for ids in train_ids + val_ids)
    return PreparedData(
        description=description, tokenizer=tokenizer,
        train=[ids[:limit] for ids in train_ids], val=[ids[:limit] for ids in val_ids],
        text_mode=text_mode, fingerprint=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        num_documents=len(documents), num_cropped=num_cropped)


def _read_data(data):
    if data in DATASETS:
        return load_dataset(data), f"{data} (embedded: {DATASETS[data][0]})"
    return read_text_file(data), str(data)


# -------------------------------------------------------------------------------------
# One step
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
    is the length before clipping, None when `grad_clip` is None)."""
    with cyclic_gc_paused():
        loss = batch_loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        loss_value = loss.data
        del loss  # drop the graph here: reference counting frees it while the GC is off
    grad_norm = clip_grad_norm(optimizer.params, grad_clip) if grad_clip else None
    optimizer.lr = lr
    optimizer.step()
    return loss_value, grad_norm


def evaluate(model, documents):
    """Mean next-token cross-entropy over all predictions in `documents`, without
    building a graph (no_grad). A model that guesses uniformly scores ln(vocab_size)."""
    if not documents:
        raise ValueError("documents: need at least one document to evaluate on")
    total, count = 0.0, 0
    with no_grad(), cyclic_gc_paused():
        for doc in documents:
            total += model.loss(doc, reduction="sum").data
            count += len(doc) - 1
    return total / count


# -------------------------------------------------------------------------------------
# Progress
# -------------------------------------------------------------------------------------
def _format_duration(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressLine:
    """A one-line progress report: step, loss, tokens per second, time left.

    On a terminal the line is redrawn in place (a carriage return `\\r` moves the cursor
    back to the start of the line), at most 10 times a second. Anywhere else (a log file,
    CI) a plain line is printed every `every` steps, so logs stay readable.
    """

    def __init__(self, total_steps, first_step=0, stream=None, every=None):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total_steps = total_steps
        self.first_step = first_step
        self.every = every or max(1, (total_steps - first_step) // 20)
        self.step_seconds = 0.0   # time spent inside training steps (not evaluation)
        self.tokens = 0
        self.smoothed_loss = None
        self._last_draw = 0.0
        self._line = ""

    def update(self, step, loss, num_tokens, seconds, lr):
        """Record a finished step and redraw (or print) the line."""
        self.step_seconds += seconds
        self.tokens += num_tokens
        # an exponential moving average: batch losses are noisy, the trend is what matters
        self.smoothed_loss = loss if self.smoothed_loss is None else (
            0.95 * self.smoothed_loss + 0.05 * loss)
        done = step - self.first_step
        per_step = self.step_seconds / done
        eta = per_step * (self.total_steps - step)
        self._line = (f"step {step:>{len(str(self.total_steps))}}/{self.total_steps} | "
                      f"loss {loss:.4f} (avg {self.smoothed_loss:.4f}) | lr {lr:.2e} | "
                      f"{self.tokens / self.step_seconds:,.0f} tok/s | "
                      f"{per_step * 1000:.0f} ms/step | ETA {_format_duration(eta)}")
        now = time.perf_counter()
        last = step == self.total_steps
        if self.tty:
            if last or now - self._last_draw >= 0.1:
                self._draw()
                self._last_draw = now
        elif last or done % self.every == 0:
            self.stream.write(self._line + "\n")
            self.stream.flush()

    def message(self, text):
        """Print `text` on a line of its own (the progress line is redrawn below it)."""
        if self.tty:
            self.stream.write("\r\033[K" + text + "\n")   # \033[K clears to the line's end
            if self._line:
                self._draw()
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self):
        if self.tty and self._line:
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self):
        self.stream.write("\r\033[K" + self._line)
        self.stream.flush()


class _Silent:
    """Stands in for ProgressLine when `quiet=True`."""

    step_seconds = 0.0

    def update(self, step, loss, num_tokens, seconds, lr):
        self.step_seconds += seconds

    def message(self, text):
        pass

    def close(self):
        pass


# -------------------------------------------------------------------------------------
# The loop
# -------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What `train` returns: the trained model and how the run went."""

    model: object
    tokenizer: CharTokenizer
    config: TrainConfig
    history: dict            # {"train": [[step, batch loss], ...], "val": [[step, loss], ...]}
    step: int                # steps taken in total (including before a resume)
    train_loss: float        # final loss on (up to eval_docs) training documents
    val_loss: float          # final loss on (up to eval_docs) validation documents
    seconds: float           # wall time of this call
    step_times: list         # seconds of each step run in this call
    checkpoint: Path | None  # where the final checkpoint was written
    text_mode: bool

    @property
    def ms_per_step(self):
        """Median time of one training step, in milliseconds."""
        return 1000 * statistics.median(self.step_times) if self.step_times else float("nan")


def train(config=None, *, out=None, resume=None, quiet=False, stream=None, stop_at_step=None):
    """Train a GPT as `config` (a TrainConfig; None = the default preset) says.

    out: checkpoint file written every `checkpoint_interval` steps and at the end (None:
        no checkpoints).
    resume: a checkpoint to continue from. The model, optimizer, batch rng and history
        come from it; `config` may be None (continue the saved run) or change only
        `steps`, `eval_interval`, `eval_docs`, `checkpoint_interval`.
    quiet: print nothing. stream: where progress goes (default sys.stderr).
    stop_at_step: end this call after that step (as an interruption would), checkpoint
        included; the learning-rate schedule still plans for `config.steps`.

    Returns a TrainResult.
    """
    started = time.perf_counter()
    stream = stream if stream is not None else sys.stderr
    checkpoint = load_checkpoint(resume) if resume is not None else None
    if checkpoint is not None:
        config = _resumed_config(checkpoint, config)
    elif config is None:
        config = TrainConfig.from_preset(DEFAULT_PRESET)
    if stop_at_step is not None:
        _check_int("stop_at_step", stop_at_step, 1)

    data = prepare_data(config)
    model, optimizer, step, history, batch_rng = _start_state(config, data, checkpoint)
    schedule = make_schedule(config.lr_schedule, config.lr, config.steps,
                             min(config.warmup_steps, config.steps - 1))
    last_step = config.steps if stop_at_step is None else min(stop_at_step, config.steps)
    train_eval = data.train[:config.eval_docs]
    val_eval = data.val[:config.eval_docs]

    progress = _Silent() if quiet else ProgressLine(last_step, step, stream)
    say = progress.message
    _describe_run(say, config, data, model, checkpoint)

    def save(at_step):
        if out is None:
            return
        save_checkpoint(out, model=model, tokenizer=data.tokenizer, step=at_step,
                        optimizer=optimizer, train_config=config,
                        rng_state=batch_rng.getstate(), history=history,
                        extra={"data_fingerprint": data.fingerprint})

    if step == 0 and config.eval_interval:
        history["val"].append([0, evaluate(model, val_eval)])
        say(f"step 0: val loss {history['val'][-1][1]:.4f} "
            f"(uniform guessing: ln {model.config.vocab_size} = "
            f"{math.log(model.config.vocab_size):.4f})")
    step_times = []
    checkpoint_interval = config.effective_checkpoint_interval
    try:
        while step < last_step:
            step += 1
            batch = [data.train[batch_rng.randrange(len(data.train))]
                     for _ in range(config.batch_size)]
            lr = schedule(step - 1)
            t0 = time.perf_counter()
            loss, _ = train_step(model, optimizer, batch, lr, config.grad_clip)
            step_times.append(time.perf_counter() - t0)
            history["train"].append([step, loss])
            progress.update(step, loss, sum(len(d) - 1 for d in batch), step_times[-1], lr)
            if config.eval_interval and step % config.eval_interval == 0 and step < last_step:
                history["val"].append([step, evaluate(model, val_eval)])
                say(f"step {step}: val loss {history['val'][-1][1]:.4f}")
            if checkpoint_interval and step % checkpoint_interval == 0 and step < last_step:
                save(step)
    finally:
        progress.close()

    train_loss, val_loss = evaluate(model, train_eval), evaluate(model, val_eval)
    if not history["val"] or history["val"][-1][0] != step:
        history["val"].append([step, val_loss])
    save(step)
    if not quiet:
        stream.write(f"done: {step} steps, train loss {train_loss:.4f}, val loss "
                     f"{val_loss:.4f}" + (f"; checkpoint {out}" if out is not None else "") + "\n")
        stream.flush()
    return TrainResult(
        model=model, tokenizer=data.tokenizer, config=config, history=history, step=step,
        train_loss=train_loss, val_loss=val_loss, seconds=time.perf_counter() - started,
        step_times=step_times, checkpoint=Path(out) if out is not None else None,
        text_mode=data.text_mode)


def _start_state(config, data, checkpoint):
    """(model, optimizer, step, history, batch rng): fresh from the seed, or as the
    checkpoint left them."""
    if checkpoint is not None:
        _check_same_data(checkpoint, data)
        model, step, history = checkpoint.model, checkpoint.step, checkpoint.history
        batch_rng = checkpoint.make_rng() or random.Random(f"batches:{config.seed}")
    else:
        from .gpt import GPT, GPTConfig  # imported here: the data tools need no model
        gpt_config = GPTConfig(vocab_size=data.tokenizer.vocab_size, **config.model)
        model = GPT(gpt_config, rng=random.Random(config.seed))
        step, history = 0, {"train": [], "val": []}
        batch_rng = random.Random(f"batches:{config.seed}")
    optimizer = make_optimizer(config.optimizer, model.parameters(), lr=config.lr,
                               betas=config.betas, eps=config.eps,
                               weight_decay=config.weight_decay, momentum=config.momentum)
    if checkpoint is not None:
        checkpoint.restore_optimizer(optimizer)
    return model, optimizer, step, history, batch_rng


def _describe_run(say, config, data, model, checkpoint):
    """The run's facts, printed once at the start (like makemore's data summary)."""
    tok = data.tokenizer
    cropped = f"; {data.num_cropped} cropped to {config.model['max_seq_len'] + 1} tokens" \
        if data.num_cropped else ""
    unit = f"pieces of {config.model['max_seq_len']} characters" if data.text_mode else "documents"
    say(f"data: {data.description}: {data.num_documents:,} {unit} "
        f"({len(data.train):,} train / {len(data.val):,} validation){cropped}; "
        f"vocabulary {tok.vocab_size} ({len(tok.chars)} characters + BOS)")
    say(f"model: {type(model).__name__}({model.extra_repr()})")
    warmup = min(config.warmup_steps, config.steps - 1)
    say(f"training: {config.steps} steps of {config.batch_size} document(s), "
        f"{config.optimizer} lr {config.lr:g} ({config.lr_schedule}"
        f"{f', warm-up {warmup}' if warmup else ''}), seed {config.seed}"
        + (f"; resuming at step {checkpoint.step}" if checkpoint is not None else ""))


def _resumed_config(checkpoint, config):
    if not checkpoint.train_config:
        raise ValueError(f"resume: {checkpoint.path} has no training settings to continue")
    try:
        saved = TrainConfig(**checkpoint.train_config)
    except (TypeError, ValueError) as e:
        raise ValueError(f"resume: {checkpoint.path} has unusable training settings: {e}") \
            from None
    if config is None:
        return saved
    changed = [f.name for f in dataclasses.fields(TrainConfig)
               if f.name not in RESUMABLE_FIELDS + ("preset",)
               and getattr(config, f.name) != getattr(saved, f.name)]
    if changed:
        raise ValueError(
            "resume: these settings differ from the checkpoint's run and cannot change "
            f"when resuming: {', '.join(changed)} (only {', '.join(RESUMABLE_FIELDS)} can)")
    return config


def _check_same_data(checkpoint, data):
    saved = checkpoint.extra.get("data_fingerprint")
    if saved is not None and saved != data.fingerprint:
        raise ValueError(f"resume: the training data has changed since {checkpoint.path} "
                         "was written, so the run cannot continue exactly")
    if checkpoint.tokenizer != data.tokenizer:
        raise ValueError(f"resume: the data's characters differ from the tokenizer in "
                         f"{checkpoint.path}")


# -------------------------------------------------------------------------------------
# Sampling
# -------------------------------------------------------------------------------------
def sample(model, tokenizer, num=10, *, rng=None, temperature=1.0, top_k=None, top_p=None,
           prompt="", max_new_tokens=None, stop_at_bos=True):
    """`num` texts generated by `model`, each starting from `[BOS] + encode(prompt)`.

    With `stop_at_bos` a text ends where the model emits BOS (the end of a document), so a
    names model returns whole names; `max_new_tokens` (default: max_seq_len) caps the
    length either way. The prompt is included at the start of every text. `rng` (a
    random.Random; None means Random(0)) makes the draws repeatable.
    """
    _check_int("num", num, 1)
    rng = rng if rng is not None else random.Random(0)
    context = [tokenizer.bos] + tokenizer.encode(prompt)
    if max_new_tokens is None:
        max_new_tokens = model.config.max_seq_len
    texts = []
    for _ in range(num):
        new = model.generate(context, max_new_tokens, temperature=temperature, top_k=top_k,
                             top_p=top_p, rng=rng,
                             stop_token=tokenizer.bos if stop_at_bos else None)
        texts.append(prompt + tokenizer.decode(new))
    return texts


# -------------------------------------------------------------------------------------
# Command line: `micrograd-gpt train` and `micrograd-gpt sample` (parsers are in cli.py)
# -------------------------------------------------------------------------------------
def _default_out(config):
    stem = config.data if config.data in DATASETS else Path(config.data).stem or "data"
    return Path("out") / f"{stem}_{config.preset or 'custom'}.json"


def _config_from_args(args):
    """A TrainConfig from the parsed `train` options (preset first, then the options)."""
    overrides = {}
    for option, name in (("steps", "steps"), ("batch_size", "batch_size"), ("lr", "lr"),
                         ("eval_interval", "eval_interval"), ("eval_docs", "eval_docs"),
                         ("seed", "seed"),
                         ("data", "data")):
        value = getattr(args, option)
        if value is not None:
            overrides[name] = value
    if args.text:
        overrides["text_mode"] = True
    return TrainConfig.from_preset(args.preset or DEFAULT_PRESET, **overrides)


def _resume_config_from_args(args):
    """For `--resume`: only options that a resumed run may change are allowed."""
    fixed = [f"--{o.replace('_', '-')}" for o in ("preset", "data", "batch_size", "lr", "seed")
             if getattr(args, o) is not None] + (["--text"] if args.text else [])
    if fixed:
        raise ValueError(f"{', '.join(fixed)} cannot be given with --resume: the run "
                         "continues with the checkpoint's settings (only --steps, "
                         "--eval-interval and --eval-docs may change)")
    checkpoint = load_checkpoint(args.resume)
    config = _resumed_config(checkpoint, None)
    changes = {name: getattr(args, name) for name in ("steps", "eval_interval", "eval_docs")
               if getattr(args, name) is not None}
    return dataclasses.replace(config, **changes)


def main_train(args):
    """`micrograd-gpt train`: train, print the final losses and a few samples."""
    try:
        if args.resume is not None:
            config = _resume_config_from_args(args)
            out = Path(args.out) if args.out else Path(args.resume)
        else:
            config = _config_from_args(args)
            out = Path(args.out) if args.out else _default_out(config)
        result = train(config, out=out, resume=args.resume, quiet=args.quiet)
    except ValueError as e:  # bad settings, data or checkpoint: one clear line, exit 2
        return _usage_error("train", e)
    print(f"final: train loss {result.train_loss:.4f} | val loss {result.val_loss:.4f} | "
          f"{result.step} steps in {result.seconds:.1f} s "
          f"({result.ms_per_step:.1f} ms/step median)")
    print(f"checkpoint: {result.checkpoint}")
    if args.samples:
        print(f"samples (temperature {args.temperature:g}):")
        texts = sample(result.model, result.tokenizer, args.samples,
                       rng=random.Random(result.config.seed), temperature=args.temperature,
                       max_new_tokens=None if not result.text_mode else 4 *
                       result.model.config.max_seq_len, stop_at_bos=not result.text_mode)
        for text in texts:
            print(f"  {text}" if not result.text_mode else text + "\n---")
    print(f"next: micrograd-gpt sample --checkpoint {result.checkpoint} | "
          f"micrograd-gpt plot --checkpoint {result.checkpoint}")
    return 0


def main_sample(args):
    """`micrograd-gpt sample`: load a checkpoint and print generated texts."""
    try:
        checkpoint = load_checkpoint(args.checkpoint)
        text_mode = _saved_text_mode(checkpoint)
        max_new = args.max_new_tokens or (4 * checkpoint.model.config.max_seq_len
                                          if text_mode else None)
        texts = sample(checkpoint.model, checkpoint.tokenizer, args.num,
                       rng=random.Random(args.seed), temperature=args.temperature,
                       top_k=args.top_k, top_p=args.top_p, prompt=args.prompt,
                       max_new_tokens=max_new, stop_at_bos=not text_mode)
    except ValueError as e:
        return _usage_error("sample", e)
    for text in texts:
        print(text if not text_mode else text + "\n---")
    return 0


def _saved_text_mode(checkpoint):
    """Whether the checkpoint's run trained on pieces of a continuous text."""
    try:
        return TrainConfig(**checkpoint.train_config).uses_text_mode()
    except (TypeError, ValueError):  # no (usable) training settings: a model of documents
        return False


def _usage_error(command, error):
    print(f"micrograd-gpt {command}: error: {error}", file=sys.stderr)
    return 2
