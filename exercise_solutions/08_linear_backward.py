"""Exercise 8 (chapter 7): the backward of a linear layer. A solution."""


def linear_backward(x, W, b, dy):
    """(dx, dW, db) for y = W x + b, given dy = d loss / d y."""
    m, n = len(W), len(x)
    # x[j] reaches every y_i through W[i][j]:  dx = Wᵀ dy
    dx = [sum(W[i][j] * dy[i] for i in range(m)) for j in range(n)]
    # W[i][j] meets only x[j], only in y_i:  dW = dy xᵀ
    dW = [[dy[i] * x[j] for j in range(n)] for i in range(m)]
    # b[i] is added to y_i alone
    db = list(dy)
    return dx, dW, db
