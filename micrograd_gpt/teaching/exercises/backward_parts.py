"""Checking a backward written by hand on plain floats (exercises 7 to 10).

A layer y = f(inputs) gets dy = d loss/d y from above and must give back the gradient of
each input. For a fixed dy those gradients are exactly the gradient of the number
Σ dy·y, so the checker builds that number from Values (`Spec.scalar`) and lets
`gradcheck` give, for every input number, backward()'s gradient and the numeric one.
The learner's answer is compared with backward()'s; where a part is off, the tutor shows
the table of that part's rows (yours, backward(), numeric) at the exact input, with the
input itself.

Each part is judged on its own: a dW of the wrong shape (the transpose, most often) is
said at dW, and dx and db are still checked. A problem all the parts share (the function
raised, or returned the wrong number of things) is said once, at the first part.
"""
from __future__ import annotations

from dataclasses import dataclass

import numbers

from ...autograd.value import Value
from ...autograd.gradcheck import gradcheck
from .tutor import NotYet, Wrong, brief, close, derivative_table, run_part


@dataclass
class Spec:
    """What to check: `function` (the learner's function's name), `wrt` (input name ->
    the part's name, e.g. {"x": "dx", "W": "dW"}), `cases` (dicts of inputs, plain
    floats), `scalar(values)` (Σ dy·y built from Values: `values` is the case with every
    input of `wrt` turned into Values), `call(function, case)` (the learner's outputs,
    one per part, in the order of `wrt`), `hints` (part -> what to think about) and
    `shown` (the inputs to print with a wrong answer; default: all of the case)."""

    function: str
    wrt: dict
    cases: list
    scalar: object
    call: object
    hints: dict
    shown: tuple = ()


def check_backward(learner, spec):
    """One Part per gradient the learner had to compute, each judged on its own."""
    try:
        outcomes = [_run_case(learner, spec, case) for case in spec.cases]
        problem = None
    except (Wrong, NotYet) as e:
        outcomes, problem = [], e
    first = next(iter(spec.wrt.values()))
    return [run_part(part, lambda part=part: _verdict(part, outcomes, problem, spec, first))
            for part in spec.wrt.values()]


def _verdict(part, outcomes, problem, spec, first):
    if problem is not None:  # shared by every part: said once, at the first
        if part == first:
            raise problem
        raise type(problem)(f"waits for {spec.function} to run: see {first} above")
    for failures in outcomes:
        if part in failures:
            raise Wrong(failures[part])
    return f"equal to backward() (and to the nudges) on {len(spec.cases)} random inputs"


def _run_case(learner, spec, case):
    """{part: what is wrong with it} for one case (empty when all are right)."""
    function = learner.function(spec.function)
    outputs = spec.call(function, case)
    if not isinstance(outputs, (tuple, list)) or len(outputs) != len(spec.wrt):
        raise Wrong(f"{spec.function} must return {len(spec.wrt)} things, "
                    f"({', '.join(spec.wrt.values())}); got {brief(outputs)}")
    names, flat_inputs = [], []
    for name in spec.wrt:
        names += _names(name, case[name])
        flat_inputs += _flatten(case[name])
    result = gradcheck(lambda *leaves: spec.scalar(_rebuild(spec, case, leaves)), flat_inputs)
    failures, start = {}, 0
    for (name, part), output in zip(spec.wrt.items(), outputs):
        rows = slice(start, start + len(_flatten(case[name])))
        start = rows.stop
        found = (_shape_problem(output, case[name], name, part)
                 or _number_problem(output, case[name], part)
                 or _value_problem(output, case, name, part, spec,
                                   (names[rows], flat_inputs[rows], result.analytic[rows],
                                    result.numeric[rows])))
        if found:
            failures[part] = found
    return failures


def _shape_problem(output, like, name, part):
    """None when `output` has the shape of the input `like`, else the lesson: what came
    back, what was due, and "transposed?" when it is the transpose."""
    want, got = _shape(like), _shape(output)
    if got == want:
        return None
    text = (f"you returned {_returned(output)}; {part} has the shape of {name}, "
            f"{_shape_words(want)}")
    if got is not None and len(want) == 2 and got == want[::-1]:
        return (f"{text}: transposed?\n{part}[i][j] is d loss / d {name}[i][j], so it has "
                f"one row per row of {name}.")
    return text


