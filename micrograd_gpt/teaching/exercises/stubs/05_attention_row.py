"""Exercise 5 (chapter 5): one row of attention by hand, head by head.

Everything here is on plain floats (lists of numbers), as in chapter 5's hand computation.
Position t has a query q; positions 0..t have keys and values (t + 1 of each).

    attention_weights(q, keys)        the softmax over s = 0..t of  q·k_s / √(len(q))
    attention_output(weights, values) Σ_s weights[s] · values[s]   (a vector, like v)
    multi_head(q, keys, values, num_heads)
        split q, every key and every value into num_heads equal slices (head h gets
        entries h·hd .. (h+1)·hd - 1, with hd = len(q) // num_heads), run the two
        functions above on each head's slices, and put the heads' outputs side by side

The checker compares them with its own numbers, then feeds multi_head with the queries,
keys and values of a real CausalSelfAttention layer and compares the result (after Wo)
with the layer's output.

Check your work:  micrograd-gpt exercise check 5
"""
import math


def attention_weights(q, keys):
    """softmax([q·k / sqrt(len(q)) for k in keys]): one weight per key, summing to 1."""
    # TODO (subtract the largest score before exp(), as chapter 5 does: it cannot overflow)
    raise NotImplementedError("write attention_weights")


def attention_output(weights, values):
    """Σ_s weights[s] * values[s], entry by entry: a list as long as one value."""
    # TODO
    raise NotImplementedError("write attention_output")


def multi_head(q, keys, values, num_heads):
    """Attention head by head on slices of q, keys and values; the heads side by side."""
    # TODO
    raise NotImplementedError("write multi_head")
