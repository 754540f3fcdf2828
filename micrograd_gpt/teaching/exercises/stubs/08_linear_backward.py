"""Exercise 8 (chapter 7): the backward of a linear layer.

On plain floats: x is a list of n numbers, W a list of m rows of n numbers, b a list of m.
The layer computes y = W x + b, that is y_i = Σ_j W[i][j]·x[j] + b[i].

Given dy (d loss/d y, m numbers), return (dx, dW, db): the gradient of the loss toward x
(n numbers), W (m rows of n) and b (m numbers). Derive them first: which outputs does
x[j] reach, and through which weights? Which one input does W[i][j] meet?

The checker compares each with backward() on the same layer built from Values, and where
one is off shows the table (yours, backward(), numeric) at that input.

Check your work:  micrograd-gpt exercise check 8
"""


def linear_backward(x, W, b, dy):
    """(dx, dW, db) for y = W x + b, given dy = d loss / d y."""
    # TODO
    raise NotImplementedError("write linear_backward")
