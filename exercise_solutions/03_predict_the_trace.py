"""Exercise 3 (chapter 2): predict the trace table before running trace. A solution.

Forward: e = 3·(-2) = -6, d = -6 + 3 = -3, L = -3·4 = -12.
Backward: grad(L) = 1; through the product L = d·c the local derivative toward each
factor is the other one; the sum d = e + a passes its gradient on unchanged; and a,
used twice, collects 4 from d and then -2·4 = -8 from e: 4 - 8 = -4.
"""
TODO = None

FORWARD = {"e": -6, "d": -3, "L": -12}

BACKWARD = [
    # node, child,  local, grad(node), after
    ("L", "d", 4, 1, 4),
    ("L", "c", -3, 1, -3),
    ("d", "e", 1, 4, 4),
    ("d", "a", 1, 4, 4),
    ("e", "a", -2, 4, -4),
    ("e", "b", 3, 4, 12),
]

GRADS = {"a": -4, "b": 12, "c": -3}
