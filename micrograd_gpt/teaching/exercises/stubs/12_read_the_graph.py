"""Exercise 12 (chapter 3): read a drawn graph: which input gets the largest gradient, and why.

Run this file (`python 12_read_the_graph.py`): it draws the graph of

    u = x * y,   w = y * z,   v = u + w,   s = y + z,   L = v * s

at x = 3, y = -1, z = 2 into 12_graph.svg, with the local derivative d(node)/d(input) on
every arrow, as chapter 3 draws it, but *before* backward(): every box still shows
grad 0. (Without Graphviz it prints the arrows instead.) The gradients are yours to find.

Every gradient is made of the numbers on the arrows: dL/d(input) is the sum, over every
path from the input up to L, of the product of the numbers along that path. (That is
what backward() adds up, edge by edge.)

Part 1. Read the picture. PATHS: for each input, the product of the numbers along each of
its paths to L, one number per path, in any order. LARGEST: the input whose gradient is
largest in size. Before you add anything up, guess: is it the input with the most paths?
The largest value?

Part 2. Write `gradient_by_paths(edges, output, name)`: `edges` is a list of
(child, parent, local) triples, the arrows of a drawing as `edges_of(root)` below gives
them; return d output/d name, the sum over paths of the products along them. (The
gradient of the output toward itself is 1: it is where every path ends.) The checker
runs it on graphs whose paths share nodes, one with 16 paths from the same input, and
compares with backward().

Check your work:  micrograd-gpt exercise check 12
"""
from micrograd_gpt import Value
from micrograd_gpt.autograd.value import topological_order

TODO = None

PATHS = {"x": TODO, "y": TODO, "z": TODO}   # e.g. "x": [2.0, -1.5] for two paths
LARGEST = TODO                              # "x", "y" or "z"


def gradient_by_paths(edges, output, name):
    """d output / d name: the sum over every path from name to output of the product of
    the local derivatives along it. edges: (child, parent, local) triples."""
    # TODO (a function that calls itself on the parents of `name` is one way)
    raise NotImplementedError("write gradient_by_paths")


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


if __name__ == "__main__":  # python 12_read_the_graph.py: draw the picture to read
    from micrograd_gpt import GraphvizNotInstalled, draw_dot, render_graph

    L = the_graph()                         # no backward(): the boxes show grad 0
    try:
        print("wrote", render_graph(draw_dot(L, edge_labels=True), "12_graph.svg"))
    except GraphvizNotInstalled:
        print("no Graphviz here: the arrows, child -> parent, with their numbers:")
        for child, parent, local in edges_of(L):
            print(f"    {child} -> {parent}   {local:g}")
