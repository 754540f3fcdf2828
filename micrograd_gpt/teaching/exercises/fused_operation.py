"""Checks exercise 16: two fused operations, each one node with many children.

For each: it returns one Value whose children are exactly the inputs (no node in
between), whose local derivatives are plain numbers, with the right value (no overflow
for large logits) and gradients that agree with the nudges (gradcheck, with the
constant-ratio note) and with the plain composition of small operations. Then both in
one graph, sharing their inputs, against the plain graph's gradients and size.
"""
from __future__ import annotations

import math
import random

from ...autograd import functional as F
from ...autograd.value import Value, topological_order
from .tutor import RIGHT, NotYet, Wrong, check_gradient, close, run_part


def plain_logsumexp(z):
    """ln Σ e^(z_i) from small operations (a node per exp, per +, and the log)."""
    top = max(v.data for v in z)                 # a constant: shifting changes nothing
    return F.sum_values([(v - top).exp() for v in z]).log() + top


def plain_mse(predictions, targets):
    """mean((p_i − t_i)²) from small operations."""
    return F.mean([(p - t) ** 2 for p, t in zip(predictions, targets)])


def _logsumexp_reference(numbers):
    top = max(numbers)
    return top + math.log(sum(math.exp(x - top) for x in numbers))


RNG = random.Random(16)
LOGITS = [[0.5, -1.0], [0.0, 1.0, 2.0, -3.0], [RNG.gauss(0, 2) for _ in range(6)]]
HUGE = [[1000.0, 0.0, -1000.0], [-800.0, -801.0]]      # exp overflows (or is 0) on floats
PAIRS = [([0.5, -1.0, 2.0], [1.0, 0.0, 1.5]),
         ([RNG.gauss(0, 1) for _ in range(5)], [RNG.gauss(0, 1) for _ in range(5)])]


def check(learner):
    """The parts of exercise 16."""
    parts = [run_part("logsumexp", lambda: _check_logsumexp(learner)),
             run_part("mse", lambda: _check_mse(learner))]
    alone = all(part.state == RIGHT for part in parts)
    parts.append(run_part("both in one graph", lambda: _check_together(learner, alone)))
    return parts


def _check_logsumexp(learner):
    op = learner.function("logsumexp")
    for z in LOGITS + HUGE:
        leaves = [Value(x, label=f"z{i}") for i, x in enumerate(z)]
        _one_node(op(leaves), leaves, f"logsumexp({_list(z)})", _logsumexp_reference(z))
    for z in LOGITS:
        _gradients(lambda *v: op(list(v)), z, "logsumexp",
                   "d/dz_i ln(S) = (1/S)·dS/dz_i, with S = Σ_j e^(z_j)")
    return (f"one node, right values (z = [1000, 0, −1000] included) and derivatives on "
            f"{len(LOGITS)} inputs")


def _check_mse(learner):
    op = learner.function("mse")
    for predictions, targets in PAIRS:
        leaves = [Value(x, label=f"p{i}") for i, x in enumerate(predictions)]
        right = sum((p - t) ** 2 for p, t in zip(predictions, targets)) / len(targets)
        _one_node(op(leaves, list(targets)), leaves,
                  f"mse({_list(predictions)}, {_list(targets)})", right)
        _gradients(lambda *v: op(list(v), list(targets)), predictions, "mse",
                   "each prediction appears in one term of the mean, squared")
    return f"one node, right values and derivatives on {len(PAIRS)} inputs"


def _one_node(out, leaves, call, right):
    """Raise Wrong unless `out` is one Value made straight from `leaves`, worth `right`."""
    if not isinstance(out, Value):
        raise Wrong(f"{call} returned {type(out).__name__}, not a Value: build one, "
                    f"Value(result, tuple(inputs), tuple(local derivatives), name)")
    if not (isinstance(out._prev, tuple) and isinstance(out._local_grads, tuple)):
        raise Wrong(f"{call}: the children and the local derivatives must each be a tuple, "
                    f"tuple(inputs) and tuple(derivatives); yours are a "
                    f"{type(out._prev).__name__} and a {type(out._local_grads).__name__} "
                    f"(note: `(z)` is z itself, and `(d for ...)` a generator)")
    between = [n for n in topological_order(out) if n is not out and n not in leaves]
    if between:
        raise Wrong(f"{call} made {len(between) + 1} nodes, not one: the result's "
                    f"children must be the inputs themselves, with the local derivatives "
                    f"worked out on plain numbers (its children now: "
                    f"{_kinds(out._prev)})")
    if list(out._prev) != list(leaves):
        raise Wrong(f"{call}: the result's children must be the inputs, in their order "
                    f"(tuple(inputs)); they are {_kinds(out._prev)}")
    if len(out._local_grads) != len(leaves) or not all(
            isinstance(d, (int, float)) and not isinstance(d, bool) for d in out._local_grads):
        raise Wrong(f"{call}: give one local derivative per input, each a plain number "
                    f"(a float, worked out from .data, not a Value); got "
                    f"{_kinds(out._local_grads)}")
    if not close(out.data, right, 1e-12):
        overflow = " (subtract the largest input first, as softmax does)" if max(
            abs(v.data) for v in leaves) > 500 else ""
        raise Wrong(f"{call} is {out.data!r}; it should be {right!r}{overflow}")


def _gradients(function, inputs, name, hint):
    table = check_gradient(function, inputs, names=[f"x{i}" for i in range(len(inputs))],
                           yours_label="backward()")
    if table:
        raise Wrong(f"the value is right, but not every local derivative: at {_list(inputs)} "
                    f"backward() (your local derivatives) and the nudges disagree:\n{table}\n"
                    f"Hint: {hint}.")


def _check_together(learner, alone):
    if not alone:
        raise NotYet("waits for logsumexp and mse: each must be right alone first")
    logsumexp, mse = learner.function("logsumexp"), learner.function("mse")
    z, targets = [0.3, -1.2, 2.0, 0.7], [0.0, 1.0, 0.5, -0.5]

    def build(lse, squared):
        leaves = [Value(x, label=f"z{i}") for i, x in enumerate(z)]
        loss = lse(leaves) + squared(leaves, targets) * 0.5
        loss.backward()
        return loss, [v.grad for v in leaves], len(topological_order(loss)) - len(leaves)

    loss, grads, nodes = build(logsumexp, mse)
    _, right, plain_nodes = build(plain_logsumexp, plain_mse)
    if not all(close(g, r, 1e-9) for g, r in zip(grads, right)):
        raise Wrong(f"logsumexp(z) + mse(z, t)/2 at z = {z}: backward() gives {_list(grads)}"
                    f" through yours, {_list(right)} through the plain graph")
    return (f"logsumexp(z) + mse(z, t)/2: the same gradients as the plain graph, with "
            f"{nodes} nodes beyond the inputs instead of {plain_nodes}")


def _list(numbers):
    return "[" + ", ".join(f"{x:.4g}" for x in numbers) + "]"


def _kinds(items):
    return "(" + ", ".join(type(x).__name__ for x in items) + ")"
