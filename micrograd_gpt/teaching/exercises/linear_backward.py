"""Checks exercise 8: the backward of y = W x + b on plain floats."""
from __future__ import annotations

import random

from ...autograd import functional as F
from .backward_parts import Spec, check_backward, weighted_sum


def _cases(rng):
    cases = []
    for n, m in ((3, 2), (4, 3), (2, 5)):
        cases.append({"x": [rng.gauss(0, 1) for _ in range(n)],
                      "W": [[rng.gauss(0, 1) for _ in range(n)] for _ in range(m)],
                      "b": [rng.gauss(0, 1) for _ in range(m)],
                      "dy": [rng.gauss(0, 1) for _ in range(m)]})
    return cases


SPEC = Spec(
    function="linear_backward", wrt={"x": "dx", "W": "dW", "b": "db"},
    cases=_cases(random.Random(8)),
    scalar=lambda v: weighted_sum(v["dy"], F.linear(v["x"], v["W"], v["b"])),
    call=lambda f, case: f(list(case["x"]), [list(r) for r in case["W"]], list(case["b"]),
                           list(case["dy"])),
    hints={"dx": "x[j] reaches every output y_i, through W[i][j]: sum over i",
           "dW": "W[i][j] meets one input, x[j], in one output, y_i",
           "db": "b[i] is added to y_i and nothing else"})


def check(learner):
    """The parts of exercise 8: dx, dW and db."""
    return check_backward(learner, SPEC)
