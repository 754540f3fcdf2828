"""Exercise 10 (chapter 7): the backward of one attention head.

One head, at the last position of a sequence, on plain floats: q is the query (hd
numbers), keys and values are T lists of hd numbers each (the cache: positions 0..T-1).

    scores_s = q·keys[s] / sqrt(hd)            for s = 0 .. T-1
    a = softmax(scores)                         the attention weights
    out_j = Σ_s a_s·values[s][j]                the head's output, hd numbers

Given dout (d loss/d out, hd numbers), return (dq, dkeys, dvalues): the gradient toward
q (hd numbers), every key and every value (T lists of hd). Go back one line at a time:
the weighted average first (toward values and toward a), then the softmax (exercise 7's
softmax_backward), then the scaled dot products (toward q and toward each key).

The checker compares each with backward() on the same head built from Values, and where
one is off shows the table (yours, backward(), numeric) at that input.

Check your work:  micrograd-gpt exercise check 10
"""
import math


def attention_head_backward(q, keys, values, dout):
    """(dq, dkeys, dvalues) for one head of attention at the last position."""
    # TODO
    raise NotImplementedError("write attention_head_backward")
