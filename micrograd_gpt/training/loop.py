"""Training a language model on characters: the settings, one step, the loop, sampling.

One training step, in order:

1. draw a mini-batch of documents (token lists) with the batch `random.Random`;
2. forward: the loss is the cross-entropy of every next-token prediction in the batch,
   averaged over the predicted tokens (a document of n tokens makes n - 1 predictions);
3. backward: `loss.backward()` fills every parameter's `.grad`;
4. clip the gradient's overall length, set the learning rate from the schedule, and let the
   optimizer move the weights.

Around it: a progress line (progress.py), a validation loss every `eval_interval` steps, a
checkpoint (checkpoint.py) at the same times and at the end, and the loss history, which
travels inside the checkpoint. The arithmetic of steps 2 to 4 and of the evaluation is an
*engine*'s (engines.py): the model's own Values (the default), or its PyTorch twin with
torch.optim (`engine="torch"`, on a CPU or a GPU, in several processes under torchrun).
All the rest is written once, here, for both.

Everything random comes from seeded `random.Random` objects, never the global one: the
model's initial weights (`Random(seed)`), the batches (`Random("batches:<seed>")`, whose
state is saved in every checkpoint), and sampling (the caller's rng). The same settings
and seed therefore give the same model to the last bit, and a run resumed from a checkpoint
continues exactly as if it had never stopped.

Resuming (`train(resume=checkpoint)`), the rule:

* to the planned total (the `steps` the run was started with; the default): the run
  continues bit for bit as if it had never stopped, learning-rate schedule included;
* to another total (`steps` above the planned one extends the run, below it shortens it):
  the learning-rate schedule is re-planned for the new total and the remaining steps
  follow it, so the rate jumps to where a run of the new length would be at this step
  (say from 2e-05 at the end of a 30-step linear decay to 5e-03, half-way down a 60-step
  one). A line says so, with both rates. The result is not what a run planned for the new
  total from the start would give: its first steps had the old schedule's rates;
* to the step the checkpoint holds: nothing is trained (a line says so); to fewer steps
  than that: refused.

Ctrl-C: the step in progress is finished (an optimizer step cut in half could not be
resumed exactly), a checkpoint is written, and `TrainingInterrupted` says which step it
holds; a second Ctrl-C stops at once, keeping the last checkpoint written.

`train(TrainConfig(...))` is the entry point; the `micrograd-gpt train` and `sample`
commands (cli/) are thin layers on top of it.
"""
from __future__ import annotations

import dataclasses
import html
import math
import random
import signal
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .checkpoint import load_checkpoint, save_checkpoint
from ..common.checks import (check_bool, check_choice, check_instance, check_int, check_number,
                     check_rng, check_str)
from .data import DATASETS, CharTokenizer, bigram_loss, prepare_documents
from ..autograd.modes import record_scopes
from ..common.files import check_output_path
# the Value engine's step lives with the engines; train_step & co. stay importable from here
from .engines import (DEFAULT_ENGINE, batch_loss, check_engine_fits, cyclic_gc_paused,
                      evaluate, make_engine, train_step)
from .health import measure_step
from .history import History, format_history, history_html
from ..models.language_model import LanguageModel
from ..models.registry import DEFAULT_KIND, MODELS, build_model
from .optim import OPTIMIZERS, SCHEDULES, make_schedule
from .presets import (DEFAULT_PRESET, DEFAULT_PRESETS, PRESETS, needs_torch, preset_kind,
                      presets_of)
from .progress import ProgressLine, SilentProgress

__all__ = [
    "TrainConfig", "TrainResult", "train", "prepare_data", "train_step", "batch_loss",
    "evaluate", "sample", "cyclic_gc_paused", "training_step_graph", "RESUMABLE_FIELDS",
    "resumed_config", "saved_text_mode", "default_text_length", "sequence_length",
    "TrainingInterrupted", "schedule_change", "reference_losses", "saved_reference_losses",
]

# Settings a resumed run may change; everything else must match the checkpoint's run.
RESUMABLE_FIELDS = ("steps", "eval_interval", "eval_docs", "checkpoint_interval",
                    "record_health")


