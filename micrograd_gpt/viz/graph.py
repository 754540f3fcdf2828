"""Draw the computation graph behind a Value, small or GPT-sized, with Graphviz.

`draw_dot(root)` gives a `graphviz.Digraph`: one box per Value (its name, data and grad)
and one oval per operation, with arrows in the direction the numbers flow. A Jupyter
notebook shows it inline; `render_graph(dot, "graph.svg")` writes SVG, PNG or PDF.

    a ──┐
        (*)──▶ [ n1 | data -6 | grad ... ] ──▶ (+) ──▶ ...
    b ──┘

Graphs of whole models are far too big to draw node by node (one GPT training step is
tens of thousands of nodes), so nodes carry the dotted name of the module that created
them when they are built inside `modes.record_scopes()` (`scope_of(node)`, e.g.
"blocks.0.attn"; `viz.training_step.training_step_graph` does this):

* `draw_dot(root, group="module")` draws each module's nodes inside a labelled frame;
* `draw_dot(root, collapse=True)` draws one box per module, with its node count and its
  mix of operations, and arrows between modules labelled with how many edges they carry.
  That picture lays out in a second whatever the size of the graph.

Drawing needs the `graphviz` Python package (installed with micrograd-gpt) and
Graphviz's `dot` program. Without `dot`, `render_graph` still writes the DOT text (a .gv
file anyone can render later) and raises `GraphvizNotInstalled`, whose message says how to
install Graphviz. If the optional `graphviz-pure` package is installed (a self-contained
port of dot: `pip install "micrograd-gpt[viz]"`), it is used instead. The `graphviz`
package is imported only when something is drawn, so the rest of micrograd_gpt works
without it. Where no program can run (a browser page), `use_renderer` gives it a
function to draw with instead.
"""
from __future__ import annotations

import functools
import math
import os
import re
import shutil
import subprocess
import sysconfig
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..common.checks import check_choice, check_int
from ..autograd.modes import scope_of
from ..autograd.value import Value, topological_order
from ..common.files import atomic_write_bytes, check_output_path

__all__ = ["draw_dot", "draw_modules", "render_graph", "pipe_graph", "module_summary",
           "module_legend", "ModuleSummary", "node_names", "format_number",
           "GraphvizNotInstalled", "renderer_available", "check_graph_size", "check_graph_path",
           "INSTALL_HELP", "use_renderer"]

INSTALL_HELP = """\
Graphviz's `dot` program is not installed, so the graph could not be drawn.
Install it, then run the command again:
  Debian/Ubuntu:  sudo apt-get install graphviz
  macOS:          brew install graphviz
  Windows:        winget install graphviz   (or: choco install graphviz; or graphviz.org/download)
Or, without system packages: pip install graphviz-pure   (draws SVG and PNG, not PDF)"""

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
SOURCE_SUFFIXES = (".gv", ".dot")  # "render" to these by writing the DOT text itself
FALLBACK_FORMATS = {"svg", "png"}  # what graphviz-pure can write

# Colours: quiet greys for the graph's body, one accent for the output.
_FONT = "Helvetica"
_LEAF_FILL = "#e3effa"      # inputs and parameters (labelled leaves)
_CONSTANT_FILL = "#f0f0f0"  # unlabelled leaves: numbers written in the code
_NODE_FILL = "#ffffff"
_ROOT_FILL = "#fde9cf"
_OP_FILL = "#f6f6f6"
_EDGE_COLOR = "#7a7a7a"
_LABEL_COLOR = "#1d6fb8"    # local derivatives on edges


class GraphvizNotInstalled(RuntimeError):
    """Neither Graphviz's `dot` nor `graphviz-pure` can be run, so nothing was drawn.

    The message says how to install Graphviz; `source_path` is where the DOT text was
    saved instead (or None)."""

    def __init__(self, message, source_path=None):
        super().__init__(message)
        self.source_path = source_path


