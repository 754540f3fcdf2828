"""Property test: random expression trees get the same value and gradients from the engine
as from PyTorch in float64.

Hypothesis draws a small program: 1-5 inputs and up to 50 steps. Each step applies one
operation to earlier results (so sub-expressions are shared) and to plain numbers on
either side. The program is then run twice by the same interpreter, once on Values and
once on torch tensors, and the gradients of the inputs are compared.

Every step stays inside its operation's domain by construction:
  * log and sqrt see a² + 0.5 (> 0); divisions divide by b² + 0.5 or by a nonzero number;
    fractional and negative powers have the base a² + 0.5;
  * magnitudes are bounded: each result carries a bound on |value| computed from its
    operands' bounds, and an operand whose bound would make a step exceed LIMIT is passed
    through tanh first (|tanh| <= 1), so exp and ** can never overflow.
"""
import importlib.util
import math
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import gelu
from micrograd_gpt.autograd.value import Value

# torch is imported by the test that uses it (importing it costs seconds); without it, that
# comparison is skipped and the other property still runs
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None,
                                 reason="comparison with PyTorch needs torch")

LIMIT = 100.0            # no intermediate result exceeds this in absolute value
INPUT_RANGE = 2.0
CONSTANTS = [-2.5, -1.0, -0.5, 0.5, 1.5, 3.0]   # nonzero, so dividing by one is safe
POSITIVE_BASES = [0.5, 2.0, 3.0]                # for number ** x
POWERS = [-2.0, -1.5, -1.0, 0.5, 1.5, 2.0]      # for (a² + 0.5) ** p




def positive(x):
    """x² + 0.5: a positive number whatever x is, for log, sqrt and fractional powers."""
    return x * x + 0.5


# Each operation: (compute(a, b, c), bound(|a| bound, |b| bound, c) on |result|).
# a and b are earlier results; c is a plain number drawn for the step.
OPS = {
    "add": (lambda a, b, c: a + b, lambda ba, bb, c: ba + bb),
    "add_number": (lambda a, b, c: a + c, lambda ba, bb, c: ba + abs(c)),
    "number_add": (lambda a, b, c: c + a, lambda ba, bb, c: ba + abs(c)),
    "sub": (lambda a, b, c: a - b, lambda ba, bb, c: ba + bb),
    "sub_number": (lambda a, b, c: a - c, lambda ba, bb, c: ba + abs(c)),
    "number_sub": (lambda a, b, c: c - a, lambda ba, bb, c: ba + abs(c)),
    "mul": (lambda a, b, c: a * b, lambda ba, bb, c: ba * bb),
    "mul_number": (lambda a, b, c: a * c, lambda ba, bb, c: ba * abs(c)),
    "number_mul": (lambda a, b, c: c * a, lambda ba, bb, c: ba * abs(c)),
    "div": (lambda a, b, c: a / positive(b), lambda ba, bb, c: ba / 0.5),
    "div_number": (lambda a, b, c: a / c, lambda ba, bb, c: ba / abs(c)),
    "number_div": (lambda a, b, c: c / positive(a), lambda ba, bb, c: abs(c) / 0.5),
    "neg": (lambda a, b, c: -a, lambda ba, bb, c: ba),
    "square": (lambda a, b, c: a ** 2, lambda ba, bb, c: ba ** 2),
    "cube": (lambda a, b, c: a ** 3, lambda ba, bb, c: ba ** 3),
    "power": (lambda a, b, c: positive(a) ** POWERS[int(abs(c) * 2) % len(POWERS)],
              lambda ba, bb, c: max(2.0 ** 2, (ba * ba + 0.5) ** 2)),
    "value_power": (lambda a, b, c: positive(a) ** b.tanh(),
                    lambda ba, bb, c: max(2.0, ba * ba + 0.5)),
    "number_power": (lambda a, b, c: POSITIVE_BASES[int(abs(c) * 2) % 3] ** a,
                     lambda ba, bb, c: 3.0 ** ba),
    "exp": (lambda a, b, c: a.exp(), lambda ba, bb, c: math.exp(min(ba, 700.0))),
    "log": (lambda a, b, c: positive(a).log(),
            lambda ba, bb, c: max(math.log(2.0), math.log(ba * ba + 0.5))),
    "sqrt": (lambda a, b, c: positive(a).sqrt(), lambda ba, bb, c: math.sqrt(ba * ba + 0.5)),
    "tanh": (lambda a, b, c: a.tanh(), lambda ba, bb, c: 1.0),
    "sigmoid": (lambda a, b, c: a.sigmoid(), lambda ba, bb, c: 1.0),
    "relu": (lambda a, b, c: a.relu(), lambda ba, bb, c: ba),
    "gelu": (lambda a, b, c: gelu(a), lambda ba, bb, c: ba),
    "abs": (lambda a, b, c: abs(a), lambda ba, bb, c: ba),
}


@dataclass
class Step:
    op: str
    a: int          # index of the first operand among earlier results
    b: int          # index of the second operand (unused by one-operand ops)
    number: float
    squash: bool    # pass the operands through tanh first, to keep the result bounded


@st.composite
def programs(draw):
    """(inputs, steps): 1-5 input numbers and up to 50 steps that stay in their domains."""
    n_inputs = draw(st.integers(1, 5))
    inputs = draw(st.lists(st.floats(-INPUT_RANGE, INPUT_RANGE), min_size=n_inputs,
                           max_size=n_inputs))
    bounds = [INPUT_RANGE] * n_inputs
    steps = []
    for _ in range(draw(st.integers(1, 50))):
        op = draw(st.sampled_from(sorted(OPS)))
        a = draw(st.integers(0, len(bounds) - 1))
        b = draw(st.integers(0, len(bounds) - 1))
        number = draw(st.sampled_from(CONSTANTS))
        bound = OPS[op][1](bounds[a], bounds[b], number)
        squash = bound > LIMIT
        if squash:
            bound = OPS[op][1](1.0, 1.0, number)
        steps.append(Step(op, a, b, number, squash))
        bounds.append(bound)
    return inputs, steps


def run(program, leaves):
    """Apply the steps to `leaves` (Values or tensors); return the sum of every result,
    so that every step reaches the output."""
    results = list(leaves)
    for step in program:
        a, b = results[step.a], results[step.b]
        if step.squash:
            a, b = a.tanh(), b.tanh()
        results.append(OPS[step.op][0](a, b, step.number))
    total = results[0]
    for r in results[1:]:
        total = total + r
    return total


def close(got, want):
    return abs(got - want) <= 1e-9 * max(1.0, abs(want))


@pytest.mark.slow
@needs_torch
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_expressions_match_torch(program):
    inputs, steps = program
    values = [Value(x) for x in inputs]
    out = run(steps, values)
    out.backward()

    import torch
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    expected = run(steps, tensors)
    expected.backward()

    assert close(out.data, expected.item()), (out.data, expected.item())
    for i, (v, t) in enumerate(zip(values, tensors)):
        want = 0.0 if t.grad is None else t.grad.item()
        assert close(v.grad, want), f"input {i}: got {v.grad!r}, torch {want!r}"


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_second_backward_adds_the_same_gradients_again(program):
    """Leaves accumulate, interior nodes restart: two calls give twice one call."""
    inputs, steps = program
    values = [Value(x) for x in inputs]
    out = run(steps, values)
    out.backward()
    once = [v.grad for v in values]
    out.backward()
    for g1, g2 in zip(once, (v.grad for v in values)):
        assert abs(g2 - 2 * g1) <= 1e-12 * max(1.0, abs(g1))
