"""Checks exercise 7: softmax and cross-entropy on floats, and their gradients."""
from __future__ import annotations

import math
import random

from ...autograd import functional as F
from .backward_parts import Spec, check_backward, weighted_sum
from .tutor import Wrong, close, run_part


def _cases(rng):
    """Logits of a few sizes and scales, one far-off logit among them."""
    cases = []
    for size, scale in ((3, 1.0), (5, 2.0), (6, 0.5)):
        z = [rng.gauss(0.0, scale) for _ in range(size)]
        cases.append({"z": z, "target": rng.randrange(size),
                      "dp": [rng.gauss(0.0, 1.0) for _ in range(size)]})
    cases[-1]["z"][0] += 6.0
    return cases


CASES = _cases(random.Random(7))

GRAD = Spec(function="cross_entropy_grad", wrt={"z": "cross_entropy_grad"}, cases=CASES,
            scalar=lambda v: F.cross_entropy(v["z"], v["target"]),
            call=lambda f, case: (f(list(case["z"]), case["target"]),),
            hints={"cross_entropy_grad": "the loss is -z_t + ln Σ_j e^(z_j); differentiate "
                                         "each term toward z_j"},
            shown=("z", "target"))
BACKWARD = Spec(function="softmax_backward", wrt={"z": "softmax_backward"}, cases=CASES,
                scalar=lambda v: weighted_sum(v["dp"], F.softmax(v["z"])),
                call=lambda f, case: (f(list(case["z"]), list(case["dp"])),),
                hints={"softmax_backward": "dz_j = Σ_i dp_i·p_i·(δ_ij − p_j): write out "
                                           "the sum, the δ keeps one term"},
                shown=("z", "dp"))


def check(learner):
    """The parts of exercise 7."""
    return [run_part("softmax", lambda: _check_softmax(learner)),
            run_part("cross_entropy", lambda: _check_loss(learner)),
            *check_backward(learner, GRAD), *check_backward(learner, BACKWARD)]


def _check_softmax(learner):
    softmax = learner.function("softmax")
    for case in CASES + [{"z": [1000.0, 0.0, -1000.0]}]:
        got, want = softmax(list(case["z"])), F.softmax(case["z"])
        if not (isinstance(got, (list, tuple)) and len(got) == len(want)
                and all(close(g, w, 1e-12) for g, w in zip(got, want))):
            raise Wrong(f"softmax({_round(case['z'])}) gave {_round(got)}, expected "
                        f"{_round(want)}" + (" (subtract max(z) before exp)"
                                             if max(case["z"]) > 100 else ""))
    return "right probabilities, and no overflow for z = [1000, 0, -1000]"


def _check_loss(learner):
    loss = learner.function("cross_entropy")
    for case in CASES + [{"z": [1000.0, 0.0], "target": 1}]:
        got, want = loss(list(case["z"]), case["target"]), F.cross_entropy(case["z"],
                                                                            case["target"])
        if not close(got, want, 1e-12):
            raise Wrong(f"cross_entropy({_round(case['z'])}, {case['target']}) gave "
                        f"{got!r}, expected {want!r}")
    return f"right, and {math.log(2):.4f} = ln 2 would be the loss of a coin toss"


def _round(values):
    if isinstance(values, (list, tuple)):
        return [round(v, 4) if isinstance(v, float) else v for v in values]
    return values
