"""Exercise 2 (chapter 2): the backward loop, and the bug `=` instead of `+=`.

Part 1. `backward()` is one loop (chapter 2). Write it: `backward(root)` must fill in
`.grad` of every node below `root`, exactly as `root.backward()` does on a fresh graph.
You get the nodes in topological order (each after its inputs) from
`topological_order(root)`; every node has `_prev` (its children, the inputs) and
`_local_grads` (d node / d child, one number per child). Start from grad(root) = 1 and
visit the nodes from the output back to the inputs, applying

    grad(child) += local × grad(node)

Part 2. `backward_with_assignment` below is the same loop with the classic bug: `=`
instead of `+=`. Most expressions hide it. Write `an_expression_that_catches_it()`: it
returns (f, inputs), a function of Values and the numbers to call it at, such that the
buggy loop gives a wrong gradient there (the checker compares it with the nudges).

Part 3. Which property must an expression have for that bug to show? Set ANSWER to
"a", "b" or "c":
    a) it must contain a nonlinear operation, such as tanh, exp or a power
    b) some Value in it must feed more than one operation, or one twice
    c) it must have more than two inputs, so that their gradients differ

Check your work:  micrograd-gpt exercise check 2
"""
from micrograd_gpt.autograd.value import topological_order


def backward(root):
    """Fill in .grad of every node below root (root included), as root.backward() does."""
    order = topological_order(root)        # children before parents
    for node in order:
        node.grad = 0.0
    # TODO: set root's gradient, then go through `order` from the end to the start and
    # pass each node's gradient on to its children
    raise NotImplementedError("write the backward loop")


def backward_with_assignment(root):
    """The same loop with the bug: each edge *sets* the child's gradient."""
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for child, local in zip(node._prev, node._local_grads):
            child.grad = local * node.grad          # the bug: = instead of +=


def an_expression_that_catches_it():
    """(f, inputs): backward_with_assignment gets f's gradient wrong at `inputs`."""
    # TODO: for example return (lambda a, b: ..., [2.0, 3.0])
    raise NotImplementedError("find an expression that catches the bug")


ANSWER = None  # TODO: "a", "b" or "c"