# -------------------------------------------------------------------------------------
# Settings
# -------------------------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint).

    Start from a preset and change what you like:
    `TrainConfig.from_preset("microgpt", steps=200, seed=3)`.
    """

    model: dict | None = None
    """The model's config fields except vocab_size (which comes from the data); None: those
    of the kind's default preset (presets.DEFAULT_PRESETS)."""
    model_kind: str = DEFAULT_KIND  # which model (models.py): "gpt", "rnn", "mlp", ...
    data: str = "names"            # "names", "text" (the sonnets) or a path to a UTF-8 file
    text_mode: bool | None = None  # True: cut a continuous text into max_seq_len pieces;
    #                                False: one document per line; None: True for "text" only
    seq_len: int | None = None     # tokens a document may have (longer ones are cropped) and
    #                                the length of text pieces; None: the model's max_seq_len,
    #                                or 16 for a model with no context limit (bigram, mlp, rnn)
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
    record_health: bool = False    # activation and gradient statistics (health.py) at the
    #                                first step, every eval_interval steps and the last one
    preset: str | None = None      # the preset this came from (for the record only)

    def __post_init__(self):
        if isinstance(self.betas, list):  # JSON gives back a list
            self.betas = tuple(self.betas)
        check_choice("model_kind", self.model_kind, tuple(MODELS))
        if self.model is None:
            self.model = dict(PRESETS[DEFAULT_PRESETS[self.model_kind]]["model"])
        if not isinstance(self.model, dict):
            raise ValueError(f"model: must be a dict of model config fields, got {self.model!r}")
        if "vocab_size" in self.model:
            raise ValueError("model: leave out vocab_size; it comes from the data")
        if not isinstance(self.data, str) or not self.data:
            raise ValueError(f"data: must be 'names', 'text' or a file path, got {self.data!r}")
        for name, low in (("steps", 1), ("batch_size", 1), ("warmup_steps", 0),
                          ("eval_interval", 0), ("eval_docs", 1), ("seed", None)):
            check_int(name, getattr(self, name), low)
        check_int("checkpoint_interval", self.checkpoint_interval, 0, none_ok=True)
        check_int("seq_len", self.seq_len, 1, none_ok=True)
        if not MODELS[self.model_kind].trained_by_gradient and self.steps != 1:
            raise ValueError(
                f"steps: model_kind {self.model_kind!r} is fit in one pass over the data "
                f"(counted, not trained by gradient), so steps must be 1, got {self.steps}")
        check_number("lr", self.lr, 0, low_open=True)
        check_number("eps", self.eps, 0, low_open=True)
        check_number("weight_decay", self.weight_decay, 0)
        check_number("momentum", self.momentum, 0, 1, high_open=True)
        check_number("val_fraction", self.val_fraction, 0, 1, low_open=True, high_open=True)
        check_number("grad_clip", self.grad_clip, 0, low_open=True, none_ok=True)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if not isinstance(self.betas, tuple) or len(self.betas) != 2:
            raise ValueError(f"betas: must be a pair (beta1, beta2), got {self.betas!r}")
        for i, b in enumerate(self.betas):
            check_number(f"betas[{i}]", b, 0, 1, high_open=True)
        if self.text_mode is not None:
            check_bool("text_mode", self.text_mode)
        check_bool("record_health", self.record_health)

    @classmethod
    def from_preset(cls, name=DEFAULT_PRESET, model=None, **overrides):
        """The settings of preset `name` (see presets.py), with `overrides` applied; `model`
        (a dict) changes single model fields, e.g. `model={"d_model": 32}`."""
        kind = preset_kind(name)
        asked = overrides.pop("model_kind", kind)
        if asked != kind:
            raise ValueError(f"preset: {name!r} is a preset for model {kind!r}, not {asked!r}; "
                             f"presets for {asked!r}: {', '.join(presets_of(asked)) or 'none'}")
        preset = PRESETS[name]
        settings = dict(preset["train"], preset=name, model_kind=kind, **overrides)
        return cls(model=dict(preset["model"], **(model or {})), **settings)

    @property
    def effective_checkpoint_interval(self):
        return self.eval_interval if self.checkpoint_interval is None else self.checkpoint_interval

    def uses_text_mode(self):
        """Whether the data is cut into pieces (True) or read one document per line."""
        return self.data == "text" if self.text_mode is None else self.text_mode


DEFAULT_SEQ_LEN = 16  # seq_len of a model with no context limit, when not given


