"""The loss history of a training run, shown as a table: text in a terminal, HTML in a
notebook.

A run's history is {"train": [[step, batch loss], ...], "val": [[step, loss], ...]} (what
checkpoints store). `History` is that dict, unchanged, except that printing it, or leaving
it as the last line of a notebook cell, shows a short table instead of thousands of
numbers: one row per validation step (or a dozen rows spread over the run), with the mean
batch loss of the steps since the previous row beside the validation loss.
"""
from __future__ import annotations

import html
import statistics

__all__ = ["History", "history_rows", "format_history", "history_html"]


class History(dict):
    """A run's loss history: a plain dict ("train", "val") that displays as a table."""

    def __repr__(self):
        return format_history(self)

    def _repr_html_(self):
        return history_html(self)


def _row_steps(history, most):
    """The steps to show: the validation steps, or `most` steps spread over the run."""
    steps = sorted({int(step) for step, _ in history.get("val", [])})
    if not steps:
        trained = [int(step) for step, _ in history.get("train", [])]
        if not trained:
            return []
        last, every = trained[-1], max(1, trained[-1] // most)
        steps = sorted(set(range(every, last + 1, every)) | {last})
    if len(steps) > most:  # thin out evenly, keeping the first and the last
        picks = {round(i * (len(steps) - 1) / (most - 1)) for i in range(most)}
        steps = [steps[i] for i in sorted(picks)]
    return steps


def history_rows(history, most=12):
    """[(step, mean batch loss since the previous row or None, validation loss or None)]."""
    val = {int(step): loss for step, loss in history.get("val", [])}
    train = history.get("train", [])
    rows, previous = [], None
    for step in _row_steps(history, most):
        batch = [loss for s, loss in train if (previous is None or s > previous) and s <= step]
        rows.append((step, statistics.fmean(batch) if batch else None, val.get(step)))
        previous = step
    return rows


def _cells(row):
    step, train, val = row
    return (f"{step:,}", "" if train is None else f"{train:.4f}",
            "" if val is None else f"{val:.4f}")


HEADER = ("step", "batch loss (mean since the row above)", "validation loss")


def format_history(history, most=12):
    """The table as text, right-aligned columns."""
    rows = [_cells(row) for row in history_rows(history, most)]
    if not rows:
        return "History(no steps yet)"
    steps = len(history.get("train", []))
    widths = [max(len(c) for c in column) for column in zip(HEADER, *rows)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cells, widths)) for cells in [HEADER, *rows]]
    return f"History of {steps:,} training steps\n" + "\n".join(lines)


def history_html(history, most=12):
    """The table as an HTML fragment (what a notebook shows)."""
    rows = history_rows(history, most)
    if not rows:
        return "<p>History: no steps yet</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in _cells(row)) + "</tr>"
                   for row in rows)
    steps = len(history.get("train", []))
    return (f"<table><caption>History of {steps:,} training steps</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
