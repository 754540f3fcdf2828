"""Reporting a training run as it goes: one line with the step, loss, speed and time left.

`ProgressLine` is what `train(..., quiet=False)` prints to (stderr by default); `SilentProgress`
stands in for it when `quiet=True`. Both have the same three methods: `update` after each
step, `message` for a line of news (a validation loss), `close` at the end.
"""
from __future__ import annotations

import sys
import time

__all__ = ["ProgressLine", "SilentProgress", "format_duration"]


def format_duration(seconds):
    """ "m:ss", or "h:mm:ss" from an hour on."""
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class ProgressLine:
    """A one-line progress report: step, loss, tokens per second, time left.

    On a terminal the line is redrawn in place (a carriage return `\\r` moves the cursor
    back to the start of the line), at most 10 times a second. Anywhere else (a log file,
    CI) a plain line is printed every `every` steps, so logs stay readable, and at least
    every `QUIET_SECONDS` of training, so a slow run shows it is alive. When the last step
    is done, `close` says that the final losses are being measured (on a long run they
    take a while, with no step to report).
    """

    QUIET_SECONDS = 30.0

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
        self._last_line_seconds = 0.0  # step_seconds when a plain line was last printed
        self._line = ""
        self._finished = False

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
                      f"{per_step * 1000:.0f} ms/step | ETA {format_duration(eta)}")
        now = time.perf_counter()
        last = self._finished = step == self.total_steps
        if self.tty:
            if last or now - self._last_draw >= 0.1:
                self._draw()
                self._last_draw = now
        elif (last or done % self.every == 0
              or self.step_seconds - self._last_line_seconds >= self.QUIET_SECONDS):
            self.stream.write(self._line + "\n")
            self.stream.flush()
            self._last_line_seconds = self.step_seconds

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
        """End the redrawn line (on a terminal), so what follows starts on a new one; after
        the last step, say that the final losses come next."""
        if self.tty and self._line:
            self.stream.write("\n")
        if self._finished:
            self.stream.write("training done; measuring the final train and validation "
                              "losses...\n")
        self.stream.flush()

    def _draw(self):
        self.stream.write("\r\033[K" + self._line)
        self.stream.flush()


class SilentProgress:
    """Stands in for ProgressLine when `quiet=True`."""

    step_seconds = 0.0

    def update(self, step, loss, num_tokens, seconds, lr):
        self.step_seconds += seconds

    def message(self, text):
        """Say nothing."""

    def close(self):
        """Nothing to end."""
