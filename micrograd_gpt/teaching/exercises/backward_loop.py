"""Checks exercise 2: the backward loop, and an expression that catches `=` for `+=`."""
from __future__ import annotations

from ...autograd.value import Value
from ...autograd.gradcheck import gradcheck
from .choices import Question, ask
from .tutor import NotYet, Wrong, derivative_table, run_part

# (description, inputs, build): build(*leaves) -> the output Value
EXPRESSIONS = [
    ("L = (a*b + c)*f", [2.0, -3.0, 10.0, -2.0], lambda a, b, c, f: (a * b + c) * f),
    ("y = x*x + x (x used three times)", [3.0], lambda x: x * x + x),
    ("b = a + a; c = b + b", [1.5], lambda a: (a + a) + (a + a)),
    ("tanh(a*b + c)", [2.0, -3.0, 1.0], lambda a, b, c: (a * b + c).tanh()),
    ("a chain of 60 operations", [0.3], lambda x: _chain(x, 60)),
]


def _chain(x, n):
    for i in range(n):
        x = (x * 0.9 + 0.1).tanh() if i % 2 else x * x * 0.5 + x
    return x


QUESTION = Question(
    name="ANSWER",
    options={"a": "it must contain a nonlinear operation, such as tanh, exp or a power",
             "b": "some Value in it must feed more than one operation, or one twice",
             "c": "it must have more than two inputs, so that their gradients differ"},
    right="b",
    why_not={
        "a": "a nonlinear operation alone does not do it: tanh(tanh(x)) uses every Value "
             "once, each child gets exactly one share, and `=` gives the same result as "
             "`+=`",
        "c": "many inputs alone do not do it: a*b*c*d uses each input once, so each gets "
             "one share and `=` loses nothing"},
    because="only a Value with two or more edges out gets two shares, and `=` keeps only "
            "the last one")
QUESTIONS = [QUESTION]


def check(learner):
    """The parts of exercise 2."""
    return [run_part("backward(root)", lambda: _check_backward(learner)),
             run_part("an expression that catches the bug", lambda: _check_catcher(learner)),
             run_part("ANSWER", lambda: _check_answer(learner))]


def _fresh(inputs, build):
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(inputs)]
    return leaves, build(*leaves)


def _check_backward(learner):
    backward = learner.function("backward")
    for description, inputs, build in EXPRESSIONS:
        expected_leaves, expected_root = _fresh(inputs, build)
        expected_root.backward()
        leaves, root = _fresh(inputs, build)
        _without_engine_backward(lambda: backward(root))
        if root.grad != 1.0:
            raise Wrong(f"for {description}, grad(root) is {root.grad!r} after your loop; the "
                        f"output's own gradient d root/d root must be 1")
        for leaf, expected in zip(leaves, expected_leaves):
            if abs(leaf.grad - expected.grad) > 1e-12 * max(1.0, abs(expected.grad)):
                raise Wrong(f"for {description} at {_at(leaves)}: your loop gives "
                            f"grad({leaf.label}) = {leaf.grad!r}, backward() gives "
                            f"{expected.grad!r}" + _advice(leaf.grad, expected.grad))
    return f"equal to backward() on all {len(EXPRESSIONS)} test graphs, shared inputs included"


def _without_engine_backward(run):
    """Run the learner's loop with Value.backward switched off, so it is their own loop."""
    def refuse(self, grad=1.0):
        raise Wrong("your backward() calls Value.backward(): write the loop itself instead")
    saved = Value.backward
    Value.backward = refuse
    try:
        run()
    finally:
        Value.backward = saved


def _at(leaves):
    return ", ".join(f"{leaf.label} = {leaf.data:g}" for leaf in leaves)


def _advice(got, expected):
    if got == 0:
        return ". Nothing reached it: is the loop going from the output back to the inputs?"
    return ". Does every edge add its share (+=), and use the node's gradient?"


def _check_catcher(learner):
    try:
        learner.function("backward_with_assignment")
    except NotYet:
        raise Wrong("keep the function backward_with_assignment from the stub: the checker "
                    "runs it") from None
    f, inputs = _expression(learner)
    result = gradcheck(f, inputs)
    if not result.passed:
        raise Wrong(f"even the correct backward() disagrees with the nudges at {inputs}: "
                    f"pick a point where f is smooth (no relu or abs at 0)")
    leaves = [Value(float(x), label=f"x{i}") for i, x in enumerate(inputs)]
    learner.function("backward_with_assignment")(f(*leaves))
    buggy = [leaf.grad for leaf in leaves]
    names = [leaf.label for leaf in leaves]
    table = derivative_table(names, inputs, buggy, result.numeric, yours_label="buggy loop")
    if all(abs(b - n) <= 1e-6 * max(1.0, abs(n)) for b, n in zip(buggy, result.numeric)):
        raise Wrong(f"the buggy loop gets this one right at {inputs}:\n{table}\n"
                    "Hint: in your expression, every Value feeds one operation only.")
    return f"caught: the buggy loop disagrees with the nudges\n{table}"


def _expression(learner):
    found = learner.function("an_expression_that_catches_it")()
    if not (isinstance(found, (tuple, list)) and len(found) == 2 and callable(found[0])):
        raise Wrong("an_expression_that_catches_it() must return (f, inputs), e.g. "
                    "(lambda a, b: a * b, [2.0, 3.0])")
    f, inputs = found
    try:
        inputs = [float(x) for x in inputs]
    except (TypeError, ValueError):
        raise Wrong(f"inputs must be a list of numbers, got {inputs!r}") from None
    out = _call(learner, f, inputs)
    if not isinstance(out, Value):
        raise Wrong(f"f must return one Value, got {type(out).__name__}")
    return (lambda *xs: _call(learner, f, xs)), inputs


def _call(learner, f, inputs):
    return learner.wrap(f, "f")(*[x if isinstance(x, Value) else Value(x) for x in inputs])


def _check_answer(learner):
    return ask(learner, QUESTION)
