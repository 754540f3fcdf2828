"""Backpropagation one step at a time: every forward value and every gradient update.

`trace(root)` replays what `root.backward()` does, and writes each step down:

* forward: every node's value, in topological order (each node after its inputs);
* backward: start with grad(root) = 1, then visit the nodes from the output back to the
  inputs; for each node and each of its inputs, one update

      grad(child) += local × grad(node)        (local = d node / d child)

  with all the numbers: the local derivative, the node's gradient, the product, and the
  child's gradient before and after.

It follows `backward()`'s rules exactly, as on a freshly built graph: every gradient starts
at 0, and a node whose gradient is still 0 when it is reached passes nothing on (a
"skip": this is why nothing flows back through a relu that was off). So the gradients at
the end of the trace are the ones `backward()` gives. The Values themselves are not
touched: the trace keeps its own gradients.

`print_trace(trace(root))` prints the steps as aligned tables; `save_trace_html(root, path)`
writes a page that walks through the backward pass on the drawn graph, one update per
click (Prev / Next buttons or the arrow keys).
"""
from __future__ import annotations

import html
import json
import math
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..common.checks import check_instance, check_int, check_number
from ..autograd.errors import NonFiniteGradientError
from ..autograd.value import Value, topological_order
from ..common.files import atomic_write_bytes
from .graph import (GraphvizNotInstalled, check_graph_size, draw_dot, format_number, node_keys,
                  node_names, pipe_graph)

__all__ = ["trace", "Trace", "NodeInfo", "ForwardStep", "SeedStep", "BackwardStep",
           "SkipStep", "format_trace", "print_trace", "trace_tables_html", "trace_html",
           "save_trace_html"]


# ---------------------------------------------------------------------------------------
# The step records
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NodeInfo:
    """One Value of the traced graph: `key` is unique ("v0", "v1", ... in topological
    order), `name` is for reading (its label, a constant's number, or n1, n2, ...)."""

    key: str
    name: str
    op: str                # "" for a leaf
    data: float
    children: tuple        # keys of the inputs, in order
    local_grads: tuple     # d(this)/d(input), one per input
    labelled: bool         # True for named leaves: inputs and parameters


@dataclass(frozen=True)
class ForwardStep:
    """Node `name` got its value: `formula` says from what (e.g. "n1 = a * b")."""

    kind = "forward"
    index: int
    key: str
    name: str
    formula: str
    value: float


@dataclass(frozen=True)
class SeedStep:
    """Backward starts here: grad(output) = `grad` (1 for d output / d output)."""

    kind = "seed"
    index: int
    key: str
    name: str
    grad: float


@dataclass(frozen=True)
class BackwardStep:
    """One use of the chain rule, along the edge child -> node:

        grad(child) += local × grad(node)
        child_grad_after = child_grad_before + contribution,  contribution = local × node_grad
    `position` says which input of the node the child is (a*a has two edges from a)."""

    kind = "backward"
    index: int
    node_key: str
    node: str
    child_key: str
    child: str
    position: int
    local: float
    node_grad: float
    contribution: float
    child_grad_before: float
    child_grad_after: float


@dataclass(frozen=True)
class SkipStep:
    """Node `node` has gradient 0 when reached: backward() passes nothing on from it."""

    kind = "skip"
    index: int
    key: str
    node: str


@dataclass
class Trace:
    """The whole replay: the nodes, the forward steps, then the backward steps.

    `steps` (also iteration and len()) gives forward then backward steps; `grads` maps
    each node's key to its final gradient, `grad(name)` looks one up by name.
    """

    nodes: list
    forward: list
    backward: list
    root_key: str
    grads: dict = field(default_factory=dict)

    @property
    def steps(self):
        return self.forward + self.backward

    def __iter__(self):
        return iter(self.steps)

    def __len__(self):
        return len(self.forward) + len(self.backward)

    def __repr__(self):  # the tables (at most 40 rows each), not a dump of every record
        return format_trace(self, max_rows=REPR_ROWS)

    def _repr_html_(self):  # what a notebook shows
        return trace_tables_html(self, max_rows=REPR_ROWS)

    def grad(self, name):
        """The final gradient of the node called `name` (ValueError if none or several)."""
        keys = [n.key for n in self.nodes if n.name == name]
        if len(keys) != 1:
            found = "no node" if not keys else f"{len(keys)} nodes"
            raise ValueError(f"grad: {found} named {name!r} in this trace")
        return self.grads[keys[0]]