def _number_problem(output, like, part):
    """None when every entry of `output` is a plain number, else which one is not."""
    for entry_name, entry in zip(_names(part, like), _flatten(output)):
        if isinstance(entry, Value):
            return (f"{part} must hold plain numbers, but {entry_name} is a Value: the "
                    "backward works on floats; compute it from the numbers, not from Values")
        if not isinstance(entry, numbers.Real) or isinstance(entry, bool):
            return (f"{part} must hold plain numbers, but {entry_name} is "
                    f"{type(entry).__name__} {brief(entry)}")
    return None


def _value_problem(output, case, name, part, spec, rows):
    """None when the learner's numbers equal backward()'s, else the table at this input
    (and a word when they are backward()'s numbers transposed)."""
    row_names, inputs, reference, numeric = rows
    yours = [float(x) for x in _flatten(output)]
    if all(close(y, r, 1e-8) for y, r in zip(yours, reference)):
        return None
    shown = {k: v for k, v in case.items() if k in spec.shown or not spec.shown}
    table = derivative_table(row_names, inputs, yours, numeric, reference=reference)
    text = f"{part} is off at this input:{_describe(shown)}\n{table}\nHint: {spec.hints[part]}"
    if _is_transpose(output, _shaped(list(reference), case[name])):
        text += f"\nYour numbers are backward()'s, transposed: {part}[i][j] goes with {name}[i][j]."
    return text


def _is_transpose(output, right):
    """Whether the square matrix `output` is `right` transposed."""
    shape = _shape(right)
    if shape is None or len(shape) != 2 or shape[0] != shape[1] or shape[0] < 2:
        return False
    return all(close(output[j][i], right[i][j], 1e-8)
               for i in range(shape[0]) for j in range(shape[1]))


def _rebuild(spec, case, leaves):
    """The case with the inputs of `wrt` replaced by the Values in `leaves`."""
    values, start = dict(case), 0
    for name in spec.wrt:
        count = len(_flatten(case[name]))
        values[name] = _shaped(list(leaves[start:start + count]), case[name])
        start += count
    return values


def _shape(x):
    """(n,) for a list of n numbers, (m, n) for m rows of n each, None for anything else (a
    number, rows of different lengths, numbers and rows mixed)."""
    if not isinstance(x, (list, tuple)):
        return None
    rows = [isinstance(row, (list, tuple)) for row in x]
    if x and all(rows):
        widths = {len(row) for row in x}
        return (len(x), widths.pop()) if len(widths) == 1 else None
    return None if any(rows) else (len(x),)


def _shape_words(shape):
    """ "3 numbers", "2 rows of 3" """
    if len(shape) == 1:
        return f"{shape[0]} number{'s' if shape[0] != 1 else ''}"
    return f"{shape[0]} row{'s' if shape[0] != 1 else ''} of {shape[1]}"


def _returned(output):
    """What the learner's output is, in words, for a shape that is not the one due."""
    shape = _shape(output)
    if shape is not None:
        return _shape_words(shape)
    if isinstance(output, (list, tuple)) and all(isinstance(r, (list, tuple)) for r in output):
        return (f"rows of different lengths "
                f"({', '.join(str(len(r)) for r in output)})")
    if isinstance(output, (list, tuple)):
        return f"numbers and rows mixed, {brief(output)}"
    return f"{type(output).__name__} {brief(output)}"


def _flatten(x):
    return [v for row in x for v in row] if x and isinstance(x[0], (list, tuple)) else list(x)


def _shaped(flat, like):
    if like and isinstance(like[0], (list, tuple)):
        width = len(like[0])
        return [flat[i:i + width] for i in range(0, len(flat), width)]
    return flat


def _names(name, x):
    if x and isinstance(x[0], (list, tuple)):
        return [f"{name}[{i}][{j}]" for i, row in enumerate(x) for j in range(len(row))]
    return [f"{name}[{i}]" for i in range(len(x))]


def _describe(case):
    """The inputs of a case, rounded, one per line."""
    lines = [f"{name} = {_rounded(value)}" for name, value in case.items()]
    return "\n    " + "\n    ".join(lines)


def _rounded(value):
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_rounded(v) for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


def weighted_sum(dy, y):
    """Σ dy_i·y_i for Values y (and plain numbers dy): the number whose gradient is the
    backward of y at dy."""
    total = Value(0.0)
    for w, v in zip(_flatten(dy), _flatten(y)):
        total = total + v * w
    return total