PACKAGE_HELP = """\
The `graphviz` Python package is not installed, so nothing can be drawn.
Install it (it comes with micrograd-gpt): pip install graphviz"""


def _graphviz():
    """The `graphviz` package, imported on first use (it is needed only for drawing)."""
    try:
        import graphviz
    except ImportError:
        raise GraphvizNotInstalled(PACKAGE_HELP) from None
    return graphviz


@functools.cache
def _drawing_class():
    """GraphDrawing: a `graphviz.Digraph` that still shows up in Jupyter when `dot` is
    missing. (Made on first use, because its base class lives in the optional package.)"""
    graphviz = _graphviz()

    class GraphDrawing(graphviz.Digraph):
        """A `graphviz.Digraph` that still shows up in Jupyter when `dot` is missing.

        Jupyter displays a Digraph by running `dot`; without it, this class tries
        `graphviz-pure`, and failing that shows the install instructions as text instead
        of a traceback. Everything else is the ordinary Digraph (`.source`, `.render`)."""

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
            if _renderer is not None:  # no program can run here (a browser page)
                return {"image/svg+xml": pipe_graph(self, "svg").decode("utf-8")}
            try:
                return super()._repr_mimebundle_(include, exclude, **kwargs)
            except graphviz.ExecutableNotFound:
                try:
                    return {"image/svg+xml": pipe_graph(self, "svg").decode("utf-8")}
                except GraphvizNotInstalled as e:
                    return {"text/plain": str(e)}

    return GraphDrawing


def check_graph_size(order, max_nodes, advice):
    """A ValueError if the graph `order` has more than `max_nodes` nodes (None: no limit);
    `advice` says why that is too many and what to do instead."""
    if max_nodes is not None and len(order) > max_nodes:
        raise ValueError(f"the graph has {len(order):,} nodes, more than "
                         f"max_nodes={max_nodes}: {advice}")


# ---------------------------------------------------------------------------------------
# Names and numbers as they appear in drawings and traces
# ---------------------------------------------------------------------------------------
def format_number(x, digits=6):
    """x with `digits` significant digits, as drawings and the trace page show numbers.

    Six digits, so a learner can redo each step by hand: on the page,
    0.00134095 × 2 = 0.0026819 checks out, where four decimals would read
    0.0013 × 2 = 0.0027. Whole numbers lose their ".0"; tiny and huge ones are scientific.

    >>> format_number(2.0), format_number(0.0013409506), format_number(-0.000012345)
    ('2', '0.00134095', '-1.2345e-05')
    """
    return f"{x:.{digits}g}"


def node_names(order, names=None):
    """A readable name for each node in `order` (a list of Values): dict Value -> str.

    A node's `label` if it has one; else its name in `names` (a dict Value -> name, or
    (name, Value) pairs as from `model.named_parameters()`); else, for a leaf, its number
    ("10", "-3": constants written in the code); else n1, n2, ... in topological order.
    Names need not be unique (two constants can both be "2"); code that needs a unique
    key uses the node's position in `order`.
    """
    given = _as_name_dict(names)
    out = {}
    taken = {v.label for v in order if v.label} | set(given.values())
    counter = 0
    for v in order:
        if v.label:
            out[v] = v.label
        elif v in given:
            out[v] = given[v]
        elif not v._prev:
            out[v] = f"{v.data:g}"
        else:
            counter += 1
            while f"n{counter}" in taken:
                counter += 1
            out[v] = f"n{counter}"
    return out


def _as_name_dict(names):
    if names is None:
        return {}
    if isinstance(names, dict):
        return names
    return {value: name for name, value in names}  # (name, Value) pairs


def node_keys(order):
    """Stable unique ids for drawing: "v0", "v1", ... by position in `order`."""
    return {v: f"v{i}" for i, v in enumerate(order)}


