"""Checks exercise 12: reading gradients off a drawn graph, as sums over paths.

The learner reads the picture of one expression (the local derivative on every arrow,
no gradients in the boxes) and gives, for each input, the product of the numbers along
each of its paths to the output, and which input's gradient is largest. Then they write
`gradient_by_paths(edges, output, name)`, checked against backward() on graphs where
paths share nodes and multiply.
"""
from __future__ import annotations

import math

from ...autograd.value import Value, topological_order
from .tutor import RIGHT, NotYet, TODO, Wrong, close, run_part

INPUTS = {"x": 3.0, "y": -1.0, "z": 2.0}


def the_graph(x=INPUTS["x"], y=INPUTS["y"], z=INPUTS["z"]):
    """L = (x*y + y*z) * (y + z), every node named as in the stub's picture."""
    x, y, z = Value(x, label="x"), Value(y, label="y"), Value(z, label="z")
    u = _named(x * y, "u")
    w = _named(y * z, "w")
    v = _named(u + w, "v")
    s = _named(y + z, "s")
    return _named(v * s, "L")


def _named(value, label):
    value.label = label
    return value


def edges_of(root):
    """The arrows of draw_dot(root, edge_labels=True) as (child, parent, local) triples."""
    return [(child.label, node.label, local) for node in topological_order(root)
            for child, local in zip(node._prev, node._local_grads)]


def path_products(edges, output, name):
    """The product of the locals along every path from `name` up to `output`."""
    if name == output:
        return [1.0]
    return [local * rest for child, parent, local in edges if child == name
            for rest in path_products(edges, output, parent)]


def _doubling(depth):
    """x feeds both inputs of every level: 2**depth paths from x to the top."""
    node = Value(0.9, label="x")
    for level in range(depth):
        node = _named(node * node * 0.5 + node, f"h{level}")
    return node


def _with_constants():
    """Constants and a tanh: every node named, the constants too."""
    a, b = Value(0.5, label="a"), Value(-1.5, label="b")
    two = Value(2.0, label="two")
    e = _named(a * b, "e")
    f = _named((e + two).tanh(), "f")
    return _named(f * a + e * e, "out")


def _label_all(root):
    """Unnamed nodes get n1, n2, ... so that every edge has two names."""
    for i, node in enumerate(topological_order(root)):
        if not node.label:
            node.label = f"n{i}"
    return root


GRAPHS = [  # (description, root, the inputs to ask about)
    ("the graph of this exercise", lambda: the_graph(), ("x", "y", "z")),
    ("L = (a*b + a)*c (exercise 3's)", lambda: _exercise_3(), ("a", "b", "c")),
    ("a = x*x*0.5 + x, four times over (16 paths from x)", lambda: _label_all(_doubling(4)),
     ("x",)),
    ("out = tanh(a*b + two)*a + (a*b)*(a*b)", lambda: _label_all(_with_constants()),
     ("a", "b", "two")),
]


def _exercise_3():
    a, b, c = Value(3.0, label="a"), Value(-2.0, label="b"), Value(4.0, label="c")
    e = _named(a * b, "e")
    return _named(_named(e + a, "d") * c, "L")


def check(learner):
    """The parts of exercise 12."""
    parts = [run_part("PATHS", lambda: _check_paths(learner)),
             run_part("LARGEST", lambda: _check_largest(learner)),
             run_part("gradient_by_paths", lambda: _check_function(learner))]
    if parts[0].state == parts[1].state == RIGHT:   # only now: it gives the sums away
        parts[1].message += f". {_why_largest()}"
    return parts


