"""Exercise 12 (chapter 3): read a drawn graph: which input gets the largest gradient, and why.
A solution.

Reading the arrows: L = v·s passes s = 1 to v and v = -5 to s; the sums pass 1; the
products pass the other factor. x has one path, x -> u -> v -> L: (-1)(1)(1) = -1. y has
three: through u, 3·1·1 = 3; through w, 2·1·1 = 2; through s, 1·(-5) = -5. They cancel:
dL/dy = 0, although y has the most paths. z has two: through w, (-1)·1·1 = -1; through
s, 1·(-5) = -5; dL/dz = -6, the largest, though x (3) is the largest input.
"""
from micrograd_gpt import Value
from micrograd_gpt.autograd.value import topological_order

TODO = None

PATHS = {"x": [-1.0], "y": [3.0, 2.0, -5.0], "z": [-1.0, -5.0]}
LARGEST = "z"


def gradient_by_paths(edges, output, name):
    """d output / d name: the sum over every path from name to output of the product of
    the local derivatives along it. edges: (child, parent, local) triples."""
    if name == output:
        return 1.0                          # d output / d output: where every path ends
    # every arrow out of `name` starts its own paths: local × (the parent's sum over its
    # paths); a child used twice by one parent has two arrows, so two terms
    return sum(local * gradient_by_paths(edges, output, parent)
               for child, parent, local in edges if child == name)


def the_graph():
    """L = (x*y + y*z) * (y + z) at x = 3, y = -1, z = 2, every node named."""
    x, y, z = Value(3.0, label="x"), Value(-1.0, label="y"), Value(2.0, label="z")
    u = x * y
    w = y * z
    v = u + w
    s = y + z
    L = v * s
    for node, name in ((u, "u"), (w, "w"), (v, "v"), (s, "s"), (L, "L")):
        node.label = name
    return L


def edges_of(root):
    """The arrows of draw_dot(root, edge_labels=True): (child, parent, local) triples."""
    return [(child.label, node.label, local) for node in topological_order(root)
            for child, local in zip(node._prev, node._local_grads)]