def prepare_data(config):
    """The documents of the run `config` describes, read, split (by its seed) and encoded:
    a `data.PreparedData`."""
    return prepare_documents(config.data, sequence_length(config),
                             text_mode=config.uses_text_mode(),
                             val_fraction=config.val_fraction, seed=config.seed)


def sequence_length(config):
    """How many tokens a model reads per document in the run `config` describes (see
    TrainConfig.seq_len): never more than a GPT's max_seq_len."""
    limit = config.model.get("max_seq_len")  # a GPT's context; other kinds have none
    if limit is not None:
        check_int("model['max_seq_len']", limit, 1)
        if config.seq_len is not None and config.seq_len > limit:
            raise ValueError(f"seq_len: {config.seq_len} is longer than the model's "
                             f"max_seq_len={limit}; give at most {limit}")
    return config.seq_len or limit or DEFAULT_SEQ_LEN


def reference_losses(config, data=None):
    """What the validation loss of the run `config` means: {"uniform": ln |V|, the loss of
    guessing every token alike (where a fresh model starts), "bigram": the loss of counting
    which token follows which in the training documents (see `data.bigram_loss`)}, both
    on the documents the run validates on (its first `eval_docs`). `data`: the run's
    prepared data, if at hand (else it is read again)."""
    data = data if data is not None else prepare_data(config)
    vocab_size = data.tokenizer.vocab_size
    return {"uniform": math.log(vocab_size),
            "bigram": bigram_loss(data.train, data.val[:config.eval_docs], vocab_size)}


def saved_reference_losses(checkpoint):
    """`reference_losses` of the run saved in `checkpoint`, from its settings and its data
    read again; a ValueError when that data is gone or has changed since."""
    if not checkpoint.train_config:
        raise ValueError(f"{checkpoint.path} has no training settings to find its data")
    try:
        config = TrainConfig(**checkpoint.train_config)
    except TypeError as e:
        raise ValueError(f"{checkpoint.path} has unusable training settings: {e}") from None
    data = prepare_data(config)
    if checkpoint.extra.get("data_fingerprint", data.fingerprint) != data.fingerprint:
        raise ValueError(f"the data {config.data!r} has changed since {checkpoint.path} "
                         "was trained on it")
    return reference_losses(config, data)


# -------------------------------------------------------------------------------------
# One step
# -------------------------------------------------------------------------------------
def training_step_graph(preset=DEFAULT_PRESET, batch_size=None, seed=0, checkpoint=None):
    """The graph of one training step of a preset's model, for pictures: (loss, model, batch).

    The batch is the first `batch_size` (default: the preset's) training documents of the
    names data, so the picture is the same every time; the loss is `batch_loss`, exactly
    what `train` back-propagates, and `backward()` has run. With `checkpoint` (a file
    written by `train`, with either engine) the model is the checkpoint's, trained weights
    and all, and the batch comes from the data it was trained on. The graph is built
    inside `modes.record_scopes()`, so every node knows its module (for `collapse=True`).
    """
    saved = load_checkpoint(checkpoint) if checkpoint is not None else None
    if saved is not None:
        config = resumed_config(saved)
    else:
        config = TrainConfig.from_preset(preset, data="names", seed=seed)
    if config.preset in PRESETS and needs_torch(config.preset):
        raise ValueError(f"preset {config.preset!r} is a model for the torch engine: one "
                         "training step would make hundreds of millions of Value nodes, "
                         "too many to build and draw; draw a smaller preset")
    batch_size = check_int("batch_size", batch_size, 1, none_ok=True) or config.batch_size
    data = prepare_data(config)
    model = saved.model if saved is not None else _new_model(config, data)
    batch = data.train[:batch_size]
    with record_scopes():  # every node tagged with its module, for the pictures
        loss = batch_loss(model, batch)
    loss.backward()
    return loss, model, batch


