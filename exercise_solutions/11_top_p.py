"""Exercise 11 (chapter 9): top-p (nucleus) sampling. A solution."""
import math


def top_p_filter(probs, p):
    """The ids of the nucleus of `probs` at `p`, most likely first."""
    order = sorted(range(len(probs)), key=lambda i: (-probs[i], i))
    nucleus, mass = [], 0.0
    for i in order:
        nucleus.append(i)
        mass += probs[i]
        if mass >= p:            # enough: the rest of the tail is cut off
            break
    return nucleus


def sample_top_p(logits, p, rng, temperature=1.0):
    """One token id drawn from the nucleus of softmax(logits / temperature), with rng."""
    scaled = [z / temperature for z in logits]
    top = max(scaled)
    exps = [math.exp(z - top) for z in scaled]
    probs = [e / sum(exps) for e in exps]
    nucleus = top_p_filter(probs, p)
    total = sum(probs[i] for i in nucleus)      # renormalize: the nucleus sums to 1
    r = rng.random() * total
    running = 0.0
    for i in nucleus:
        running += probs[i]
        if r < running:
            return i
    return nucleus[-1]                          # r landed on the total through rounding
