"""Exercise 18 (chapter 14): attention over all positions at once, with a causal mask.

Our attention runs one position at a time over a KV cache (chapter 5): the cache holds
exactly what position t may see. A tensor library does all T positions in one go, with a
[T][T] matrix of scores and a *mask* that hides the future. On plain floats:

    Q, K, V   [T][hd]   the queries, keys and values of one head, a row per position
    S = Q·Kᵀ / √hd      [T][T]: S[t][s] is how much position t attends to position s
    mask                S[t][s] = −inf wherever s > t: a position never sees a later one
    A = softmax of each row of S     (e^(−inf) = 0: the future gets weight 0)
    out = A·V           [T][hd]

Part 1. `causal_attention(Q, K, V)`: out. (`math.inf`; `matmul` and `transpose` below.)
Before you write it: what is row 0 of out? And why must the mask come before the
softmax, not after?

Part 2. `self_attention(X, Wq, Wk, Wv, Wo, num_heads)`: the whole layer, for X [T][d] and
weights [d][d] as nn.Linear keeps them ([out][in], so Q = X·Wqᵀ). Head h takes the
columns h·hd .. (h+1)·hd − 1 of Q, K and V (hd = d // num_heads); run Part 1 on each
head, put the heads' outputs side by side (columns again), then multiply by Woᵀ.

The checker compares Part 1 with the definition (and if it is off, names the usual slip),
and Part 2 with a real CausalSelfAttention run one position at a time over its KV cache:
all positions at once with a mask, or one at a time with a cache, the same numbers.

Check your work:  micrograd-gpt exercise check 18
"""
import math


def matmul(A, B):
    """A·B for A [r][k] and B [k][c]: [r][c]."""
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]


def transpose(A):
    """Aᵀ: rows become columns, [r][c] -> [c][r]."""
    return [list(column) for column in zip(*A)]


def causal_attention(Q, K, V):
    """One head over all positions: softmax(mask(Q·Kᵀ/√hd))·V, [T][hd]."""
    # TODO
    raise NotImplementedError("write causal_attention")


def self_attention(X, Wq, Wk, Wv, Wo, num_heads):
    """Multi-head causal self-attention over all positions of X [T][d]: [T][d]."""
    # TODO
    raise NotImplementedError("write self_attention")