# ---------------------------------------------------------------------------------------
# draw_dot: one box per Value (or per module)
# ---------------------------------------------------------------------------------------
def draw_dot(root, *, edge_labels=False, rankdir="LR", group=None, collapse=False,
             depth=None, max_nodes=500, names=None, grads=None, title=None):
    """Draw the graph that computes `root` as a `graphviz.Digraph`.

    root:        the output Value (usually a loss, after `backward()` so grads show).
    edge_labels: write the local derivative d(node)/d(child) on each input edge: the
                 number backward() multiplies by (grad(child) += local × grad(node)).
    rankdir:     "LR" (inputs on the left, the default), "TB", "RL" or "BT".
    group:       None, or "module" to frame each module's nodes (by `scope_of(node)`:
                 build the graph inside `modes.record_scopes()`).
    collapse:    True to draw one box per module instead of one per node; see
                 `module_summary`. Fit for graphs of any size.
    depth:       with collapse/group: merge modules deeper than this many dotted parts
                 into their ancestor (depth=2: "blocks.0.attn.wq" -> "blocks.0").
    max_nodes:   refuse (ValueError) to draw more Values than this node by node: dot
                 would take minutes and the picture would be unreadable. None = no limit.
    names:       extra names for unlabelled nodes, e.g. `model.named_parameters()`; with
                 collapse/group, they also put each parameter in its module's box.
    grads:       dict Value -> number to show instead of `.grad` (the trace page starts
                 from zeros).
    title:       a caption drawn above the graph.

    Node ids in the DOT text (and the SVG) are stable: "node-v3" is the 4th Value in
    topological order, "op-v3" its operation, "edge-v3-0" the edge from its first input.
    """
    check_choice("rankdir", rankdir, RANKDIRS)
    check_choice("group", group, (None, "module"))
    check_int("depth", depth, 1, none_ok=True)
    check_int("max_nodes", max_nodes, 1, none_ok=True)
    _check_root(root)
    if collapse:
        return draw_modules(module_summary(root, depth=depth, names=names), rankdir, title)
    order = topological_order(root)
    check_graph_size(order, max_nodes, (
        "laid out node by node it would take dot minutes and be unreadable. Draw it with "
        "collapse=True (one box per module), or pass a larger max_nodes= (or None) if you "
        "really want every node."))
    return _draw_values(root, order, edge_labels, rankdir, group, depth, names, grads, title)


RANKDIRS = ("LR", "TB", "RL", "BT")


def _check_root(root):
    if not isinstance(root, Value):
        raise ValueError(f"root: must be a Value, got {type(root).__name__}")


def _new_graph(rankdir, title=None):
    dot = _drawing_class()(format="svg")
    dot.attr(rankdir=rankdir, fontname=_FONT, fontsize="11", nodesep="0.25",
             ranksep="0.35", bgcolor="white")
    if title:
        dot.attr(label=_plain_label(title), labelloc="t", labeljust="l", fontsize="13")
    dot.attr("node", fontname=_FONT, fontsize="10", color="#555555", penwidth="1")
    dot.attr("edge", fontname=_FONT, fontsize="9", color=_EDGE_COLOR, arrowsize="0.6",
             fontcolor=_LABEL_COLOR)
    return dot