# ---------------------------------------------------------------------------------------
# Building the trace
# ---------------------------------------------------------------------------------------
def trace(root, grad=1.0, names=None):
    """Replay the forward and backward pass of `root`'s graph, step by step; see the
    module docstring. `grad` is the starting gradient d(output)/d(root) (1.0); `names`
    gives extra node names (as for `viz.draw_dot`). Returns a `Trace`."""
    if not isinstance(root, Value):
        raise ValueError(f"root: must be a Value, got {type(root).__name__}")
    order = topological_order(root)
    keys = node_keys(order)
    display = node_names(order, names)
    nodes = [NodeInfo(keys[v], display[v], v._op, v.data, tuple(keys[c] for c in v._prev),
                      tuple(v._local_grads), bool(v.label) and not v._prev) for v in order]
    forward = [ForwardStep(i, keys[v], display[v], _formula(v, display), v.data)
               for i, v in enumerate(order)]
    grad = check_number("grad", grad)  # d(output)/d(root): a finite number
    backward, grads = _replay_backward(root, grad, order, keys, display)
    return Trace(nodes, forward, backward, keys[root], {keys[v]: grads[v] for v in order})


def _replay_backward(root, grad, order, keys, display):
    """backward(), written out: every gradient starts at 0 (a fresh graph), the root's is
    `grad`, and the nodes are visited from the output back to the inputs. Returns (the
    steps, the final gradient of every node). A gradient that overflows stops the replay
    with a NonFiniteGradientError naming the node and the step, as backward() would."""
    grads = {v: 0.0 for v in order}
    grads[root] += grad
    backward = [SeedStep(0, keys[root], display[root], grads[root])]
    for node in reversed(order):
        g = grads[node]
        if not node._prev:
            continue  # a leaf: nothing below it
        if g == 0.0:
            backward.append(SkipStep(len(backward), keys[node], display[node]))
            continue
        for position, (child, local) in enumerate(zip(node._prev, node._local_grads)):
            before = grads[child]
            contribution = local * g
            grads[child] = before + contribution
            if not math.isfinite(grads[child]):
                raise NonFiniteGradientError(
                    f"trace: at backward step {len(backward) + 1} the gradient of "
                    f"{display[child]} becomes {grads[child]!r}: {display[node]} passes it "
                    f"local × grad = {local:.6g} × {g:.6g} = {contribution!r}, added to "
                    f"{before:.6g}; that is too large for a float (the numbers are too large "
                    "somewhere above it: scale the inputs down)")
            backward.append(BackwardStep(
                len(backward), keys[node], display[node], keys[child], display[child],
                position, local, g, contribution, before, grads[child]))
    return backward, grads


_INFIX = {"+", "-", "*", "/", "**"}


def _formula(v, display, most=6):
    """ "n1 = a * b", "n3 = tanh(n2)", "n5 = n4 ** 2", "a = input", "10 = constant"."""
    name = display[v]
    if not v._prev:
        return f"{name} = {'input' if v.label else 'constant'}"
    args = [display[c] for c in v._prev]
    if v._op in _INFIX and len(args) == 2:
        return f"{name} = {args[0]} {v._op} {args[1]}"
    if v._op.startswith("**") and len(args) == 1:  # x ** 2 is stored as op "**2"
        return f"{name} = {args[0]} ** {v._op[2:]}"
    if v._op == "neg":
        return f"{name} = -{args[0]}"
    if len(args) > most:
        args = args[:most - 1] + [f"… {len(args) - most + 1} more"]
    return f"{name} = {v._op}({', '.join(args)})"


# ---------------------------------------------------------------------------------------
# The terminal tables
# ---------------------------------------------------------------------------------------
def _num(x):
    return f"{x:.6g}"


def _table(header, rows, right=()):
    """Rows of strings as aligned columns; columns in `right` are right-aligned. A row
    that is a plain string (the "… more rows …" gap) is printed as it is."""
    table_rows = [header] + [r for r in rows if not isinstance(r, str)]
    widths = [max(len(str(r[i])) for r in table_rows) for i in range(len(header))]

    def line(row):
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule] + [r if isinstance(r, str) else line(r) for r in rows])


def _rows_with_limit(rows, max_rows):
    if max_rows is None or len(rows) <= max_rows:
        return rows
    half = max_rows // 2
    hidden = len(rows) - 2 * half
    return rows[:half] + [f"  … {hidden:,} more rows …"] + rows[-half:]


