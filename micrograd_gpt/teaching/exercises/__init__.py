"""Exercises beside the course, and the tutor that checks them.

Each exercise is a small Python file with TODO bodies and a docstring that says what to
do, in reading order beside the chapters (`EXERCISES`). `start(folder)` copies them out for
you to edit; `check(path)` runs your file and says, part by part, what is right and what
is wrong (with the numbers, and for a derivative the table of yours against the numeric
one at the exact input where it fails). Your file runs in a child process with a time
limit (runner.py), so a file that hangs, exits or crashes gets a clear report too. From
the command line:

    micrograd-gpt exercise list              # what there is, chapter by chapter
    micrograd-gpt exercise start             # copy the exercises to ./exercises/
    micrograd-gpt exercise check 1           # check ./exercises/01_value_ops.py
    micrograd-gpt exercise check my_file.py  # check any file

The stubs live in `stubs/` next to this file; the checks, one module per exercise, next to
it too. The solutions are kept out of the installed package, in the project's repository
(`exercise_solutions/`), so that a stuck learner looks there on purpose, not by accident.
"""
from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ...common.checks import check_number
from ...common.files import atomic_write_bytes, check_output_path, read_text
from .runner import DEFAULT_TIMEOUT, MAX_TIMEOUT, can_start_processes, run_check
from .tutor import Report, Wrong, load_learner

__all__ = ["Exercise", "EXERCISES", "STUBS", "find_exercise", "start", "check", "check_here",
           "exercise_of_file", "learner_file", "DEFAULT_TIMEOUT"]

STUBS = Path(__file__).resolve().parent / "stubs"


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number, file stem (`01_value_ops`), chapter and title."""

    number: int
    stem: str
    chapter: int
    title: str

    @property
    def filename(self):
        return f"{self.stem}.py"

    @property
    def stub(self):
        """The path of the untouched stub that ships with the package."""
        return STUBS / self.filename

    def checker(self):
        """The module that checks this exercise (its `check(learner)` gives the parts)."""
        return importlib.import_module(f"{__name__}.{self.stem.split('_', 1)[1]}")


EXERCISES = [
    Exercise(1, "01_value_ops", 1, "sin, cos, log1p and softplus as Value operations"),
    Exercise(2, "02_backward_loop", 2, "the backward loop, and the bug `=` instead of `+=`"),
    Exercise(3, "03_predict_the_trace", 2, "predict the trace table before running trace"),
    Exercise(4, "04_forget_zero_grad", 4, "forget zero_grad() and explain the XOR run"),
    Exercise(5, "05_attention_row", 5, "one row of attention by hand, head by head"),
    Exercise(6, "06_count_parameters", 6, "count the parameters of any GPT config"),
    Exercise(7, "07_softmax_cross_entropy", 7, "softmax + cross-entropy: p - one-hot"),
    Exercise(8, "08_linear_backward", 7, "the backward of a linear layer"),
    Exercise(9, "09_layernorm_backward", 7, "the backward of layer norm"),
    Exercise(10, "10_attention_head_backward", 7, "the backward of one attention head"),
    Exercise(11, "11_top_p", 9, "top-p (nucleus) sampling"),
]


def find_exercise(number):
    """The Exercise with this number (a ValueError lists the numbers there are)."""
    for exercise in EXERCISES:
        if exercise.number == number:
            return exercise
    raise ValueError(f"exercise: there is no exercise {number}; the exercises are numbered "
                     f"1 to {len(EXERCISES)} (`micrograd-gpt exercise list` shows them)")


def exercise_of_file(path):
    """The Exercise a file is for, from its name (`03_predict_the_trace.py`, `03_mine.py`,
    `3.py`) or, failing that, from the "Exercise N" its docstring starts with."""
    path = Path(path)
    match = re.match(r"0*(\d+)(?:_|\.py$)", path.name)
    if match:
        return find_exercise(int(match.group(1)))
    head = read_text(path, "exercise file")[:400]
    match = re.search(r"Exercise (\d+)", head)
    if match:
        return find_exercise(int(match.group(1)))
    raise ValueError(f"exercise: cannot tell which exercise {path.name} is; keep the number "
                     f"in front of its name (like 03_predict_the_trace.py)")


def learner_file(number, folder):
    """The learner's file for exercise `number` in `folder` (NN_*.py)."""
    exercise = find_exercise(number)
    folder = Path(folder)
    found = sorted(folder.glob(f"{number:02d}_*.py"))
    if not found:
        raise ValueError(
            f"exercise: no file for exercise {number} in {folder}/ (looked for "
            f"{number:02d}_*.py): run `micrograd-gpt exercise start` to copy the exercises "
            f"there, or give the file itself: micrograd-gpt exercise check PATH")
    preferred = folder / exercise.filename
    return preferred if preferred in found else found[0]


def start(folder):
    """Copy every stub into `folder` (made if needed); files already there are kept, never
    overwritten. Returns (copied, kept): lists of paths."""
    if isinstance(folder, str) and not folder.strip():  # Path("") would be "." silently
        raise ValueError("folder: got an empty name; give a folder (e.g. exercises), or . "
                         "for the current one")
    folder = Path(folder)
    if os.path.isfile(folder):  # (os.path.isfile is False, not an error, for a bad name)
        raise ValueError(f"folder: {folder} is a file, not a folder; give another path")
    check_output_path(folder / EXERCISES[0].filename, "folder")  # can files be made there?
    folder.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for exercise in EXERCISES:
        target = folder / exercise.filename
        if target.exists():
            kept.append(target)
        else:
            atomic_write_bytes(target, exercise.stub.read_bytes())
            copied.append(target)
    return copied, kept


def check(path, exercise=None, *, timeout=DEFAULT_TIMEOUT):
    """Run the learner's file at `path` and check it; returns a `tutor.Report` (print it,
    or read `.passed` and `.parts`). `exercise`: which one (default: from the file name).

    The file runs in a child process (runner.py) that gets `timeout` seconds and capped
    memory, so that a file that loops forever, exits, crashes or prints without end gives
    a report with one `problem` line instead of a hang or a false pass."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"path: {path} is not a file; give the path of your exercise file")
    exercise = exercise or exercise_of_file(path)
    timeout = check_number("timeout", timeout, 0, MAX_TIMEOUT, low_open=True)
    if not can_start_processes():  # in a browser: no second process, check here
        return check_here(path, exercise)
    return run_check(path, exercise, timeout)


def check_here(path, exercise):
    """Load and check the file at `path` for `exercise` in this process (what the child
    process of `check` does); returns a `tutor.Report`."""
    report = Report(exercise.number, exercise.title, Path(path))
    try:
        learner = load_learner(path)
    except Wrong as problem:
        report.problem = str(problem)
        return report
    report.parts = exercise.checker().check(learner)
    return report
