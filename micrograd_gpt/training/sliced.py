"""Training in slices: what `train` does, a few steps per call, for hosts that must answer.

`train()` runs to the end before it returns. A page in a browser tab cannot wait that
long: while Python runs, the page cannot react to a click. `TrainingRun` is the same run
cut into slices: each `advance(seconds)` takes steps for about that long and returns, so
between two slices the host can draw the loss curve, pause, or stop.

    run = TrainingRun(TrainConfig.from_preset("microgpt", steps=300))
    while not run.done:
        run.advance(0.25)                  # steps for about a quarter of a second
        print(run.step, run.history["train"][-1])
    result = run.finish()                  # the final losses and the TrainResult

It is not a second training loop: every slice runs `train`'s own loop (loop.py) from the
step the run is at to the end, asking it to stop between two steps once the slice's time
is up, the way Ctrl-C asks `train` to stop. So the batches, the learning rates, the
evaluations and the checkpoints are the ones `train` makes: the same settings and seed
give the same history to the last bit, however the run is sliced.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..common.checks import check_number
from ..common.files import check_output_path
from .loop import _describe_run, _finish, _loop, _start
from .progress import ProgressLine, SilentProgress

__all__ = ["TrainingRun"]


class _SliceDeadline:
    """Asks `loop._loop` to stop between two steps once the slice's time is up (the loop
    reads `requested` before every step); at least one step is taken per slice."""

    def __init__(self, run, seconds):
        self.run = run
        self.first_step = run.step
        self.ends = time.perf_counter() + seconds

    @property
    def requested(self):
        return self.run.step > self.first_step and time.perf_counter() >= self.ends


class _StepTimes:
    """The run's progress display, also keeping the seconds of every step it is told of."""

    def __init__(self, progress):
        self.progress = progress
        self.times = []

    def update(self, step, loss, num_tokens, seconds, lr):
        self.times.append(seconds)
        self.progress.update(step, loss, num_tokens, seconds, lr)

    def message(self, text):
        self.progress.message(text)

    def close(self):
        self.progress.close()


class TrainingRun:
    """A training run that advances one slice at a time (see the module docstring).

    The arguments are `train`'s: a TrainConfig (None: the default preset), `out` (a
    checkpoint written on `train`'s schedule and by `finish()`), `resume` (a checkpoint to
    continue), `quiet`, `stream` (where the progress lines go), and the engine's.
    `step`, `history`, `config`, `model` and `tokenizer` can be read between slices.
    """

    def __init__(self, config=None, *, out=None, resume=None, quiet=False, stream=None,
                 engine="values", device=None, dtype=None):
        self._started = time.perf_counter()
        self._run = _start(config, resume, out, dict(name=engine, device=device, dtype=dtype))
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet
        self._progress = _StepTimes(SilentProgress() if quiet else ProgressLine(
            self._run.config.steps, self._run.step, self._stream))
        _describe_run(self._progress.message, self._run, resume is not None)
        if self._run.note:
            self._progress.message(self._run.note)
        self.result = None

    # what the host reads between slices
    config = property(lambda self: self._run.config)
    step = property(lambda self: self._run.step)
    history = property(lambda self: self._run.history)
    model = property(lambda self: self._run.engine.model)
    tokenizer = property(lambda self: self._run.data.tokenizer)
    data = property(lambda self: self._run.data)
    step_times = property(lambda self: list(self._progress.times))

    @property
    def done(self):
        """True once every planned step is taken (then call `finish`)."""
        return self.result is not None or self._run.step >= self._run.config.steps

    def advance(self, seconds=0.25):
        """Take training steps for about `seconds` (at least one step, unless the run is
        done), then return the number of steps taken. Evaluations and checkpoints due on
        the way happen as in `train`."""
        check_number("seconds", seconds, 0)
        if self.done:
            return 0
        before = self._run.step
        try:
            _loop(self._run, self._run.config.steps, self._progress,
                  _SliceDeadline(self._run, seconds))
        except KeyboardInterrupt:  # the slice's time is up: the loop stopped between steps
            pass
        return self._run.step - before

    def finish(self):
        """Evaluate, write the final checkpoint (when there is `out`) and return the
        TrainResult, as `train` does at its end; the run may stop before its planned steps
        (a Stop button). Calling it again gives the same result."""
        if self.result is None:
            self._progress.close()
            try:
                self.result = _finish(self._run, self._progress.times, self._started,
                                      None if self._quiet else self._stream)
            finally:
                self._run.engine.close()
        return self.result

    def save(self, path=None):
        """Write the run as it is now to a checkpoint file: `out`, or `path` (the same
        format `train` writes; `micrograd-gpt sample` and `--resume` read it). Returns the
        path."""
        if path is not None:
            saved_out, self._run.out = self._run.out, check_output_path(Path(path), "path")
            try:
                self._run.save()
            finally:
                self._run.out = saved_out
            return Path(path)
        self._run.save()
        return self._run.out