def format_trace(t, max_rows=None):
    """The trace as text: a forward table, a backward table, and the final gradients.

    max_rows: show at most this many rows of each table (the first and last halves).
    """
    check_instance("t", t, Trace, "a Trace (what trace(root) returns)")
    check_int("max_rows", max_rows, 2, none_ok=True)
    fwd, bwd, final = _trace_rows(t)
    parts = [
        "Forward pass: each value, computed after its inputs",
        _table(["step", "node = formula", "value"], _rows_with_limit(fwd, max_rows), {0, 2}),
        "",
        "Backward pass: grad(child) += local × grad(node), from the output back to the inputs",
        _table(["step", "node", "child", "local", "grad(node)", "local×grad",
                "grad(child) before -> after"],
               _rows_with_limit(bwd, max_rows), {0, 3, 4, 5}),
        "",
        "Gradients at the end (what backward() gives)",
        _table(["name", "data", "grad"], _rows_with_limit(final, max_rows), {1, 2}),
    ]
    return "\n".join(parts)


REPR_ROWS = 40  # how many rows of each table a Trace shows of itself


def trace_tables_html(t, max_rows=None):
    """The three tables of `format_trace` as HTML (a notebook shows a Trace this way)."""
    check_int("max_rows", max_rows, 2, none_ok=True)
    fwd, bwd, final = _trace_rows(t)
    return "".join([
        _html_table("Forward pass: each value, computed after its inputs",
                    ["step", "node = formula", "value"], _rows_with_limit(fwd, max_rows)),
        _html_table("Backward pass: grad(child) += local × grad(node), from the output "
                    "back to the inputs",
                    ["step", "node", "child", "local", "grad(node)", "local×grad",
                     "grad(child) before -> after"], _rows_with_limit(bwd, max_rows)),
        _html_table("Gradients at the end (what backward() gives)", ["name", "data", "grad"],
                    _rows_with_limit(final, max_rows)),
    ])


def _trace_rows(t):
    """The rows (lists of strings) of the three tables: forward, backward, final grads."""
    fwd = [[str(s.index + 1), s.formula, _num(s.value)] for s in t.forward]
    bwd = [[str(s.index + 1), *_backward_cells(s)] for s in t.backward]
    final = [[n.name, _num(n.data), _num(t.grads[n.key])] for n in t.nodes
             if n.labelled] or [[n.name, _num(n.data), _num(t.grads[n.key])] for n in t.nodes]
    return fwd, bwd, final


def _backward_cells(s):
    if s.kind == "seed":
        return [s.name, "", "", "", "",
                f"grad({s.name}) = {_num(s.grad)}  (the output: d{s.name}/d{s.name})"]
    if s.kind == "skip":
        return [s.node, "", "", "", "", f"grad({s.node}) = 0: nothing to pass on"]
    return [s.node, s.child, _num(s.local), _num(s.node_grad), _num(s.contribution),
            f"{_num(s.child_grad_before)} -> {_num(s.child_grad_after)}"]


def _html_table(caption, header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        f"<tr><td colspan='{len(header)}'>{html.escape(r.strip())}</td></tr>"
        if isinstance(r, str) else
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
        for r in rows)
    return (f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr>"
            f"</thead><tbody>{body}</tbody></table>")


def print_trace(t, max_rows=None, file=None):
    """Print `format_trace(t, max_rows)` (to stdout, or `file`)."""
    print(format_trace(t, max_rows), file=file or sys.stdout)


# ---------------------------------------------------------------------------------------
# The HTML page
# ---------------------------------------------------------------------------------------
def trace_html(root, title=None, names=None, max_nodes=200):
    """A self-contained HTML page that walks through `root`'s backward pass.

    The page holds the graph as inline SVG (drawn with every gradient at 0), the steps
    as JSON, and a little JavaScript: Prev / Next (or ← / →) move one update at a time,
    highlight the node and edge being processed, show the arithmetic, and update the
    gradients in the graph and in the table. Nothing is fetched from the network.
    Stable ids for reading the page: `grad-<key>` holds a node's running gradient
    (with `data-name` and `data-value` attributes), `step-counter`, `explain`.
    Without Graphviz the page has the table and the steps but no drawing.
    """
    if not isinstance(root, Value):
        raise ValueError(f"root: must be a Value, got {type(root).__name__}")
    check_int("max_nodes", max_nodes, 1, none_ok=True)
    order = topological_order(root)
    check_graph_size(order, max_nodes, (
        "a page that steps through every update is for small graphs. Trace a smaller "
        "expression, print the table with format_trace(trace(root), max_rows=...), or pass "
        "a larger max_nodes=."))
    t = trace(root, names=names)
    # the page starts every gradient at 0 and writes each new one into the node's box, so
    # each box is drawn wide enough for the longest number it will show
    dot = draw_dot(root, edge_labels=True, max_nodes=max_nodes, names=names,
                   grads=_widest_grads(t, order))
    try:
        svg = _inline_svg(pipe_graph(dot, "svg").decode("utf-8"))
    except GraphvizNotInstalled:
        svg = ('<p class="nograph">The graph is not drawn here because Graphviz is not '
               'installed (see <code>micrograd-gpt graph --help</code>).</p>')
    data = {
        "root": t.root_key,
        "nodes": [{"key": n.key, "name": n.name, "op": n.op, "data": n.data,
                   "dataText": format_number(n.data), "labelled": n.labelled}
                  for n in t.nodes],
        "steps": [_step_json(s) for s in t.backward],
        "summary": _summary_json(t),
    }
    title = title or f"Backpropagation through {t.nodes[-1].name if t.nodes else 'a graph'}"
    return fill_template(_template(), {"TITLE": html.escape(str(title), quote=True),
                                       "SVG": svg, "DATA": script_json(data)})


