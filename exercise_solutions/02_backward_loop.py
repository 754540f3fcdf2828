"""Exercise 2 (chapter 2): the backward loop, and the bug `=` instead of `+=`. A solution."""
from micrograd_gpt.autograd.value import topological_order


def backward(root):
    """Fill in .grad of every node below root (root included), as root.backward() does."""
    order = topological_order(root)        # children before parents
    for node in order:
        node.grad = 0.0
    root.grad = 1.0                        # d root / d root
    for node in reversed(order):           # every parent is done before its children
        for child, local in zip(node._prev, node._local_grads):
            child.grad += local * node.grad


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
    # a is used twice: d(a*a + a*b)/da = 2a + b = 7, but the buggy loop keeps only the
    # last edge's share
    return (lambda a, b: a * a + a * b, [2.0, 3.0])


ANSWER = "b"  # only a Value with two or more edges out has shares to add up
