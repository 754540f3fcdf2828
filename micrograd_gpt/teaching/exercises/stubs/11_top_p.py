"""Exercise 11 (chapter 9): top-p (nucleus) sampling.

Part 1. `top_p_filter(probs, p)`: probs is a list of probabilities (summing to 1); return
the ids of the nucleus: the most likely tokens, most likely first, taken until their
probabilities add up to p or more (so always at least one). Ties: the smaller id first.

    top_p_filter([0.1, 0.6, 0.3], 0.8)  ->  [1, 2]      (0.6 < 0.8, 0.6 + 0.3 >= 0.8)

Part 2. `sample_top_p(logits, p, rng, temperature=1.0)`: draw one token id. Divide the
logits by the temperature, softmax them, keep the nucleus, renormalize its probabilities
to sum to 1, and draw one id with them, using `rng` (a random.Random): for example with
one `rng.random()`, walking along the nucleus until the running sum passes it. Never the
global `random` functions: the same seed must give the same tokens (chapter 9).

The checker compares the filter with its own, and draws thousands of tokens with your
sampler to compare how often each comes out with the probabilities it should have.

Check your work:  micrograd-gpt exercise check 11
"""
import math


def top_p_filter(probs, p):
    """The ids of the nucleus of `probs` at `p`, most likely first."""
    # TODO
    raise NotImplementedError("write top_p_filter")


def sample_top_p(logits, p, rng, temperature=1.0):
    """One token id drawn from the nucleus of softmax(logits / temperature), with rng."""
    # TODO
    raise NotImplementedError("write sample_top_p")
