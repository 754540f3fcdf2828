"""The tutor behind `micrograd-gpt exercise check`: run a learner's file, say what is right.

A check is made of parts (one function to write, one answer to give). Each part ends in
one of three states, each with a message meant for the learner:

* right: what was checked, so the learner knows what "right" covered;
* wrong: what was expected and what came out, at the exact input where it went wrong
  (for a derivative, the table of your gradient beside the numeric one);
* todo: not written yet (the stub's `raise NotImplementedError` is still there).

The learner's code never shows a bare traceback: an exception becomes one short message
with the line of the learner's file where it happened and that line's text
(`Learner.function`); an exception the checker's own code meets while it uses what the
learner's code returned becomes one message too (`run_part`). Numbers in messages are
rounded, never cut off mid-digit (`brief`).
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import inspect
import math
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ...autograd.gradcheck import gradcheck
from ...autograd.value import Value

__all__ = ["Part", "Report", "Wrong", "NotYet", "Learner", "load_learner", "run_part",
           "derivative_table", "check_gradient", "close", "brief", "at_line", "TODO"]

TODO = None  # what a stub's answers hold until the learner fills them in

RIGHT, WRONG, NOT_YET = "right", "wrong", "todo"
MARKS = {RIGHT: "[ok]   ", WRONG: "[wrong]", NOT_YET: "[todo] "}


class Wrong(Exception):
    """A part is wrong; the message says what was expected and what came out."""


class NotYet(Exception):
    """A part is not written yet; the message says where."""


@dataclass
class Part:
    """One checked part of an exercise: its name, state and what the tutor says."""

    name: str
    state: str
    message: str


@dataclass
class Report:
    """The whole answer of `check`: every part, or the one problem that stopped it."""

    number: int
    title: str
    path: Path
    parts: list = field(default_factory=list)
    problem: str | None = None     # the file could not even be loaded, or stopped the check
    output: str = ""               # what the learner's file printed (cut when it is long)

    @property
    def passed(self):
        """True when the file loaded and every part is right."""
        return self.problem is None and bool(self.parts) and all(
            p.state == RIGHT for p in self.parts)

    def __str__(self):
        lines = [f"Exercise {self.number}: {self.title}", f"checking {self.path}", ""]
        if self.output:
            lines += ["what your file printed:"]
            lines += [f"    {line}" for line in self.output.rstrip("\n").split("\n")] + [""]
        if self.problem:
            return "\n".join(lines + [self.problem])
        for part in self.parts:
            first, *rest = part.message.split("\n")
            lines.append(f"{MARKS[part.state]} {part.name}: {first}")
            lines += [f"          {line}" if line else "" for line in rest]
        lines += ["", self.verdict()]
        return "\n".join(lines)

    def verdict(self):
        """The last line: all right, or how many parts are left and what to do."""
        right = sum(p.state == RIGHT for p in self.parts)
        if self.passed:
            return f"All {right} parts right. Well done!"
        return (f"{right} of {len(self.parts)} parts right. Fix the ones marked [wrong] "
                f"or [todo], then check again.")


# Called with a part's name as its check starts (runner.py listens, so that a check that
# never ends can be named); None: nobody listens.
part_started = None


def run_part(name, body):
    """Run one part's check, `body()`: it returns what to say when right, or raises Wrong
    or NotYet. Returns a Part.

    Any other exception comes from the checker's code working on what the learner's code
    returned (a graph that backward() cannot walk, say): it marks the part wrong with one
    message, at the learner's line when the learner's code is among its frames."""
    if part_started is not None:
        part_started(name)
    try:
        return Part(name, RIGHT, body())
    except NotYet as e:
        return Part(name, NOT_YET, str(e))
    except Wrong as e:
        return Part(name, WRONG, str(e))
    except Exception as e:  # noqa: BLE001 - the tutor never shows a traceback
        return Part(name, WRONG, f"checking it stopped with {type(e).__name__}: {e}, "
                                 f"while using what your code returned{_outside_frame(e)}")


# ---------------------------------------------------------------------------------------
# Loading and calling the learner's code, with friendly errors
# ---------------------------------------------------------------------------------------
def load_learner(path):
    """Import the learner's file at `path`; returns a Learner, or raises Wrong with a
    short message (a syntax error, or an exception while the file runs).

    The file is read as Python whatever its name or where a link to it leads (a link to
    a file without `.py`, which Python's import machinery would not recognise, still
    loads, and a file that is not Python gets Python's own error with its line)."""
    path = Path(path).absolute()
    name = f"_exercise_{abs(hash(str(path)))}"
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    try:
        loader.exec_module(module)
    except SyntaxError as e:
        raise Wrong(f"Python cannot read {path.name}: {e.msg}, at line {e.lineno}:\n"
                    f"    {(e.text or '').strip()}") from None
    except UnicodeDecodeError as e:  # SourceFileLoader decodes the file as Python source
        raise Wrong(f"Python cannot read {path.name}: it is not UTF-8 text (bad byte at "
                    f"offset {e.start})") from None
    except Exception as e:  # noqa: BLE001 - anything the learner's file raises
        raise Wrong(f"{path.name} failed while loading: {_where(e, path)}") from None
    finally:
        sys.modules.pop(name, None)
    return Learner(module, path)


class Learner:
    """The learner's module, seen through friendly errors.

    `function(name)` gives their function wrapped so that calling it raises NotYet (a
    stub's NotImplementedError) or Wrong (any other exception, with the line of their
    file) instead of a traceback; `answer(name)` gives a constant they had to fill in."""

    def __init__(self, module, path):
        self.module = module
        self.path = Path(path)

    def function(self, name):
        func = getattr(self.module, name, None)
        if not callable(func):
            raise NotYet(f"there is no function `{name}` in {self.path.name}: define it "
                         f"(the stub has one to start from)")
        return self.wrap(func, name)

    def wrap(self, func, name):
        """`func` (any callable of the learner's) with friendly errors."""
        def call(*args, **kwargs):
            try:
                return func(*args, **kwargs)
            except NotImplementedError as e:
                raise NotYet(f"not written yet ({_line_of(e, self.path)} still raises "
                             f"NotImplementedError): replace it with your code") from None
            except (NotYet, Wrong):
                raise
            except Exception as e:  # noqa: BLE001 - the learner's code can raise anything
                raise Wrong(f"your code raised {_where(e, self.path)}") from None
        call.__name__ = name
        return call

    def line_calling(self, name, callee):
        """Where function `name` of the learner's file calls `callee` (like "Value("): the
        last such line, as "\\nat line N of FILE:\\n    LINE", or "" when none is found. Used
        for a slip that raises nothing (a node built wrong) but still has a line to show."""
        try:
            lines, first = inspect.getsourcelines(getattr(self.module, name))
        except (AttributeError, OSError, TypeError):
            return ""
        calls = [(first + i, line) for i, line in enumerate(lines)
                 if callee in line and not line.lstrip().startswith("#")]
        if not calls:
            return ""
        number, line = calls[-1]
        return "\n" + at_line(self.path, number, line)

    def answer(self, name):
        value = getattr(self.module, name, TODO)
        if value is TODO or value is Ellipsis:
            raise NotYet(f"`{name}` is not filled in yet: set it in {self.path.name}")
        return value


def _learner_frames(error, path):
    """The frames of `error`'s traceback that are in the learner's file."""
    return [f for f in traceback.extract_tb(error.__traceback__)
            if Path(f.filename).resolve() == path.resolve()]


def _line_of(error, path):
    frames = _learner_frames(error, path)
    return f"line {frames[-1].lineno}" if frames else "the function"


def at_line(path, number, line):
    """ "at line 12 of x.py:\\n    return 1 / x": a place in the learner's file, with its
    text, as every message of the tutor shows it."""
    return f"at line {number} of {Path(path).name}:\n    {line.strip()}"


def _where(error, path):
    """ "ZeroDivisionError: division by zero\\nat line 12 of x.py:\\n    return 1 / x" """
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    if isinstance(error, MemoryError):  # the check caps the memory (runner.py)
        text += " (more memory than a check may use: a list or loop that grows without end?)"
    frames = _learner_frames(error, path)
    if not frames:
        return text
    return f"{text}\n{at_line(path, frames[-1].lineno, frames[-1].line)}"


def _outside_frame(error):
    """The last frame of `error`'s traceback outside this package and Python's own
    library (the learner's code, when it is there), as "\\nat line N of FILE: ...", or ""."""
    package = Path(__file__).resolve().parents[2]
    library = Path(traceback.__file__).resolve().parent
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        where = Path(frame.filename).resolve()
        if frame.line and package not in where.parents and library not in where.parents:
            return "\n" + at_line(where, frame.lineno, frame.line)
    return ""


# ---------------------------------------------------------------------------------------
# Showing what the learner's code returned
# ---------------------------------------------------------------------------------------
def brief(value, items=4):
    """A short text for `value` in a message: numbers rounded to 4 significant digits,
    long lists cut between items, never inside a number.

    >>> brief([[0.123456, -1.5], [2.0, 3.25], [1e-9, 7.0]])
    '[[0.1235, -1.5], [2, 3.25], [1e-09, 7]]'
    >>> brief(list(range(10)))
    '[0, 1, 2, 3, … 6 more]'
    """
    if isinstance(value, Value):
        return f"Value({brief(value.data)})"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        shown = [brief(v, items) for v in value[:items]]
        if len(value) > items:
            shown.append(f"… {len(value) - items} more")
        if isinstance(value, tuple):
            return "(" + ", ".join(shown) + ("," if len(value) == 1 else "") + ")"
        return "[" + ", ".join(shown) + "]"
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


# ---------------------------------------------------------------------------------------
# Comparing numbers and gradients
# ---------------------------------------------------------------------------------------
def close(a, b, tol=1e-9):
    """a and b agree (absolute for small numbers, relative for large ones)."""
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


def derivative_table(names, xs, yours, numeric, tol=1e-6, yours_label="yours",
                     reference=None):
    """The gradcheck table of the rows in `names`: input, x, your derivative, (backward()'s,
    when `reference` is given,) the numeric one (central differences) and the error of
    yours against it; wrong rows marked with <-- ."""
    width = max(len("input"), *(len(n) for n in names))
    extra = f" {'backward()':>14}" if reference is not None else ""
    lines = [f"{'input':<{width}} {'x':>11} {yours_label:>14}{extra} {'numeric':>14} "
             f"{'error':>9}"]
    for i, (name, x, y, n) in enumerate(zip(names, xs, yours, numeric)):
        error = abs(y - n) / max(1.0, abs(n)) if math.isfinite(y) else math.inf
        mark = "  <--" if not error <= tol else ""
        middle = f" {reference[i]:>14.8g}" if reference is not None else ""
        lines.append(f"{name:<{width}} {x:>11.6g} {y:>14.8g}{middle} {n:>14.8g} "
                     f"{error:>9.1e}{mark}")
    return "\n".join(lines)


def check_gradient(func, inputs, names=None, tol=1e-6, yours_label="yours"):
    """gradcheck(func, inputs): None when every derivative agrees with the nudges, else the
    table (see `derivative_table`) of the rows in `names`' order."""
    result = gradcheck(func, inputs, tol=tol)
    if result.passed:
        return None
    names = names or [f"x{i}" for i in range(len(inputs))]
    return derivative_table(names, result.inputs, result.analytic, result.numeric, tol,
                            yours_label)
