"""The training loop: `train`, written once for every model kind and every engine.

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
continues exactly as if it had never stopped (resume.py has the rules for changing its
length). Ctrl-C finishes the step in progress and saves (interrupt.py).

The files beside this one: settings.py (TrainConfig), data.py (`prepare_data`), result.py
(TrainResult), resume.py, interrupt.py, baselines.py, sampling.py (texts from the
trained model). The `micrograd-gpt train` and `sample` commands (cli/) are thin layers on
top of `train` and `sample`.
"""
from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..common.checks import check_bool, check_instance, check_int
from ..common.files import check_output_path
from ..models.registry import build_model
from .checkpoint import load_checkpoint, save_checkpoint
from .data import DATASETS, prepare_data
from .engines import DEFAULT_ENGINE, check_engine_fits, make_engine
from .health import measure_step
from .history import History
from .interrupt import StopRequest, TrainingInterrupted, finish_the_step_on_ctrl_c
from .presets import DEFAULT_PRESET
from .progress import ProgressLine, SilentProgress
from .result import TrainResult
from .resume import check_same_data, check_steps_left, resumed_config, schedule_change
from .settings import TrainConfig, learning_rate_schedule, sequence_length

__all__ = ["train", "new_model"]


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
        come from it; `config` may be None (continue the saved run) or change only the
        settings in resume.RESUMABLE_FIELDS (`steps`, how often to evaluate and save, ...).
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
            with finish_the_step_on_ctrl_c() as stop:
                step_times = _loop(run, last_step, progress, stop)
        except KeyboardInterrupt:
            raise _interrupted(run) from None
        finally:
            progress.close()
        return _finish(run, step_times, started, None if quiet else stream)
    finally:
        run.engine.close()


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


def _start(config, resume, out, engine_options):
    """A `_Run` at step 0 from `config`, or where the checkpoint `resume` left it."""
    checkpoint = load_checkpoint(resume) if resume is not None else None
    if checkpoint is not None:
        config = resumed_config(checkpoint, config)
        check_steps_left(checkpoint, config)
    elif config is None:
        config = TrainConfig.from_preset(DEFAULT_PRESET)
    if out is not None:  # before the data is read and a single step is taken
        check_output_path(out, "out", inputs=[] if config.data in DATASETS else [config.data])
    data = prepare_data(config)
    check_engine_fits(engine_options["name"], config, data.tokenizer.vocab_size)
    if checkpoint is not None:
        check_same_data(checkpoint, data)
        model, step, history = checkpoint.model, checkpoint.step, checkpoint.history
        batch_rng = checkpoint.make_rng() or random.Random(f"batches:{config.seed}")
    else:
        model, step, history = new_model(config, data), 0, {"train": [], "val": []}
        batch_rng = random.Random(f"batches:{config.seed}")
    engine = make_engine(engine_options["name"], model, config,
                         device=engine_options["device"], dtype=engine_options["dtype"])
    if checkpoint is not None:
        checkpoint.restore_optimizer(engine.optimizer)
    return _Run(config, data, engine, step, history, batch_rng,
                Path(out) if out is not None else None,
                note=schedule_change(checkpoint, config) if checkpoint is not None else None)


def new_model(config, data):
    """A fresh model for `config`, its weights drawn with Random(seed)."""
    fields = dict(config.model, vocab_size=data.tokenizer.vocab_size)
    return build_model(config.model_kind, fields, rng=random.Random(config.seed))


def _loop(run, last_step, progress, stop=None):
    """Train from `run.step` to `last_step`, evaluating and saving on schedule; a request
    to `stop` ends it between two steps (as a KeyboardInterrupt). Returns the seconds of
    each step taken."""
    config = run.config
    stop = stop or StopRequest()
    schedule = learning_rate_schedule(config)
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
