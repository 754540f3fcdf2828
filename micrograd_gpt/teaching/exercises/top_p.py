"""Checks exercise 11: the nucleus of a distribution, and a sampler that draws from it."""
from __future__ import annotations

import math
import random
from collections import Counter

from ...autograd import functional as F
from .tutor import Wrong, run_part

# (probabilities, p, the nucleus)
FILTERS = [
    ([0.1, 0.6, 0.3], 0.8, [1, 2]),
    ([0.1, 0.6, 0.3], 0.6, [1]),                      # reaching p exactly is enough
    ([0.1, 0.6, 0.3], 1.0, [1, 2, 0]),
    ([0.25, 0.25, 0.25, 0.25], 0.5, [0, 1]),          # ties: the smaller id first
    ([0.05, 0.05, 0.9], 0.01, [2]),                   # always at least one
    ([0.2, 0.1, 0.4, 0.3], 0.75, [2, 3, 0]),
]
LOGITS = [2.0, 1.0, 0.5, 0.0, -1.0]
DRAWS = 2000


SETTINGS = ((0.8, 1.0), (0.5, 1.0), (0.95, 0.5), (0.9, 2.0))   # (p, temperature)


def check(learner):
    """The parts of exercise 11."""
    draws = _Draws(learner)
    return [run_part("top_p_filter", lambda: _check_filter(learner)),
            run_part("sample_top_p stays in the nucleus", lambda: _check_support(draws)),
            run_part("sample_top_p's frequencies", lambda: _check_frequencies(draws)),
            run_part("sample_top_p is repeatable", lambda: _check_seeds(draws))]


class _Draws:
    """The learner's draws, DRAWS at a time, each setting and seed drawn once."""

    def __init__(self, learner):
        self.learner = learner
        self.done = {}

    def __call__(self, p, temperature, seed):
        if (p, temperature, seed) not in self.done:
            sample = self.learner.function("sample_top_p")
            rng = random.Random(seed)
            self.done[p, temperature, seed] = [
                sample(list(LOGITS), p, rng, temperature=temperature) for _ in range(DRAWS)]
        return self.done[p, temperature, seed]


def _check_filter(learner):
    top_p_filter = learner.function("top_p_filter")
    for probs, p, expected in FILTERS:
        got = top_p_filter(list(probs), p)
        if not isinstance(got, (list, tuple)) or list(got) != expected:
            raise Wrong(f"top_p_filter({probs}, {p}) gave {got!r}, expected {expected}: "
                        f"sort by probability, then take ids until the sum reaches {p}")
    return f"right on {len(FILTERS)} cases, ties and exact sums included"


def nucleus_probabilities(logits, p, temperature=1.0):
    """id -> the probability sample_top_p should give it."""
    probs = F.softmax([z / temperature for z in logits])
    order = sorted(range(len(probs)), key=lambda i: (-probs[i], i))
    kept, mass = [], 0.0
    for i in order:
        kept.append(i)
        mass += probs[i]
        if mass >= p:
            break
    total = sum(probs[i] for i in kept)
    return {i: probs[i] / total for i in kept}


def _check_support(draws):
    for p, temperature in SETTINGS:
        allowed = nucleus_probabilities(LOGITS, p, temperature)
        outside = Counter(t for t in draws(p, temperature, 1) if t not in allowed)
        if outside:
            raise Wrong(f"with p = {p}, temperature {temperature}, the nucleus is "
                        f"{sorted(allowed)}, but your sampler also gave {dict(outside)}")
    return f"never draws a token outside the nucleus (checked at {len(SETTINGS)} settings)"


def _check_frequencies(draws):
    for p, temperature in SETTINGS:
        want = nucleus_probabilities(LOGITS, p, temperature)
        counts = Counter(draws(p, temperature, 1))
        for token, share in want.items():
            expected = DRAWS * share
            spread = math.sqrt(DRAWS * share * (1 - share)) or 1.0
            if abs(counts[token] - expected) > 5 * spread:
                raise Wrong(f"with p = {p}, temperature {temperature}: token {token} came "
                            f"out {counts[token]} times in {DRAWS}, expected about "
                            f"{expected:.0f} (probability {share:.3f} after renormalizing "
                            f"the nucleus)\nall counts: {dict(sorted(counts.items()))}")
    return f"each token comes out as often as its renormalized probability ({DRAWS} draws)"


def _check_seeds(draws):
    state = random.getstate()
    first = draws(0.9, 1.0, 1)
    draws.done.clear()
    again = draws(0.9, 1.0, 1)
    touched = random.getstate() != state
    random.setstate(state)
    if touched:
        raise Wrong("your sampler uses the global `random` module: draw with the rng it "
                    "is given (rng.random()), so the same seed gives the same tokens")
    if first != again:
        raise Wrong("two runs with random.Random(1) gave different tokens: draw with the "
                    "rng you are given, and nothing else")
    if first == draws(0.9, 1.0, 2):
        raise Wrong("random.Random(1) and random.Random(2) gave the very same tokens: is "
                    "the rng used at all?")
    return "the same seed gives the same tokens, another seed others; no global random"
