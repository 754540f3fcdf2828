"""Checks exercise 15: the neural bigram's gradient from the counts, and where it is zero.

`bigram_grad(W, documents)` is compared with backward() on the mean loss over every
prediction (as `batch_loss` averages a batch), with the gradcheck table and the
constant-ratio note of `backward_parts` where it is off; `logits_at_minimum(counts)` must
give a W at which that gradient vanishes.
"""
from __future__ import annotations

import math
import random

from ...autograd import functional as F
from ...autograd.value import Value
from .backward_parts import Spec, check_backward
from .tutor import Wrong, run_part

V = 4


def _documents(rng, count):
    """Token lists over V tokens; token 3 only ever ends a document, so row 3 sees no pair."""
    docs = []
    for _ in range(count):
        length = rng.randrange(2, 6)
        docs.append([rng.randrange(3) for _ in range(length)] + [3])
    return docs


def _cases(rng):
    cases = []
    for count, spread in ((2, 1.0), (4, 0.5), (6, 2.0)):
        cases.append({"W": [[rng.gauss(0.0, spread) for _ in range(V)] for _ in range(V)],
                      "documents": _documents(rng, count)})
    return cases


def pairs(documents):
    """Every (token, next token) of the documents: one prediction each."""
    return [(a, b) for doc in documents for a, b in zip(doc, doc[1:])]


def mean_loss(W, documents):
    """The mean over every prediction of −ln softmax(W[a])[b], from Values W [V][V]."""
    return F.mean([F.cross_entropy(W[a], b) for a, b in pairs(documents)])


GRAD = Spec(
    function="bigram_grad", wrt={"W": "dW"}, cases=_cases(random.Random(15)),
    scalar=lambda v: mean_loss(v["W"], v["documents"]),
    call=lambda f, case: (f([list(row) for row in case["W"]],
                            [list(doc) for doc in case["documents"]]),),
    hints={"dW": "count the pairs first; one prediction a -> b gives row a the term "
                 "p − one-hot of chapter 7, and nothing to any other row. The loss is a "
                 "mean over the predictions. A row never followed by anything gets no "
                 "gradient"})

COUNTS = [[5, 1, 2, 1], [1, 8, 1, 3], [2, 2, 2, 2], [7, 1, 1, 1]]


def check(learner):
    """The parts of exercise 15."""
    return [*check_backward(learner, GRAD),
            run_part("logits_at_minimum", lambda: _check_minimum(learner))]


def _check_minimum(learner):
    W = learner.function("logits_at_minimum")([list(row) for row in COUNTS])
    if not (isinstance(W, (list, tuple)) and len(W) == V and all(
            isinstance(row, (list, tuple)) and len(row) == V for row in W)):
        raise Wrong(f"logits_at_minimum must return a table [{V}][{V}] of numbers, like the "
                    f"counts; got {W!r}")
    leaves = [[Value(float(x)) for x in row] for row in W]
    total = sum(map(sum, COUNTS))
    loss = F.sum_values([F.cross_entropy(leaves[a], b) * (n / total)
                         for a, row in enumerate(COUNTS) for b, n in enumerate(row)])
    loss.backward()
    worst, a = max((max(abs(v.grad) for v in row), a) for a, row in enumerate(leaves))
    if worst > 1e-9:
        raise _not_a_minimum(W, a, worst)
    floor = -sum(n * math.log(n / sum(row)) for row in COUNTS for n in row) / total
    return (f"the gradient is 0 there (largest entry {worst:.0e}), and the loss, "
            f"{loss.data:.6f}, is the counts' own {floor:.6f}: the neural bigram's minimum "
            f"is the counting bigram")


def _not_a_minimum(W, a, worst):
    """The Wrong to raise: which row is off, and what its softmax must give."""
    row = COUNTS[a]
    frequencies = [n / sum(row) for n in row]
    advice = (f"softmax(W[{a}]) must give the frequencies N[{a}][b] / N[{a}] = "
              f"{[round(f, 4) for f in frequencies]}")
    if all(abs(float(w) - f) < 1e-9 for w, f in zip(W[a], frequencies)):
        advice = ("yours are the frequencies themselves, but the table holds logits: "
                  "which logits does softmax turn into these frequencies?")
    return Wrong(f"at your W the gradient is not 0: row {a} has an entry of {worst:.3g} "
                 f"(counts {COUNTS}). {advice}")