def _draw_values(root, order, edge_labels, rankdir, group, depth, names, grads, title):
    dot = _new_graph(rankdir, title)
    # record fields run across the rank direction; { } turns them: stack them either way
    stack = "%s | data %s | grad %s" if rankdir in ("LR", "RL") else "{ %s | data %s | grad %s }"
    keys = node_keys(order)
    display = node_names(order, names)
    named = _as_name_dict(names)
    scopes = _module_of(order, depth, named) if group == "module" else {}
    frames = _frames(set(scopes.values()), rankdir) if group == "module" else {}
    for v in order:
        target = frames.get(scopes.get(v, ""), dot)
        key = keys[v]
        grad = v.grad if grads is None else grads.get(v, 0.0)
        label = stack % (_record_escape(display[v]), format_number(v.data),
                         format_number(grad))
        fill = (_ROOT_FILL if v is root else _NODE_FILL if v._prev
                else _LEAF_FILL if v.label or v in named else _CONSTANT_FILL)
        target.node(key, label=label, shape="record", style="rounded,filled",
                    fillcolor=fill, id=f"node-{key}", penwidth="2" if v is root else "1")
        if v._prev:
            op = f"{key}_op"
            target.node(op, label=_plain_label(v._op), shape="ellipse", style="filled",
                        fillcolor=_OP_FILL, fontsize="9", height="0.3", margin="0.04,0.02",
                        id=f"op-{key}")
            dot.edge(op, key, id=f"out-{key}")
            for position, (child, local) in enumerate(zip(v._prev, v._local_grads)):
                attrs = {"id": f"edge-{key}-{position}"}
                if edge_labels:
                    attrs["label"] = format_number(local)
                dot.edge(keys[child], op, **attrs)
    _attach_frames(dot, frames)
    return dot


def _record_escape(text):
    """Escape the characters that structure a record label ({ } | < > quotes and
    backslashes) and, as in every label, "&" (see `_plain_label`)."""
    return re.sub(r'([{}|<>"\\])', r"\\\1", str(text).replace("&", "&amp;"))


def _plain_label(text):
    """`text` as a label Graphviz shows as written (line breaks \\n, \\l, \\r excepted).

    Three things would change it: a label that starts with "<" and ends with ">" is read
    as an HTML-like label (markup, not text), "&lt;" and the like are read as entities, and
    backslash sequences such as \\N or \\G as the names of nodes and graphs. So &, <, >
    become entities and every backslash but those of the three line breaks is doubled."""
    text = re.sub(r"\\(?![nlr])", r"\\\\", str(text)).replace("&", "&amp;")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _truncate_scope(scope, depth):
    if depth is None or not scope:
        return scope
    return ".".join(scope.split(".")[:depth])


def _module_of(order, depth=None, names=None):
    """The module each node belongs to: its `_scope`, cut to `depth` parts.

    Parameters and inputs are made outside any module's forward, so their `_scope` is
    usually "". A leaf like that belongs to the module that owns it when `names` (a dict
    Value -> dotted name, as from `model.named_parameters()`) names it: "wte.weight[3][4]"
    belongs to `wte`. Otherwise it is put in the module that uses it, when only one does
    (a weight of blocks.0.attn.wq belongs to that module); shared leaves stay outside."""
    scopes = {v: scope_of(v) for v in order}
    owners = _owners(names or {}, depth)
    unscoped_leaves = {v for v in order if not v._prev and not scopes[v] and v not in owners}
    users = defaultdict(set)
    for v in order:
        if not unscoped_leaves.isdisjoint(v._prev):  # (a fast test, run in C)
            for child in unscoped_leaves.intersection(v._prev):
                users[child].add(scopes[v])
    module = {}
    for v in order:
        scope = scopes[v] or owners.get(v, "")
        if not scope and len(users.get(v, ())) == 1:
            scope = next(iter(users[v]))
        module[v] = _truncate_scope(scope, depth)
    return module


def _owners(names, depth):
    """Value -> the module that owns it, from dotted parameter names: the name without its
    last part ("blocks.0.ln_1.weight[2]" -> "blocks.0.ln_1"). Top-level names own nothing."""
    owners = {}
    for value, name in names.items():
        module = name.rsplit(".", 1)[0] if "." in name else ""
        if module:
            owners[value] = _truncate_scope(module, depth)
    return owners


def _parent_scope(scope, present):
    """The longest dotted prefix of `scope` that is itself a module in `present`."""
    parts = scope.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:cut])
        if prefix in present:
            return prefix
    return None