def save_trace_html(root, path, title=None, names=None, max_nodes=200):
    """Write `trace_html(...)` to `path` atomically; returns the Path."""
    path = Path(path)
    atomic_write_bytes(path, trace_html(root, title, names, max_nodes).encode("utf-8"))
    return path


def _widest_grads(t, order):
    """Value -> the gradient, among all it takes during the trace, whose text is longest."""
    seen = {n.key: [0.0] for n in t.nodes}
    for s in t.backward:
        if s.kind == "seed":
            seen[s.key].append(s.grad)
        elif s.kind == "backward":
            seen[s.child_key].append(s.child_grad_after)
    keys = [n.key for n in t.nodes]  # the trace's keys follow `order`
    return {v: max(seen[key], key=lambda g: len(format_number(g)))
            for v, key in zip(order, keys)}


_PLACEHOLDER = re.compile(r"\{\{([A-Z]+)\}\}")


def fill_template(template, values):
    """`template` with every `{{NAME}}` replaced by `values[NAME]`, in one pass.

    One pass matters: text that has been put in is never searched again, so a label that
    happens to contain "{{DATA}}" stays that text instead of pulling the page's data into
    the middle of the HTML. Each value must already be escaped for where it goes."""
    missing = set(_PLACEHOLDER.findall(template)) - set(values)
    if missing:
        raise ValueError(f"template: no value for {', '.join(sorted(missing))}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def script_json(data):
    """`data` as JSON that is safe inside an HTML `<script>` element.

    Inside <script> the HTML parser still looks for "</script>" (which would end it) and
    "<!--" (which changes how it looks for the end), so "<", ">" and "&" are written as
    the JSON escapes \\u003c, \\u003e, \\u0026, which JSON.parse reads back as the same
    characters. U+2028 and U+2029 are escaped too (old JavaScript engines end a line
    there), and every other non-ASCII character is escaped by ensure_ascii. Non-finite
    numbers, which JSON cannot hold, become the strings "inf", "-inf", "nan"."""
    text = json.dumps(_finite_or_text(data), ensure_ascii=True, allow_nan=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def _finite_or_text(value):
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: _finite_or_text(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_text(item) for item in value]
    return value


def _step_json(s):
    d = asdict(s)
    d["kind"] = s.kind
    if s.kind == "backward":
        d["text"] = {k: format_number(d[k]) for k in (
            "local", "node_grad", "contribution", "child_grad_before", "child_grad_after")}
    elif s.kind == "seed":
        d["text"] = {"grad": format_number(s.grad)}
    return d


def _summary_json(t):
    """What the page says after the last step: how many updates and skips backward made,
    and the final gradient of every named input (the numbers the pass was for)."""
    named = [n for n in t.nodes if n.labelled and not n.op]
    return {"output": t.nodes[-1].name if t.nodes else "",
            "updates": sum(s.kind == "backward" for s in t.backward),
            "skips": sum(s.kind == "skip" for s in t.backward),
            "inputs": [{"name": n.name, "grad": format_number(t.grads.get(n.key, 0.0))}
                       for n in named]}


def _inline_svg(svg):
    """Graphviz's SVG file, made fit to sit inside HTML: no XML prolog, scalable width."""
    start = svg.find("<svg")
    svg = svg[start:]
    # drop the fixed width/height in pt so CSS can size it; the viewBox keeps the shape
    head_end = svg.find(">")
    head = svg[:head_end]
    for attr in ("width", "height"):
        i = head.find(f' {attr}="')
        if i >= 0:
            j = head.find('"', i + len(attr) + 3)
            head = head[:i] + head[j + 1:]
    return head + ' id="graph"' + svg[head_end:]


def _template():
    """The page's HTML, CSS and JavaScript, kept in a file of their own next to this one."""
    return Path(__file__).with_name("_trace_template.html").read_text(encoding="utf-8")