# -------------------------------------------------------------------------------------
# The loop
# -------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What `train` returns: the trained model and how the run went."""

    model: object
    tokenizer: object        # the data's CharTokenizer
    config: TrainConfig
    history: dict            # {"train": [[step, batch loss], ...], "val": [[step, loss], ...]}
    step: int                # steps taken in total (including before a resume)
    train_loss: float        # final loss on (up to eval_docs) training documents
    val_loss: float          # final loss on (up to eval_docs) validation documents
    seconds: float           # wall time of this call
    step_times: list         # seconds of each step run in this call
    checkpoint: Path | None  # where the final checkpoint was written
    text_mode: bool
    engine: object = None    # the engine that trained it (engines.py): sample with its sampler()

    @property
    def ms_per_step(self):
        """Median time of one training step, in milliseconds."""
        return 1000 * statistics.median(self.step_times) if self.step_times else float("nan")

    def summary(self):
        """One line: steps, final losses, speed, checkpoint."""
        where = f", checkpoint {self.checkpoint}" if self.checkpoint else ""
        return (f"TrainResult: {self.step:,} steps, train loss {self.train_loss:.4f}, val loss "
                f"{self.val_loss:.4f}, {self.ms_per_step:.0f} ms/step{where}")

    def __repr__(self):  # the summary and the loss table, not a dump of every weight
        return f"{self.summary()}\n{format_history(self.history)}"

    def _repr_html_(self):  # what a notebook shows
        return f"<p>{html.escape(self.summary())}</p>{history_html(self.history)}"


@dataclass
class _Run:
    """The state of a run in progress: everything a checkpoint saves, and the data."""

    config: TrainConfig
    data: object             # data.PreparedData
    engine: object           # engines.py: the model, its optimizer, and the arithmetic
    step: int
    history: dict
    batch_rng: random.Random
    out: Path | None
    note: str | None = None       # what resuming changed (see schedule_change)
    in_step: bool = False         # inside a step: the state is not one a checkpoint can hold
    saved_step: int | None = None  # the step of the last checkpoint written

    def save(self):
        """Write a checkpoint of the run as it is now (nothing when there is no `out`, and
        only in the first of several processes)."""
        if self.out is None or not self.engine.is_main:
            return
        save_checkpoint(self.out, model=self.engine.sync_model(), tokenizer=self.data.tokenizer,
                        step=self.step, optimizer=self.engine.optimizer,
                        train_config=self.config, rng_state=self.batch_rng.getstate(),
                        history=self.history, extra={"data_fingerprint": self.data.fingerprint,
                                                     "engine": self.engine.describe()})
        self.saved_step = self.step

    def next_batch(self):
        train_docs = self.data.train
        return [train_docs[self.batch_rng.randrange(len(train_docs))]
                for _ in range(self.config.batch_size)]