def _frames(scopes, rankdir):
    """One cluster subgraph per module scope ("" = outside every module: no frame)."""
    frames = {}
    for i, scope in enumerate(sorted(s for s in scopes if s)):
        frame = _graphviz().Digraph(name=f"cluster_{i}")
        frame.attr(label=_plain_label(scope), style="rounded,filled", color="#b8c4d0",
                   fillcolor="#fafcfe", fontname=_FONT, fontsize="11", fontcolor="#33475b",
                   labeljust="l", rankdir=rankdir)
        frames[scope] = frame
    return frames


def _attach_frames(dot, frames):
    """Put each frame inside its parent module's frame (deepest first), then into `dot`.

    `subgraph()` copies a frame's text at the moment it is called, so children must be
    complete, and attached, before their parent is."""
    present = set(frames)
    for scope in sorted(frames, key=lambda s: -s.count(".")):
        parent = _parent_scope(scope, present)
        (frames[parent] if parent else dot).subgraph(frames[scope])


# ---------------------------------------------------------------------------------------
# Collapsed: one box per module
# ---------------------------------------------------------------------------------------
@dataclass
class ModuleSummary:
    """A graph summarised by module.

    nodes:       how many Values the graph has in all.
    ops:         module name -> Counter of its nodes' operations ("leaf" for leaves).
    edges:       (from module, to module) -> how many child -> parent edges cross.
    root_module: the module that made the output.
    """

    nodes: int
    ops: dict = field(default_factory=dict)
    edges: dict = field(default_factory=dict)
    root_module: str = ""

    def describe(self, module, top=5, per_line=None):
        """ "1,234 nodes: dot 96, exp 32, ..." for one module: its `top` commonest
        operations (None: all of them), `per_line` of them a line (None: one line)."""
        counts = self.ops[module]
        parts = [f"{op} {n:,}" for op, n in counts.most_common(top)]
        if top is not None and len(counts) > top:
            parts.append("…")
        total = sum(counts.values())
        step = per_line or len(parts)
        lines = [", ".join(parts[i:i + step]) for i in range(0, len(parts), step)]
        return f"{total:,} node{'s' if total != 1 else ''}: " + ",\n".join(lines)


def module_summary(root, *, depth=None, names=None):
    """Count the nodes of `root`'s graph by module and the edges between modules.

    One pass over the graph (O(nodes + edges)): fast even for a whole training step.
    See `_module_of` and `_split_unscoped` for where the nodes made outside every
    module (parameters, inputs, the loss) are counted. `names` (e.g.
    `model.named_parameters()`) puts each parameter in the module that owns it, so a
    table shared by two modules (tied embeddings) gets a box of its own.
    """
    _check_root(root)
    check_int("depth", depth, 1, none_ok=True)
    order = topological_order(root)
    module = _split_unscoped(order, _module_of(order, depth, _as_name_dict(names)))
    ops = defaultdict(Counter)
    edges = Counter()
    module_of = module.__getitem__
    for v in order:
        here = module[v]
        ops[here][v._op or "leaf"] += 1
        if v._prev:
            # count the inputs by module in one go: a dot node has dozens of them
            for there, n in Counter(map(module_of, v._prev)).items():
                if there != here:
                    edges[(there, here)] += n
    return ModuleSummary(nodes=len(order), ops=dict(ops), edges=dict(edges),
                         root_module=module[root])


INPUTS, OUTPUTS, NO_MODULE = "(inputs)", "(outputs)", "(no module)"


def _split_unscoped(order, module):
    """Give the nodes made outside every module one of two boxes instead of one.

    A model's own glue code runs outside its submodules twice: before them (embedding
    lookups, the inputs, the parameters shared by several modules) and after them (the
    unembedding, the loss). One box for both would draw a loop, so a node that depends on
    some module's output goes to OUTPUTS, and so does a constant only such nodes use; the
    others go to INPUTS. A graph with no modules at all is one NO_MODULE box."""
    if not any(module.values()):
        return {v: NO_MODULE for v in order}
    unscoped = [v for v in order if not module[v]]  # in topological order
    after_a_module = set()  # unscoped nodes that depend on some module's output
    for v in unscoped:  # children first, so theirs are known
        # (a module's parameters are not its output: reading a table comes before it)
        if any((module[c] and c._prev) or c in after_a_module for c in v._prev):
            after_a_module.add(v)
    # a constant used only by the code after the modules (the 1/n of a mean) goes there too
    used_before = {c for v in order if v not in after_a_module for c in v._prev}
    for v in unscoped:
        if not v._prev and v not in used_before and v is not order[-1]:
            after_a_module.add(v)
    for v in unscoped:
        module[v] = OUTPUTS if v in after_a_module else INPUTS
    return module


