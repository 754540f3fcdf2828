"""Checks exercise 10: the backward of one attention head on plain floats."""
from __future__ import annotations

import math
import random

from ...autograd import functional as F
from .backward_parts import Spec, check_backward, weighted_sum


def _cases(rng):
    cases = []
    for hd, T in ((2, 1), (3, 3), (4, 5)):
        def vector():
            return [rng.gauss(0, 1) for _ in range(hd)]
        cases.append({"q": vector(), "keys": [vector() for _ in range(T)],
                      "values": [vector() for _ in range(T)], "dout": vector()})
    return cases


def _head(v):
    """Σ dout·out for the head, built from Values."""
    scale = 1.0 / math.sqrt(len(v["q"]))
    weights = F.softmax([F.dot(v["q"], key) * scale for key in v["keys"]])
    out = [F.dot(weights, [value[j] for value in v["values"]]) for j in range(len(v["q"]))]
    return weighted_sum(v["dout"], out)


SPEC = Spec(
    function="attention_head_backward", wrt={"q": "dq", "keys": "dkeys", "values": "dvalues"},
    cases=_cases(random.Random(10)), scalar=_head,
    call=lambda f, case: f(list(case["q"]), [list(k) for k in case["keys"]],
                           [list(v) for v in case["values"]], list(case["dout"])),
    hints={"dvalues": "out_j = Σ_s a_s·values[s][j]: values[s][j] meets a_s, in out_j only",
           "dkeys": "back through the average (da_s = dout·values[s]), the softmax "
                    "(ds_s = a_s·(da_s − Σ_r a_r·da_r)), then score_s = q·keys[s]/√hd",
           "dq": "q is in every score: dq = Σ_s ds_s·keys[s]/√hd"})


def check(learner):
    """The parts of exercise 10: dq, dkeys and dvalues."""
    return check_backward(learner, SPEC)
