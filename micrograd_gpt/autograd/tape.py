"""A Tape: the nodes of a computation, listed in the order they were made, so that
backward needs no search of the graph.

`backward()` must first find the nodes below the loss, each after its children: a walk
over every edge of the graph (`topological_order`). But every node is made after its
children, so the list of nodes in the order they were made, read backwards, is already
an order for backward. A `Tape` keeps that list while a graph is built:

    with Tape() as tape:
        loss = model.loss(tokens)
    tape.backward(loss)            # what loss.backward() computes, without the search

A model's `loss` does this by itself (the decorator `record_for_backward`): the loss it
returns keeps its tape, and `loss.backward()` walks the tape. So a learner's own loop,
`model.zero_grad(); model.loss(tokens).backward(); optimizer.step()`, is as fast as the
trainer's step, with nothing to switch on. docs/12_speed.md measures both.
"""
from __future__ import annotations

import functools
import gc
import weakref
from contextlib import contextmanager
from operator import attrgetter

from . import modes
from .errors import check_leaf_gradients, seed_gradient
from .value import Value, propagate, topological_order

__all__ = ["Tape", "record_for_backward", "cyclic_gc_paused"]


class Tape:
    """Records the interior nodes made while it is active, in the order they are made, so
    that `tape.backward(root)` needs no search of the graph and no sort.

    What it back-propagates through is what it recorded: the operations made inside the
    `with` block, as TensorFlow's GradientTape does. A Value made before the block is an
    input of the recorded computation (it gets its gradient, but passes nothing on). For
    a model's forward pass, built from parameters and token ids, that is the whole graph;
    `covers(root)` checks it (the trainer does, on its first step).

    The tape holds its nodes (not the other way round), so they live as long as the tape
    does; dropping both the tape and the loss frees the graph. Tapes do not nest.
    """

    def __init__(self):
        self.nodes = []  # the interior nodes made inside, oldest first

    def __enter__(self):
        if modes.recording_into() is not None:
            raise ValueError("Tape: another Tape is already recording; tapes do not nest")
        modes.record_into(self.nodes)
        return self

    def __exit__(self, *exc):
        modes.record_into(None)
        return False

    def backward(self, root, grad=1.0, leaves=()):
        """`root.backward(grad)` over the recorded nodes: every recorded node up to root
        starts from gradient 0 (root from `grad`), then the nodes pass their gradients
        on, newest first. `leaves`: Values whose gradients must be finite afterwards
        (the parameters: the tape records operations, so it does not know the leaves)."""
        grad = seed_gradient(grad)
        order = self.nodes[:self._position(root) + 1]
        propagate(root, grad, order)
        check_leaf_gradients(leaves, order)

    def covers(self, root):
        """True if every interior node `root` depends on was recorded by this tape (then
        `backward(root)` gives exactly what `root.backward()` gives). Searches the graph:
        a check to run once, not every step."""
        recorded = set(self.nodes)
        return all(node in recorded for node in topological_order(root) if node._prev)

    def _position(self, root):
        nodes = self.nodes
        if nodes and nodes[-1] is root:  # the usual case: the loss was made last
            return len(nodes) - 1
        for i in range(len(nodes) - 1, -1, -1):
            if nodes[i] is root:
                return i
        raise ValueError("Tape.backward: root was not made while this tape was recording "
                         "(a leaf, or a Value from outside the `with` block); use "
                         "root.backward() instead")

    def __len__(self):
        return len(self.nodes)

    def __repr__(self):
        return f"Tape({len(self.nodes):,} nodes)"


@contextmanager
def cyclic_gc_paused():
    """Switch off Python's *cyclic* garbage collector inside the block (restored after).

    Python frees most objects by reference counting, the moment the last reference goes.
    The cyclic collector is an extra pass for objects that refer to each other in a loop;
    it runs every few hundred new objects and walks the objects alive at that moment.
    Building a graph makes thousands of nodes that all stay alive until backward is done,
    so the collector would walk them again and again, finding nothing: a graph has no
    cycles (a node points only to older nodes, its children). Reference counting still
    frees the whole graph as soon as the loss is dropped, so memory does not grow.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def record_for_backward(build):
    """Decorator for a model's method that builds a graph and returns its root (`loss`):
    the graph is built on a Tape, with the cyclic garbage collector paused, and the root
    keeps the tape, so that `root.backward()` walks it instead of searching the graph.

    The gradients are exactly those of the search: the root keeps its tape only when the
    tape holds every interior node below it, that is, when the model's parameters are
    leaves (checked every time, cheaply) and its forward makes its graph from them
    (checked by a search the first time a model is seen). Otherwise `backward()` searches,
    as it always may. Inside another Tape (the trainer's) or `no_grad()` the method runs
    as it is.
    """
    @functools.wraps(build)
    def build_on_a_tape(model, *args, **kwargs):
        if modes.recording_into() is not None or not modes.is_grad_enabled():
            return build(model, *args, **kwargs)
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            with Tape() as tape:
                root = build(model, *args, **kwargs)
            _hand_over(tape, root, model)
        finally:  # (last: a collection now would walk the whole new graph once)
            if gc_was_enabled:
                gc.enable()
        return root
    return build_on_a_tape


_has_children = attrgetter("_prev")
_models_seen = weakref.WeakSet()  # models whose forward was found to make its own graph


def _hand_over(tape, root, model):
    """Give `tape` to `root` if it holds every interior node below root (see above)."""
    nodes = tape.nodes
    if type(root) is not Value or not nodes or nodes[-1] is not root:
        return
    try:
        leaves = model.parameters()
    except ValueError:  # no Values to list (a float copy whose forward made Values anyway)
        return
    if any(map(_has_children, leaves)):  # a parameter computed from others: search instead
        return
    if model not in _models_seen:
        if not tape.covers(root):
            return
        _models_seen.add(model)
    nodes.pop()  # root keeps the nodes below it, not itself: no reference cycle
    root._tape = _TapeBelow(nodes, leaves)


class _TapeBelow:
    """What a root keeps of the tape it was built on: the interior nodes made before it
    (oldest first) and the leaves whose gradients backward checks (the parameters)."""

    __slots__ = ("nodes", "leaves")

    def __init__(self, nodes, leaves):
        self.nodes = nodes
        self.leaves = leaves

    def backward_from(self, root, grad):
        """`root.backward(grad)` over the recorded nodes (grad already checked), with the
        cyclic collector still paused: the graph built while it was paused is new to it,
        and a collection now would walk all of it once (`loss.backward()` then frees it)."""
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            order = self.nodes + [root]
            propagate(root, grad, order)
            check_leaf_gradients(self.leaves, order)
        finally:
            if gc_was_enabled:
                gc.enable()