def draw_modules(summary, rankdir="LR", title=None, legend=False):
    """Draw a `ModuleSummary` (what `draw_dot(root, collapse=True)` draws): one box per
    module with its node count and every operation it made, frames for modules inside
    modules (the frame's own nodes in a box "own nodes of NAME" inside it), and arrows
    labelled with how many edges run between two modules (thicker for more). `legend`:
    add `module_legend(summary)` under the title, to say how to read all that."""
    if legend:
        title = (title or "") + "".join(line + "\\l" for line in module_legend(summary))
    dot = _new_graph(rankdir, title)
    dot.attr("node", fontsize="13")  # a summary picture: fewer boxes, so bigger text
    dot.attr("edge", fontsize="12")
    present = set(summary.ops)
    keys = {scope: f"m{i}" for i, scope in enumerate(sorted(present))}
    # a module that contains other modules gets a frame, with its own nodes in a box inside
    parents = _frame_scopes(present)
    frames = _frames(parents, rankdir)
    for scope in sorted(present):
        # a frame carries the module's name; the box inside it holds the nodes the module
        # makes itself, between its submodules (attention's scores, the MLP's gelu)
        name = f"own nodes of {scope}" if scope in parents else scope
        counts = summary.describe(scope, top=None, per_line=4)  # \n: DOT's line break
        label = f"{_plain_label(name)}\\n{_plain_label(counts)}"
        fill = _ROOT_FILL if scope == summary.root_module else (
            "#f4f4f4" if scope.startswith("(") else "#eef3f8")
        target = frames.get(scope) or frames.get(_parent_scope(scope, parents)) or dot
        target.node(keys[scope], label=label, shape="box", style="rounded,filled",
                    fillcolor=fill, id=f"module-{keys[scope]}",
                    penwidth="2" if scope == summary.root_module else "1")
    biggest = max(summary.edges.values(), default=1)
    for (src, dst), count in sorted(summary.edges.items()):
        width = 0.8 + 2.2 * math.log1p(count) / math.log1p(biggest)
        dot.edge(keys[src], keys[dst], label=f"{count:,}", penwidth=f"{width:.2f}")
    _attach_frames(dot, frames)
    return dot


# what an operation's name in a box means, for the legend (only those in the picture)
OPERATIONS_EXPLAINED = {
    "leaf": "a Value made from a number, not computed: a weight, an input, a constant",
    "dot": "one node for a whole weighted sum Σ w·x (a fused node: a row of a matrix "
           "product)",
    "sum": "one node adding many numbers",
    "exp(x-max)": "softmax's exponentials, each shifted by the largest score so that none "
                  "overflows",
    "cross_entropy": "one node for the loss at one position (softmax and -ln p fused)",
    "inverse_rms": "one node for a norm's 1 / sqrt(mean of squares + eps), over a whole "
                   "vector",
    "softmax": "one node for a probability of a softmax (fused)",
    "log_softmax": "one node for a log-probability of a softmax (fused)",
}


