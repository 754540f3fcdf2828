"""Checking a backward written by hand on plain floats (exercises 7 to 10).

A layer y = f(inputs) gets dy = d loss/d y from above and must give back the gradient of
each input. For a fixed dy those gradients are exactly the gradient of the number
Σ dy·y, so the checker builds that number from Values (`Spec.scalar`) and lets
`gradcheck` give, for every input number, backward()'s gradient and the numeric one.
The learner's answer is compared with backward()'s; where a part is off, the tutor shows
the table of that part's rows (yours, backward(), numeric) at the exact input, with the
input itself, and names a mistake by a constant factor (`tutor.scale_note`).
"""
from __future__ import annotations

from dataclasses import dataclass

from ...autograd.value import Value
from ...autograd.gradcheck import gradcheck
from .tutor import NotYet, Wrong, close, derivative_table, run_part, scale_note


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
    """One Part per gradient the learner had to compute."""
    try:
        outcomes = [_run_case(learner, spec, case) for case in spec.cases]
        problem = None
    except (Wrong, NotYet) as e:
        outcomes, problem = [], e
    return [run_part(part, lambda part=part: _verdict(part, outcomes, problem, spec))
            for part in spec.wrt.values()]


def _verdict(part, outcomes, problem, spec):
    if problem is not None:
        raise problem
    for case, failures in zip(spec.cases, outcomes):
        if part in failures:
            shown = {k: v for k, v in case.items() if k in spec.shown or not spec.shown}
            raise Wrong(f"{part} is off at this input:{_describe(shown)}\n{failures[part]}\n"
                        f"Hint: {spec.hints[part]}")
    return f"equal to backward() (and to the nudges) on {len(spec.cases)} random inputs"


def _run_case(learner, spec, case):
    """{part: the table where it is wrong} for one case (empty when all right)."""
    function = learner.function(spec.function)
    outputs = spec.call(function, case)
    if not isinstance(outputs, (tuple, list)) or len(outputs) != len(spec.wrt):
        raise Wrong(f"{spec.function} must return {len(spec.wrt)} things, "
                    f"({', '.join(spec.wrt.values())}); got {_short(outputs)}")
    names, flat_inputs, shapes = [], [], []
    for name in spec.wrt:
        names += _names(name, case[name])
        flat_inputs += _flatten(case[name])
        shapes.append(case[name])
    result = gradcheck(lambda *leaves: spec.scalar(_rebuild(spec, case, leaves)), flat_inputs)
    failures, start = {}, 0
    for (name, part), shape, output in zip(spec.wrt.items(), shapes, outputs):
        yours = _numbers_shaped_like(output, shape, part)
        end = start + len(yours)
        rows = slice(start, end)
        if not all(close(y, r, 1e-8) for y, r in zip(yours, result.analytic[rows])):
            table = derivative_table(names[rows], flat_inputs[rows], yours,
                                     result.numeric[rows], reference=result.analytic[rows])
            note = scale_note(yours, result.analytic[rows], f"the right {part}")
            failures[part] = f"{table}\n{note}" if note else table
        start = end
    return failures


def _rebuild(spec, case, leaves):
    """The case with the inputs of `wrt` replaced by the Values in `leaves`."""
    values, start = dict(case), 0
    for name in spec.wrt:
        count = len(_flatten(case[name]))
        values[name] = _shaped(list(leaves[start:start + count]), case[name])
        start += count
    return values


def _numbers_shaped_like(output, shape, part):
    """The learner's gradient as a flat list, after checking it has the input's shape."""
    want = _shape(shape)
    if _shape(output) != want:
        raise Wrong(f"{part} must have the shape of its input ({_shape_text(want)}), "
                    f"got {_short(output)}")
    flat = _flatten(output)
    if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in flat):
        raise Wrong(f"{part} must hold plain numbers, got {_short(output)}")
    return [float(x) for x in flat]


def _shape(x):
    if isinstance(x, (list, tuple)):
        if x and all(isinstance(row, (list, tuple)) for row in x):
            return (len(x), *{len(row) for row in x})
        return (len(x),)
    return None


def _shape_text(shape):
    return "[" + "][".join(map(str, shape)) + "]" if shape else "a number"


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


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
