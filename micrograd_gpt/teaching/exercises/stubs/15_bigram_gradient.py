"""Exercise 15 (chapter 11): the neural bigram's gradient, from the counts alone.

The neural bigram is a table W [V][V] of logits: after token a, softmax(W[a]) gives the
probabilities of the next token. Its loss on some documents (lists of token ids) is the
mean, over every prediction (every pair a -> b of consecutive tokens in every document),
of −ln softmax(W[a])[b].

Part 1. `bigram_grad(W, documents)`: the gradient of that loss toward W, a table [V][V],
on plain floats, with no Values and no backward(): count the pairs first, N[a][b], then
use what one prediction's gradient is (chapter 7: p − one-hot) and which row it lands
in. Chapter 11 says what the sum comes to; the loss here is a mean.

Part 2. `logits_at_minimum(counts)`: the counts N [V][V] of some data (every count above
0); return a W at which the gradient of Part 1 is exactly 0. What must softmax(W[a]) be
there? Which logits give it? (Many W do: any one of them is right.)

The checker compares Part 1 with backward() on the same loss built from Values, and
where yours is off shows the table (yours, backward(), numeric); for Part 2 it runs
backward() at your W.

Check your work:  micrograd-gpt exercise check 15
"""
import math


def bigram_grad(W, documents):
    """d loss / d W for the mean loss over every pair of consecutive tokens: [V][V]."""
    # TODO
    raise NotImplementedError("write bigram_grad")


def logits_at_minimum(counts):
    """A table W [V][V] at which the gradient of the counts' mean loss is 0."""
    # TODO
    raise NotImplementedError("write logits_at_minimum")
