"""Exercise 3 (chapter 2): predict the trace table before running trace.

Take this expression, with a = 3, b = -2, c = 4:

    e = a * b
    d = e + a
    L = d * c

Work out, with pencil and paper, what `print_trace(trace(L))` would print; then fill in
the numbers below. Do not run trace first: the point is to predict it.

FORWARD: the value of each node.

BACKWARD: one row per use of the chain rule, in the order backward() takes them (from the
output back to the inputs; each node's inputs in the order they were written). The node
and child of each row are given; fill in the three numbers:

    local         d node / d child          (for a product: the other factor)
    grad(node)    the node's gradient when it passes it on
    after         grad(child) after the update grad(child) += local × grad(node)

GRADS: the final gradient of each input, dL/da, dL/db, dL/dc.

Check your work:  micrograd-gpt exercise check 3   (it says which cell is off, and why)
"""
TODO = None

FORWARD = {"e": TODO, "d": TODO, "L": TODO}

BACKWARD = [
    # node, child,  local, grad(node), after
    ("L", "d", TODO, TODO, TODO),
    ("L", "c", TODO, TODO, TODO),
    ("d", "e", TODO, TODO, TODO),
    ("d", "a", TODO, TODO, TODO),
    ("e", "a", TODO, TODO, TODO),
    ("e", "b", TODO, TODO, TODO),
]

GRADS = {"a": TODO, "b": TODO, "c": TODO}
