"""Ctrl-C during training: finish the step in progress, save, and say how to go on.

An optimizer step cut in half could not be resumed exactly (some weights moved, others
not; Adam's moments half updated). So the first Ctrl-C only asks the loop to stop after
the step in progress; the loop then writes a checkpoint and raises `TrainingInterrupted`,
which says which step the checkpoint holds. A second Ctrl-C stops at once, keeping the
last checkpoint written. This works where Python's own Ctrl-C handler is in place (the
main thread); elsewhere Ctrl-C works as usual.
"""
from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

__all__ = ["TrainingInterrupted", "StopRequest", "finish_the_step_on_ctrl_c"]


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


class StopRequest:
    """Whether the loop was asked to stop after the step in progress (`requested`)."""

    requested = False


@contextmanager
def finish_the_step_on_ctrl_c():
    """While training: the first Ctrl-C asks the loop to stop after the step in progress
    (the `StopRequest` this yields); a second one interrupts at once. Only where Python's
    own Ctrl-C handler is in place, in the main thread (elsewhere Ctrl-C works as usual)."""
    stop = StopRequest()
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