def module_legend(summary):
    """How to read a `draw_modules` picture, as lines of text: what a box's counts are,
    what its operations' names mean (those in this picture), what frames and arrows are,
    and why a parameter table feeds the outputs directly when it does (tied weights)."""
    present = {op for counts in summary.ops.values() for op in counts}
    lines = ["How to read it: a box is a module; its counts are the Values (graph nodes) it "
             "made in this step, by operation, commonest first.",
             *(f"  {op}: {text}" for op, text in OPERATIONS_EXPLAINED.items()
               if op in present),
             "  + - * / and the like: one node per arithmetic operation on two numbers.",
             "A frame is a module with modules inside it; its box \"own nodes of ...\" holds "
             "what it computes between them.",
             "An arrow's number: how many edges (child -> parent) run from one box to "
             "the next."]
    for (source, target), count in sorted(summary.edges.items()):
        if target == OUTPUTS and set(summary.ops.get(source, {})) == {"leaf"}:
            lines.append(f"{source} -> (outputs), {count:,} edges: weight tying. The table "
                         f"{source} that turns tokens into vectors at the start is used "
                         "again at the end:")
            lines.append("  each output score is a dot of the last vector with one of its "
                         "rows, at every position, so every number of the table feeds "
                         "the outputs.")
    return lines


def _frame_scopes(present):
    """The modules drawn as frames: each one with modules inside it, whether or not it made
    nodes of its own (`blocks.0` makes none: its additions are `blocks.0.residual_1` and
    `_2`), except a container of one (the `blocks` of a one-block model)."""
    inside = defaultdict(set)
    for scope in present:
        parts = scope.split(".")
        for cut in range(1, len(parts)):
            inside[".".join(parts[:cut])].add(".".join(parts[:cut + 1]))
    return {scope for scope, below in inside.items() if scope in present or len(below) > 1}


# ---------------------------------------------------------------------------------------
# Rendering to files, with or without `dot`
# ---------------------------------------------------------------------------------------
_renderer = None  # set by use_renderer: draws DOT text without running a program


def use_renderer(render):
    """Draw every graph with `render(dot_source, fmt) -> bytes` instead of running Graphviz's
    programs; `use_renderer(None)` goes back to the programs.

    For places where no program can be started: in the browser page Python runs in
    WebAssembly, without processes, and passes a function that calls Graphviz compiled to
    WebAssembly. `pipe_graph`, `render_graph`, the trace page and Jupyter's inline
    pictures all draw through it."""
    global _renderer
    if render is not None and not callable(render):
        raise ValueError(f"render: must be a function (dot_source, fmt) -> bytes, or None, "
                         f"got {type(render).__name__}")
    _renderer = render


def find_fallback_renderer():
    """The path of the `graphviz-pure` program, or None if it is not installed.

    Looked for on PATH and next to this Python (a virtualenv's bin/ may not be on PATH)."""
    found = shutil.which("graphviz-pure")
    if found:
        return found
    beside = Path(sysconfig.get_path("scripts")) / (
        "graphviz-pure.exe" if os.name == "nt" else "graphviz-pure")
    return str(beside) if beside.is_file() else None


def renderer_available():
    """True if `dot` or `graphviz-pure` can be run, so SVG/PNG can be drawn."""
    return (_renderer is not None or shutil.which("dot") is not None
            or find_fallback_renderer() is not None)


def pipe_graph(dot, fmt="svg"):
    """The drawing of `dot` (a Digraph) as bytes in format `fmt` ("svg", "png", "pdf").

    Runs the function given to `use_renderer` if there is one, else Graphviz's `dot`; if it is
    missing, `graphviz-pure` (SVG and PNG only); if both
    are missing, raises GraphvizNotInstalled with the install instructions."""
    check_choice("fmt", fmt, tuple(FORMATS.values()))
    if _renderer is not None:
        return _renderer(dot.source, fmt)
    graphviz = _graphviz()
    try:
        return dot.pipe(format=fmt, quiet=True)  # quiet: its messages go in our error
    except graphviz.ExecutableNotFound:
        pass
    except graphviz.CalledProcessError as e:  # dot ran but failed: say what it said
        raise RuntimeError(f"Graphviz's dot failed: {_text(e.stderr)}") from None
    fallback = find_fallback_renderer()
    if fallback is None:
        raise GraphvizNotInstalled(INSTALL_HELP)
    if fmt not in FALLBACK_FORMATS:
        raise GraphvizNotInstalled(
            f"Graphviz's `dot` is not installed and graphviz-pure cannot write {fmt.upper()}:"
            f" write .svg or .png instead, or install Graphviz for {fmt.upper()}.\n"
            + INSTALL_HELP.split("\n", 1)[1])
    done = subprocess.run([fallback, f"-T{fmt}"], input=dot.source.encode("utf-8"),
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"graphviz-pure failed: {_text(done.stderr)}")
    return done.stdout