def train(config=None, *, out=None, resume=None, quiet=False, stream=None, stop_at_step=None,
          engine=DEFAULT_ENGINE, device=None, dtype=None):
    """Train a model as `config` (a TrainConfig; None = the default preset) says.

    out: checkpoint file written every `checkpoint_interval` steps and at the end (None:
        no checkpoints).
    resume: a checkpoint to continue from. The model, optimizer, batch rng and history
        come from it; `config` may be None (continue the saved run) or change only
        `steps`, `eval_interval`, `eval_docs`, `checkpoint_interval`.
    quiet: print nothing. stream: where progress goes (default sys.stderr).
    stop_at_step: end this call after that step (as an interruption would), checkpoint
        included; the learning-rate schedule still plans for `config.steps`.
    engine: "values" (the default) or "torch" (engines.py), with the torch engine's
        `device` ("cpu", "cuda"; None: a GPU if there is one) and `dtype` ("float32",
        the default, or "float64"). Under `torchrun` the torch engine trains in every
        process (DistributedDataParallel); only the first prints and saves.

    Returns a TrainResult.
    """
    started = time.perf_counter()
    check_instance("config", config, (TrainConfig, type(None)),
                   "a TrainConfig (e.g. TrainConfig.from_preset('tiny')) or None")
    check_bool("quiet", quiet)
    stream = stream if stream is not None else sys.stderr
    run = _start(config, resume, out, dict(name=engine, device=device, dtype=dtype))
    quiet = quiet or not run.engine.is_main
    last_step = run.config.steps
    if stop_at_step is not None:
        last_step = min(check_int("stop_at_step", stop_at_step, 1), last_step)
    progress = SilentProgress() if quiet else ProgressLine(last_step, run.step, stream)
    _describe_run(progress.message, run, resume is not None)
    if run.note:
        progress.message(run.note)
    try:
        try:
            with _finish_the_step_on_ctrl_c() as stop:
                step_times = _loop(run, last_step, progress, stop)
        except KeyboardInterrupt:
            raise _interrupted(run) from None
        finally:
            progress.close()
        return _finish(run, step_times, started, None if quiet else stream)
    finally:
        run.engine.close()


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped by Ctrl-C. `step` is the step the checkpoint `checkpoint` holds
    (None, None when no checkpoint was written), `planned` the run's planned total: resuming
    from the checkpoint continues the run exactly. A KeyboardInterrupt, so code that stops
    on Ctrl-C still does."""

    def __init__(self, step, checkpoint, planned):
        self.step, self.checkpoint, self.planned = step, checkpoint, planned
        if checkpoint is None:
            text = "training interrupted; no checkpoint was written"
        else:
            text = (f"training interrupted: the checkpoint {checkpoint} holds step {step} of "
                    f"{planned}")
        super().__init__(text)


def _interrupted(run):
    """Save the run if its state is whole (between steps), and say what was kept."""
    if not run.in_step:
        try:
            run.save()
        except (OSError, ValueError):
            pass  # the last checkpoint written stays, and is reported
    saved = run.saved_step
    return TrainingInterrupted(saved, run.out if saved is not None else None,
                               run.config.steps)


class _StopRequest:
    requested = False


@contextmanager
def _finish_the_step_on_ctrl_c():
    """While training: the first Ctrl-C asks the loop to stop after the step in progress
    (`stop.requested`); a second one interrupts at once. Only where Python's own Ctrl-C
    handler is in place, in the main thread (elsewhere Ctrl-C works as usual)."""
    stop = _StopRequest()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield stop
        return

    def ask_to_stop(signum, frame):
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True
        sys.stderr.write("\nCtrl-C: stopping after this step (press again to stop at once)\n")

    signal.signal(signal.SIGINT, ask_to_stop)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _start(config, resume, out, engine_options):
    """A `_Run` at step 0 from `config`, or where the checkpoint `resume` left it."""
    checkpoint = load_checkpoint(resume) if resume is not None else None
    if checkpoint is not None:
        config = resumed_config(checkpoint, config)
        _check_steps_left(checkpoint, config)
    elif config is None:
        config = TrainConfig.from_preset(DEFAULT_PRESET)
    if out is not None:  # before the data is read and a single step is taken
        check_output_path(out, "out", inputs=[] if config.data in DATASETS else [config.data])
    data = prepare_data(config)
    check_engine_fits(engine_options["name"], config, data.tokenizer.vocab_size)
    if checkpoint is not None:
        _check_same_data(checkpoint, data)
        model, step, history = checkpoint.model, checkpoint.step, checkpoint.history
        batch_rng = checkpoint.make_rng() or random.Random(f"batches:{config.seed}")
    else:
        model, step, history = _new_model(config, data), 0, {"train": [], "val": []}
        batch_rng = random.Random(f"batches:{config.seed}")
    engine = make_engine(engine_options["name"], model, config,
                         device=engine_options["device"], dtype=engine_options["dtype"])
    if checkpoint is not None:
        checkpoint.restore_optimizer(engine.optimizer)
    return _Run(config, data, engine, step, history, batch_rng,
                Path(out) if out is not None else None,
                note=schedule_change(checkpoint, config) if checkpoint is not None else None)


def _new_model(config, data):
    """A fresh model for `config`, its weights drawn with Random(seed)."""
    fields = dict(config.model, vocab_size=data.tokenizer.vocab_size)
    return build_model(config.model_kind, fields, rng=random.Random(config.seed))


def _schedule(config):
    """The learning-rate schedule of the run `config` describes: step index -> rate."""
    return make_schedule(config.lr_schedule, config.lr, config.steps,
                         min(config.warmup_steps, config.steps - 1))


def _loop(run, last_step, progress, stop=None):
    """Train from `run.step` to `last_step`, evaluating and saving on schedule; a request
    to `stop` ends it between two steps (as a KeyboardInterrupt). Returns the seconds of
    each step taken."""
    config = run.config
    stop = stop or _StopRequest()
    schedule = _schedule(config)
    val_docs = run.data.val[:config.eval_docs]
    if run.step == 0 and config.eval_interval:
        run.history["val"].append([0, run.engine.evaluate(val_docs)])
        vocab = run.data.tokenizer.vocab_size
        progress.message(f"step 0: val loss {run.history['val'][-1][1]:.4f} (uniform "
                         f"guessing: ln {vocab} = {math.log(vocab):.4f})")
    if not run.engine.model.trained_by_gradient:
        return _fit_in_one_pass(run, last_step, progress)
    step_times = []
    while run.step < last_step:
        if stop.requested:
            raise KeyboardInterrupt
        run.in_step = True  # from here until the loss is recorded, a checkpoint must wait
        run.step += 1
        batch = run.next_batch()
        lr = schedule(run.step - 1)
        t0 = time.perf_counter()
        loss = _step(run, batch, lr, _health_due(config, run.step))
        step_times.append(time.perf_counter() - t0)
        run.history["train"].append([run.step, loss])
        run.in_step = False
        progress.update(run.step, loss, sum(len(d) - 1 for d in batch), step_times[-1], lr)
        if run.step < last_step and _every(config.eval_interval, run.step):
            run.history["val"].append([run.step, run.engine.evaluate(val_docs)])
            progress.message(f"step {run.step}: val loss {run.history['val'][-1][1]:.4f}")
        if run.step < last_step and _every(config.effective_checkpoint_interval, run.step):
            run.save()
    return step_times


def _fit_in_one_pass(run, last_step, progress):
    """A model fit without gradients (the counting bigram): `fit` on all the training
    documents is the run's one step. Returns its seconds (none if it was done before)."""
    if run.step >= last_step:
        return []
    started = time.perf_counter()
    run.engine.model.fit(run.data.train)
    seconds = time.perf_counter() - started
    run.step = 1
    run.history["train"].append([1, run.engine.evaluate(run.data.train[:run.config.eval_docs])])
    progress.message(f"fit in one pass over {len(run.data.train):,} training documents "
                     f"({seconds:.2f} s): no gradient, no optimizer steps")
    return [seconds]


