"""Exercise 18 (chapter 14): attention over all positions at once, with a causal mask.
A solution.

Row 0 of out is V[0]: position 0 sees only itself, with weight 1. The mask must come
before the softmax: a score of −inf becomes a weight of exactly 0 and the other weights
of the row still sum to 1; zeroing weights after the softmax would leave rows that sum
to less than 1, an average of the values no longer.
"""
import math


def matmul(A, B):
    """A·B for A [r][k] and B [k][c]: [r][c]."""
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]


def transpose(A):
    """Aᵀ: rows become columns, [r][c] -> [c][r]."""
    return [list(column) for column in zip(*A)]


def softmax(row):
    """The probabilities of one row of scores (−inf gives 0)."""
    top = max(row)                                  # finite: s = t is never masked
    exps = [math.exp(x - top) for x in row]
    return [e / sum(exps) for e in exps]


def causal_attention(Q, K, V):
    """One head over all positions: softmax(mask(Q·Kᵀ/√hd))·V, [T][hd]."""
    scale = 1.0 / math.sqrt(len(Q[0]))
    S = matmul(Q, transpose(K))                     # [T][T]: every query with every key
    masked = [[score * scale if s <= t else -math.inf for s, score in enumerate(row)]
              for t, row in enumerate(S)]           # no position sees a later one
    return matmul([softmax(row) for row in masked], V)


def self_attention(X, Wq, Wk, Wv, Wo, num_heads):
    """Multi-head causal self-attention over all positions of X [T][d]: [T][d]."""
    Q, K, V = (matmul(X, transpose(W)) for W in (Wq, Wk, Wv))   # [T][d] each
    hd = len(Q[0]) // num_heads
    heads = []
    for h in range(num_heads):
        columns = slice(h * hd, (h + 1) * hd)
        heads.append(causal_attention([q[columns] for q in Q], [k[columns] for k in K],
                                      [v[columns] for v in V]))
    joined = [sum((head[t] for head in heads), []) for t in range(len(X))]   # side by side
    return matmul(joined, transpose(Wo))
