"""Checks exercise 9: the backward of layer norm on plain floats, against nn.LayerNorm."""
from __future__ import annotations

import random

from ...models.nn import LayerNorm
from .backward_parts import Spec, check_backward, weighted_sum


def _cases(rng):
    cases = []
    for d, spread in ((3, 1.0), (5, 3.0), (6, 0.5)):
        cases.append({"x": [rng.gauss(1.0, spread) for _ in range(d)],
                      "g": [rng.uniform(0.5, 1.5) for _ in range(d)],
                      "b": [rng.uniform(-0.5, 0.5) for _ in range(d)],
                      "dy": [rng.gauss(0, 1) for _ in range(d)]})
    return cases


def _layer_norm(values):
    """Σ dy·LayerNorm(x), with the case's x, gain and bias (Values)."""
    norm = LayerNorm(len(values["x"]))
    norm.weight, norm.bias = values["g"], values["b"]
    return weighted_sum(values["dy"], norm(values["x"]))


SPEC = Spec(
    function="layernorm_backward", wrt={"x": "dx", "g": "dg", "b": "db"},
    cases=_cases(random.Random(9)), scalar=_layer_norm,
    call=lambda f, case: f(list(case["x"]), list(case["g"]), list(case["b"]),
                           list(case["dy"])),
    hints={"dx": "dn = dy·g; then dx = r·(dn − mean(dn) − n·mean(dn·n)): the last two "
                 "terms come from μ and σ² depending on every x_j",
           "dg": "y_i = g_i·n_i + b_i: g_i meets n_i only",
           "db": "b_i is added to y_i and nothing else"})


def check(learner):
    """The parts of exercise 9: dx, dg and db."""
    return check_backward(learner, SPEC)