def _check_paths(learner):
    paths = learner.answer("PATHS")
    if not isinstance(paths, dict):
        raise Wrong(f"PATHS must be a dict, as in the stub; got {type(paths).__name__}")
    edges = edges_of(the_graph())
    for name in INPUTS:
        guess = _numbers(paths.get(name, TODO), f"PATHS[{name!r}]")
        right = sorted(path_products(edges, "L", name))
        if len(guess) != len(right):
            raise Wrong(f"PATHS[{name!r}] has {len(guess)} number(s), but {name} reaches L "
                        f"along another number of paths: follow every arrow out of {name}, "
                        f"then every arrow out of the node it leads to, up to L",
                        answer=f"{name} has {len(right)} path(s): {right}")
        if not all(close(g, r, 1e-6) for g, r in zip(sorted(guess), right)):
            raise Wrong(f"PATHS[{name!r}]: the number of paths is right, but not every "
                        f"product: multiply all the numbers on a path, from the arrow out "
                        f"of {name} to the arrow into L",
                        answer=f"the products along {name}'s paths: {right}")
    return "every path's product is right"


def _numbers(value, where):
    if value is TODO:
        raise NotYet(f"{where} is not filled in yet")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise Wrong(f"{where} must be a list of numbers, one per path, like [2.0, -1.5] "
                    f"(even for one path: [2.0]); got {value!r}")
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise Wrong(f"{where} must be a list of numbers, one per path; got {value!r}")
    return list(value)


def _check_largest(learner):
    guess = learner.answer("LARGEST")
    if guess not in INPUTS:
        raise Wrong(f"LARGEST must be one of {', '.join(map(repr, INPUTS))}; got {guess!r}")
    root = the_graph()
    root.backward()
    grads = {v.label: v.grad for v in topological_order(root) if v.label in INPUTS}
    right = max(grads, key=lambda name: abs(grads[name]))
    if guess != right:
        raise Wrong(f"not {guess}: add up each input's path products; the largest sum in "
                    f"size wins. Neither the number of paths nor the size of the input "
                    f"decides it: paths can cancel", answer=right)
    return f"{right} gets the largest gradient"


def _why_largest():
    """The gradients, and what the input with the most paths gets."""
    edges = edges_of(the_graph())
    sums = {name: sum(path_products(edges, "L", name)) for name in INPUTS}
    most = max(INPUTS, key=lambda name: len(path_products(edges, "L", name)))
    products = path_products(edges, "L", most)
    return (", ".join(f"dL/d{n} = {g:g}" for n, g in sums.items()) + f"; {most} has the "
            f"most paths, {len(products)}, and they add up to "
            f"{' + '.join(f'({p:g})' for p in products)} = {sum(products):g}")


def _check_function(learner):
    gradient_by_paths = learner.function("gradient_by_paths")
    for description, build, names in GRAPHS:
        root = build()
        edges = edges_of(root)
        seed = gradient_by_paths(list(edges), root.label, root.label)
        if not close(seed, 1.0):
            raise Wrong(f"gradient_by_paths(edges, {root.label!r}, {root.label!r}) gave "
                        f"{seed!r}: the output's gradient toward itself, d L/d L, is where "
                        f"every path ends")
        root.backward()
        grads = {v.label: v.grad for v in topological_order(root)}
        for name in names:
            got = gradient_by_paths(list(edges), root.label, name)
            if not close(got, grads[name], 1e-9):
                right = f"backward() gives {grads[name]!r}"
                own = description == GRAPHS[0][0]      # its numbers are Part 1's answers
                raise Wrong(f"for {description}: gradient_by_paths(edges, {root.label!r}, "
                            f"{name!r}) gave {got!r}" + ("" if own else f", {right}") + "."
                            + _advice(got, path_products(edges, root.label, name)),
                            answer=right if own else None)
    return (f"equal to backward() on {len(GRAPHS)} graphs, one with 16 paths from one "
            f"input: the gradient is the sum over paths of the products along them")


def _advice(got, products):
    if isinstance(got, bool) or not isinstance(got, (int, float)) or not math.isfinite(got):
        return " It must return one number."
    if got == 0:
        return (" Nothing reached it: start from the edges whose child is the name, and "
                "go up to their parents")
    if len(products) > 1 and any(close(got, p, 1e-9) for p in products):
        return (f" That is the product along one path, but there are {len(products)}: "
                f"add them all up")
    return " Multiply along each path; add across the paths."
