"""What `train` returns: the trained model, and how the run went (`TrainResult`)."""
from __future__ import annotations

import html
import statistics
from dataclasses import dataclass
from pathlib import Path

from .history import format_history, history_html
from .settings import TrainConfig

__all__ = ["TrainResult"]


@dataclass
class TrainResult:
    """What `train` returns: the trained model and how the run went.

    In a notebook it shows as a one-line summary and the table of losses; `sample(result.model,
    result.tokenizer)` (sampling.py) gives texts from the model.
    """

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
    engine: object = None    # the engine that trained it (engines.py; `is_main` under torchrun)

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