def _step(run, batch, lr, measure_health):
    """One training step; with `measure_health`, its statistics go into the history."""
    def take_step():
        return run.engine.step(batch, lr, run.config.grad_clip)
    if not measure_health:
        return take_step()[0]
    loss, _, record = measure_step(run.engine.model, batch, take_step)  # Values only
    run.history.setdefault("health", []).append({"step": run.step, "lr": lr, **record})
    return loss


def _health_due(config, step):
    """Health statistics are taken at the first step, every eval_interval, and the last."""
    return config.record_health and (step in (1, config.steps)
                                     or _every(config.eval_interval, step))


def _every(interval, step):
    """Whether something done every `interval` steps (0: never) happens at `step`."""
    return bool(interval) and step % interval == 0


def _finish(run, step_times, started, stream):
    """The final losses, the last checkpoint, and the TrainResult."""
    config = run.config
    train_loss = run.engine.evaluate(run.data.train[:config.eval_docs])
    val_loss = run.engine.evaluate(run.data.val[:config.eval_docs])
    if not run.history["val"] or run.history["val"][-1][0] != run.step:
        run.history["val"].append([run.step, val_loss])
    run.save()
    if stream is not None:
        stream.write(f"done: {run.step} steps, train loss {train_loss:.4f}, val loss "
                     f"{val_loss:.4f}" + (f"; checkpoint {run.out}" if run.out else "") + "\n")
        stream.flush()
    return TrainResult(
        model=run.engine.sync_model(), tokenizer=run.data.tokenizer, config=config,
        history=History(run.history),
        step=run.step, train_loss=train_loss, val_loss=val_loss,
        seconds=time.perf_counter() - started, step_times=step_times, checkpoint=run.out,
        text_mode=run.data.text_mode, engine=run.engine)


def _describe_run(say, run, resuming):
    """The run's facts, printed once at the start (like makemore's data summary)."""
    config, data, tok = run.config, run.data, run.data.tokenizer
    max_seq_len = sequence_length(config)
    cropped = f"; {data.num_cropped} cropped to {max_seq_len + 1} tokens" \
        if data.num_cropped else ""
    unit = f"pieces of {max_seq_len} characters" if data.text_mode else "documents"
    say(f"data: {data.description}: {data.num_documents:,} {unit} "
        f"({len(data.train):,} train / {len(data.val):,} validation){cropped}; "
        f"vocabulary {tok.vocab_size} ({len(tok.chars)} characters + BOS)")
    model = run.engine.model
    say(f"model: {type(model).__name__}({model.extra_repr()})")
    if not model.trained_by_gradient:
        say(f"training: none by gradient; {type(model).__name__} is fit in one pass over "
            f"the training documents, seed {config.seed}")
        return
    say(f"engine: {run.engine.describe()}")
    warmup = min(config.warmup_steps, config.steps - 1)
    say(f"training: {config.steps} steps of {config.batch_size} document(s), "
        f"{config.optimizer} lr {config.lr:g} ({config.lr_schedule}"
        f"{f', warm-up {warmup}' if warmup else ''}), seed {config.seed}"
        + (f"; resuming at step {run.step}" if resuming else ""))