def _text(output):
    """A program's stderr (bytes or str) as one trimmed string."""
    if isinstance(output, bytes):
        output = output.decode("utf-8", errors="replace")
    return (output or "").strip() or "(no message)"


def render_graph(dot, path):
    """Draw `dot` into the file `path`; the format comes from the extension.

    .svg, .png, .pdf: drawn by Graphviz. .gv / .dot: the DOT text itself. The path is
    checked before anything is drawn (`files.check_output_path`), and the file is written
    atomically (a temporary file in the same folder, then renamed), so a reader never sees
    half a picture. Returns the Path written.

    Without Graphviz: writes the DOT text next to `path` (graph.svg -> graph.gv), then
    raises GraphvizNotInstalled, whose message says how to install Graphviz and where the
    DOT text is (render it later with `dot -Tsvg graph.gv -o graph.svg`). An existing .gv
    file with other contents is never replaced: the text goes to graph.2.gv (or .3, ...).
    """
    if not hasattr(dot, "source") or not hasattr(dot, "pipe"):
        raise ValueError(f"dot: must be a graphviz.Digraph (what draw_dot returns), got "
                         f"{type(dot).__name__}")
    path = check_graph_path(path)
    suffix = path.suffix.lower()
    if suffix in SOURCE_SUFFIXES:
        atomic_write_bytes(path, dot.source.encode("utf-8"))
        return path
    try:
        data = pipe_graph(dot, FORMATS[suffix])
    except GraphvizNotInstalled as e:
        source, note = _save_source(dot, path)
        raise GraphvizNotInstalled(
            f"{e}\nThe graph's DOT text was saved to {source}{note}; once Graphviz is "
            f"installed:  dot -T{FORMATS[suffix]} {source} -o {path}",
            source_path=source) from None
    atomic_write_bytes(path, data)
    return path


def check_graph_path(path, what="path"):
    """`path` as a Path if a drawing can be written there: an extension `render_graph`
    knows (.svg, .png, .pdf, .gv, .dot) and a path `files.check_output_path` accepts.
    Commands call it before they compute anything."""
    path = Path(path)
    if path.suffix.lower() not in (*FORMATS, *SOURCE_SUFFIXES):
        raise ValueError(f"{what} {str(path)!r}: the extension must be one of "
                         f"{', '.join(list(FORMATS) + list(SOURCE_SUFFIXES))}")
    check_output_path(path, what)
    return path


def _save_source(dot, path):
    """Write the DOT text beside `path` as a .gv file that replaces nothing but an
    identical one: (the path written, a note for the message)."""
    text = dot.source.encode("utf-8")
    taken = []
    for n in range(1, 100):
        source = path.with_suffix(".gv" if n == 1 else f".{n}.gv")
        try:
            if source.read_bytes() == text:
                return source, ""  # the same drawing, saved by an earlier try
        except FileNotFoundError:
            atomic_write_bytes(source, text)
            note = (f" ({', '.join(map(str, taken))} already existed and "
                    f"{'was' if len(taken) == 1 else 'were'} left untouched)" if taken else "")
            return source, note
        except (IsADirectoryError, PermissionError, OSError):
            pass
        taken.append(source)
    raise GraphvizNotInstalled(f"Graphviz is not installed, and {path.with_suffix('.gv')} "
                               "and 98 more names for the DOT text are taken")
