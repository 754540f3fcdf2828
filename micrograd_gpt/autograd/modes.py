"""Modes: switches that change how new nodes are made, for the length of a `with` block.

    no_grad()            new Values keep no children: nothing is recorded, nothing can be
                         back-propagated, and inference is faster (enable_grad() undoes it)
    module_scope(name)   tags every new node with a module's dotted name ("blocks.0.attn")
    record_scopes()      every module called inside tags its nodes (for pictures drawn one
                         box per module)
    Tape (tape.py)       lists every new interior node, in the order it is made

A switch must cost nothing while it is off: a training step makes tens of thousands of
nodes. So none is tested per node. Instead each switch, when it changes, points the
engine's two node makers at versions that do what the switches now ask: `Value.__init__`
(for leaves and nodes made by hand) and `value._node` (for the operations' results). The
usual versions, in value.py, do nothing extra.

The switches are plain module globals, read by those versions: a global is the cheapest
thing to read. Not thread-safe, like the rest of this teaching engine.
"""
from __future__ import annotations

import contextlib

from . import value as engine
from .value import Value

__all__ = ["no_grad", "enable_grad", "is_grad_enabled", "module_scope", "record_scopes",
           "is_recording_scopes", "current_scope", "scope_of", "call_in_scope",
           "TemporarySetting", "record_into", "recording_into"]

_grad_enabled = True       # False inside `no_grad()`: new nodes keep no children
_scope = ""                # dotted name of the module whose forward is running ("" = none)
_recording_scopes = False  # True inside `record_scopes()`: modules tag their nodes
_tape = None               # inside a `Tape`: the list its interior nodes are appended to


class TemporarySetting(contextlib.ContextDecorator):
    """Set one module-level switch for the length of a `with` block, then put the old value
    back, even if the block raises. Also a decorator: `@no_grad()` wraps a function in it.

    `on_change` (if given) runs after every change: the switches here use it to pick the
    node makers. `no_grad`, `enable_grad`, `module_scope`, `record_scopes` and
    `functional.fused_ops` are all this class.
    """

    def __init__(self, namespace, name, value, on_change=None):
        self._namespace = namespace  # the globals() of the module that owns the switch
        self._name = name
        self._value = value
        self._on_change = on_change
        self._saved = []             # a stack, so one object can be entered twice

    def __enter__(self):
        self._saved.append(self._namespace[self._name])
        self._namespace[self._name] = self._value
        if self._on_change:
            self._on_change()
        return self

    def __exit__(self, *exc):
        self._namespace[self._name] = self._saved.pop()
        if self._on_change:
            self._on_change()
        return False


class no_grad(TemporarySetting):
    """Inside `with no_grad():` (or a function decorated `@no_grad()`), new Values keep no
    children and no derivatives: nothing is recorded, so nothing can be back-propagated,
    and inference is faster. The numbers are computed exactly as usual."""

    def __init__(self):
        super().__init__(globals(), "_grad_enabled", False, _choose_node_makers)


class enable_grad(TemporarySetting):
    """Turn graph recording back on inside a `no_grad()` block."""

    def __init__(self):
        super().__init__(globals(), "_grad_enabled", True, _choose_node_makers)


def is_grad_enabled():
    """True unless inside `no_grad()`."""
    return _grad_enabled


class module_scope(TemporarySetting):
    """`with module_scope("blocks.0.attn"):` tags every node created inside with that
    dotted name (read back with `scope_of(value)`), so graph drawings can group nodes by
    the module that made them. Inside `record_scopes()`, modules enter their own scope
    automatically when called."""

    def __init__(self, name):
        super().__init__(globals(), "_scope", name, _choose_node_makers)
        self.name = name


class record_scopes(TemporarySetting):
    """`with record_scopes():` every module called inside tags the nodes it creates with
    its dotted name (`blocks.0.attn`), so that `viz.draw_dot(root, collapse=True)` can
    draw the graph one box per module. Off by default: the tag costs a little on every
    node, and only pictures read it."""

    def __init__(self, enabled=True):
        super().__init__(globals(), "_recording_scopes", bool(enabled), _choose_node_makers)


def is_recording_scopes():
    """True inside `record_scopes()`."""
    return _recording_scopes


def current_scope():
    """The dotted name of the module whose forward is running now ("" outside modules,
    and always "" unless scopes are recorded)."""
    return _scope


def scope_of(node):
    """The dotted name of the module that made `node` ("" if none, or if it was made
    outside `record_scopes()` and `module_scope()`)."""
    return getattr(node, "_scope", "")


def call_in_scope(name, function, *args, **kwargs):
    """`function(*args, **kwargs)` inside `module_scope(name)`: the same effect, without
    making a context-manager object. `Module.__call__` uses it (inside record_scopes()),
    because it runs for every module at every position of every sequence."""
    global _scope
    outer = _scope
    _scope = name
    try:
        return function(*args, **kwargs)
    finally:
        _scope = outer


def record_into(nodes):
    """From now on append every new interior node to the list `nodes` (None: stop). What
    `Tape` uses; a tape records into one list at a time."""
    global _tape
    _tape = nodes
    _choose_node_makers()


def recording_into():
    """The list new interior nodes are appended to, None when no tape records."""
    return _tape


# ---- the node makers, in their versions -----------------------------------------------------
# Each switch is read only here, so an ordinary node (the usual versions) pays for none.

_usual_init = Value.__init__  # checks a leaf's number (and a node made by hand), then the node
_usual_node = engine._node    # an operation's result


def _init_without_graph(self, data, children=(), local_grads=(), op="", label=""):
    """Value() inside no_grad(): the same checks and the same number, and no children."""
    _usual_init(self, data, children, local_grads, op, label)
    self._prev = self._local_grads = ()


def _node_without_graph(data, children, local_grads, op):
    """An operation's result inside no_grad(): no children to remember, so no graph."""
    return _usual_node(data, (), (), op)


def _init_with_scope(self, data, children=(), local_grads=(), op="", label=""):
    """Value() inside record_scopes() or module_scope(): also remember the module that
    made the node (see `scope_of`), and join the tape if one records."""
    _usual_init(self, data, children, local_grads, op, label)
    _tag(self)


def _node_with_scope(data, children, local_grads, op):
    """An operation's result, tagged with its module (and on the tape, if one records)."""
    return _tag(_usual_node(data, children, local_grads, op))


def _tag(node):
    if _scope:
        node._scope = _scope
    if node._prev and _tape is not None:
        _tape.append(node)
    return node


def _init_on_tape(self, data, children=(), local_grads=(), op="", label=""):
    """Value() inside a `Tape`: a node made by hand joins the tape too."""
    _usual_init(self, data, children, local_grads, op, label)
    if children:
        _tape.append(self)


_new = object.__new__


def _node_on_tape(data, children, local_grads, op):
    """An operation's result inside a `Tape`: the usual node, listed on the tape. Written
    out rather than calling the usual version: it runs for every node of every training
    step."""
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node._prev = children
    node._local_grads = local_grads
    node._op = op
    node.label = ""
    _tape.append(node)
    return node


def _choose_node_makers():
    """Point Value.__init__ and the operations' node maker at the versions the switches
    ask for (called by every switch when it changes)."""
    if not _grad_enabled:
        Value.__init__, engine._node = _init_without_graph, _node_without_graph
    elif _recording_scopes or _scope:
        Value.__init__, engine._node = _init_with_scope, _node_with_scope
    elif _tape is not None:
        Value.__init__, engine._node = _init_on_tape, _node_on_tape
    else:
        Value.__init__, engine._node = _usual_init, _usual_node
