"""Exercise 17 (chapter 13): a linear layer over all positions at once, and its backward.

Until now a layer ran one position at a time: x is a list of n numbers, y = W x + b. A
tensor library runs it over all T positions in one operation. On plain floats here:

    X   [T][n]   one row per position
    W   [m][n]   the weights, shared by every position
    b   [m]
    Y   [T][m]   Y[t] = W·X[t] + b at every position t, that is  Y = X·Wᵀ + b

`matmul` and `transpose` below are the two operations a tensor library would give you;
write each function with them in a line or two (plain loops are fine too).

Part 1. `linear_forward(X, W, b)`: Y.

Part 2. `linear_backward(X, W, dY)`: given dY = d loss/d Y ([T][m]), return (dX, dW, db).
Exercise 8 did one position; now there are T. Which of X, W and b belong to one
position, and which are used at every position (so that their gradient is a sum over
the positions)? Write each as one matrix product or one sum, and check the shapes:
a gradient always has the shape of what it is the gradient of.

The checker compares the forward with `Linear` position by position, and the backward
with backward() on the same layer built from Values; where one is off it shows the
table (yours, backward(), numeric) and names a result off by one constant factor.

Check your work:  micrograd-gpt exercise check 17
"""


def matmul(A, B):
    """A·B for A [r][k] and B [k][c]: [r][c]."""
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]


def transpose(A):
    """Aᵀ: rows become columns, [r][c] -> [c][r]."""
    return [list(column) for column in zip(*A)]


def linear_forward(X, W, b):
    """Y = X·Wᵀ + b: the layer at every position at once, [T][m]."""
    # TODO
    raise NotImplementedError("write linear_forward")


def linear_backward(X, W, dY):
    """(dX, dW, db) for Y = X·Wᵀ + b, given dY = d loss / d Y."""
    # TODO
    raise NotImplementedError("write linear_backward")
