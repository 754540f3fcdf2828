"""Checks exercise 3: the predicted forward values, backward rows and final gradients are
compared, cell by cell, with what `trace` records for the same expression.

A wrong cell is named, with the rule to think about; its right value is kept back (shown
with `--show`), or the first wrong guess would leave nothing to predict."""
from __future__ import annotations

from ...autograd.value import Value
from ...viz.tracing import format_trace, trace
from .tutor import RIGHT, NotYet, TODO, Wrong, close, run_part

COLUMNS = ("local", "grad(node)", "after")
WHY = {
    "local": "the local derivative d node/d child: for a product the other factor, for a "
             "sum 1",
    "grad(node)": "the node's gradient is complete when it is reached: everything its "
                  "parents added",
    "after": "grad(child) += local × grad(node): the child keeps what it had before, and "
             "adds",
}


def the_trace():
    """trace(L) for L = (a*b + a)*c at a = 3, b = -2, c = 4, every node named."""
    a, b, c = Value(3.0, label="a"), Value(-2.0, label="b"), Value(4.0, label="c")
    e = a * b
    e.label = "e"
    d = e + a
    d.label = "d"
    L = d * c
    L.label = "L"
    return trace(L)


def check(learner):
    """The parts of exercise 3."""
    t = the_trace()
    parts = [run_part("FORWARD", lambda: _check_forward(learner, t)),
             run_part("BACKWARD", lambda: _check_backward(learner, t)),
             run_part("GRADS", lambda: _check_grads(learner, t))]
    if all(part.state == RIGHT for part in parts):   # only now: it holds every answer
        parts[-1].message += " The whole trace, for comparison:\n" + format_trace(t)
    return parts


def _check_forward(learner, t):
    predicted = _table(learner, "FORWARD", dict)
    for step in t.forward:
        if step.formula.endswith("input"):
            continue
        guess = _cell(predicted.get(step.name, TODO), f"FORWARD[{step.name!r}]")
        if not close(guess, step.value):
            raise Wrong(f"FORWARD[{step.name!r}] = {guess!r} is off: work out "
                        f"{step.formula} again, with the inputs' values",
                        answer=f"{step.formula} = {step.value:g}")
    return "e, d and L are right"


def _check_backward(learner, t):
    rows = _table(learner, "BACKWARD", list)
    steps = [s for s in t.backward if s.kind == "backward"]
    if len(rows) != len(steps):
        raise Wrong(f"BACKWARD has {len(rows)} rows; backward() takes {len(steps)} steps "
                    f"(keep the rows of the stub)")
    for number, (row, step) in enumerate(zip(rows, steps), start=1):
        if not isinstance(row, (tuple, list)) or len(row) != 5:
            raise Wrong(f"row {number} must be (node, child, local, grad(node), after), as "
                        f"in the stub; got {row!r}")
        if tuple(row[:2]) != (step.node, step.child):
            raise Wrong(f"row {number} should be ({step.node!r}, {step.child!r}, ...): keep "
                        f"the node and child of the stub's rows")
        expected = (step.local, step.node_grad, step.child_grad_after)
        for column, guess, right in zip(COLUMNS, row[2:], expected):
            guess = _cell(guess, f"row {number} ({step.node} -> {step.child}), {column}")
            if not close(guess, right):
                raise Wrong(f"row {number} ({step.node} -> {step.child}): {column} = "
                            f"{guess!r} is off. Remember: {WHY[column]}.",
                            answer=f"row {number}'s {column} is {right:g}")
    return "every row right: you can run backward() in your head"


def _check_grads(learner, t):
    predicted = _table(learner, "GRADS", dict)
    for name in ("a", "b", "c"):
        guess = _cell(predicted.get(name, TODO), f"GRADS[{name!r}]")
        if not close(guess, t.grad(name)):
            hint = (" a is used twice: it collects from both e and d."
                    if name == "a" else " It is the last `after` of its rows.")
            raise Wrong(f"GRADS[{name!r}] = {guess!r} is off.{hint}",
                        answer=f"dL/d{name} = {t.grad(name):g}")
    return "dL/da, dL/db and dL/dc are right."


def _table(learner, name, kind):
    value = learner.answer(name)
    if not isinstance(value, kind):
        raise Wrong(f"{name} must be a {kind.__name__}, as in the stub; got "
                    f"{type(value).__name__}")
    return value


def _cell(value, where):
    if value is TODO:
        raise NotYet(f"{where} is not filled in yet")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Wrong(f"{where} must be a number, got {value!r}")
    return value
