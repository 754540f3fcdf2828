"""Exercise 17 (chapter 13): a linear layer over all positions at once, and its backward.
A solution.

X[t] meets W at position t only, so dX[t] = dY[t]·W: all rows at once, dX = dY·W. W and
b are used at every position, so their gradients add up over the positions (the `+=` of
chapter 2, a matrix at a time): dW = Σ_t dY[t]ᵀ·X[t] = dYᵀ·X, db = Σ_t dY[t]. Shapes:
dX [T][m]·[m][n] = [T][n] like X; dW [m][T]·[T][n] = [m][n] like W.
"""


def matmul(A, B):
    """A·B for A [r][k] and B [k][c]: [r][c]."""
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]


def transpose(A):
    """Aᵀ: rows become columns, [r][c] -> [c][r]."""
    return [list(column) for column in zip(*A)]


def linear_forward(X, W, b):
    """Y = X·Wᵀ + b: the layer at every position at once, [T][m]."""
    return [[y + b_i for y, b_i in zip(row, b)] for row in matmul(X, transpose(W))]


def linear_backward(X, W, dY):
    """(dX, dW, db) for Y = X·Wᵀ + b, given dY = d loss / d Y."""
    dX = matmul(dY, W)                                  # [T][m]·[m][n] = [T][n]
    dW = matmul(transpose(dY), X)                       # [m][T]·[T][n]: summed over t
    db = [sum(column) for column in zip(*dY)]           # summed over t
    return dX, dW, db