def resumed_config(checkpoint, config=None):
    """The settings to continue `checkpoint`'s run with: its own, or `config` if that
    changes only what RESUMABLE_FIELDS allow."""
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


def _check_steps_left(checkpoint, config):
    if config.steps < checkpoint.step:
        raise ValueError(f"resume: {checkpoint.path} is at step {checkpoint.step} already, "
                         f"past steps={config.steps}; set steps (--steps) to "
                         f"{checkpoint.step} or more")


def schedule_change(checkpoint, config):
    """What resuming `checkpoint` with `config` does to the learning-rate schedule (the rule
    is in the module docstring): None when the run continues to its planned total, bit for
    bit; otherwise one line that says the schedule is re-planned, with the rate of the last
    step taken and of the next one."""
    planned, step = TrainConfig(**checkpoint.train_config).steps, checkpoint.step
    if config.steps < step:
        return None  # refused by _check_steps_left
    if config.steps == step:
        return (f"resume: the run is at step {step} of {config.steps} already, so there is "
                f"nothing to train; set steps (--steps) above {step} to train it further")
    if config.steps == planned:
        return None
    before = _schedule(dataclasses.replace(config, steps=planned))(step - 1) if step else None
    after = _schedule(config)(step)
    change = (f"the rate goes from {before:.3g} (step {step}) to {after:.3g} (step {step + 1})"
              if before is not None else f"the rate starts at {after:.3g}")
    return (f"resume: {'extending' if config.steps > planned else 'shortening'} the run from "
            f"its planned {planned} steps to {config.steps}: the learning-rate schedule is "
            f"re-planned for {config.steps} steps, so {change}; the result is not what a "
            f"{config.steps}-step run from the start would give")


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
           prompt="", max_new_tokens=None, stop_at_bos=True, sampler=None):
    """`num` texts generated by `model`, each starting from `[BOS] + encode(prompt)`.

    With `stop_at_bos` a text ends where the model emits BOS (the end of a document), so a
    names model returns whole names; `max_new_tokens` (default: the model's context, or
    64 for a model without a limit) caps the length either way. The prompt is included at
    the start of every text. `rng` (a random.Random; None means Random(0)) makes the
    draws repeatable. `sampler` is what runs the model (default: `model.float_copy()`);
    `engines.make_sampler("torch", model)` generates the same texts with the PyTorch twin,
    much faster for a big model.
    """
    check_instance("model", model, LanguageModel, "a language model (e.g. a GPT)")
    check_instance("tokenizer", tokenizer, CharTokenizer, "a CharTokenizer")
    check_int("num", num, 1)
    check_str("prompt", prompt, empty_ok=True)
    check_bool("stop_at_bos", stop_at_bos)
    rng = check_rng("rng", rng)
    context = [tokenizer.bos] + tokenizer.encode(prompt)
    if max_new_tokens is None:
        max_new_tokens = model.max_context or 64
    # one copy of the weights for all the texts
    fast = sampler if sampler is not None else model.float_copy()
    texts = []
    for _ in range(num):
        new = fast.generate(context, max_new_tokens, temperature=temperature, top_k=top_k,
                            top_p=top_p, rng=rng,
                            stop_token=tokenizer.bos if stop_at_bos else None)
        texts.append(prompt + tokenizer.decode(new))
    return texts


def default_text_length(model):
    """How many tokens a sample of a continuous text runs to by default: four contexts (of
    64 tokens for a model without a context limit)."""
    return 4 * (model.max_context or 64)


def saved_text_mode(checkpoint):
    """Whether the checkpoint's run trained on pieces of a continuous text."""
    try:
        return TrainConfig(**checkpoint.train_config).uses_text_mode()
    except (TypeError, ValueError):  # no (usable) training settings: a model of documents
        return False
