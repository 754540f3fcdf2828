"""token_probabilities: the distribution sample_token draws from, knob by knob."""
import math
import random

import pytest

from micrograd_gpt.models.generation import sample_token, token_probabilities

LOGITS = [1.5, -0.5, 3.0, 0.25, 3.0, -2.0]


def softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    return [v / sum(e) for v in e]


@pytest.mark.parametrize("temperature", [1.0, 0.5, 2.0])
def test_without_filters_it_is_the_softmax_of_logits_over_temperature(temperature):
    got = token_probabilities(LOGITS, temperature)
    want = softmax([x / temperature for x in LOGITS])
    assert got == pytest.approx(want, rel=1e-12)


def test_top_k_keeps_ties_and_renormalizes():
    got = token_probabilities(LOGITS, top_k=1)   # two logits tie at 3.0: both stay
    assert got[2] == got[4] == pytest.approx(0.5)
    assert sum(p > 0 for p in got) == 2
    got = token_probabilities(LOGITS, top_k=3)
    kept = softmax([LOGITS[i] for i in (0, 2, 4)])
    assert [got[i] for i in (0, 2, 4)] == pytest.approx(kept)


def test_top_p_keeps_the_smallest_nucleus_reaching_p():
    full = softmax(LOGITS)
    got = token_probabilities(LOGITS, top_p=0.9)
    order = sorted(range(len(LOGITS)), key=lambda i: (-full[i], i))
    mass, nucleus = 0.0, []
    for i in order:
        nucleus.append(i)
        mass += full[i]
        if mass >= 0.9:
            break
    assert {i for i, p in enumerate(got) if p > 0} == set(nucleus)
    assert sum(got) == pytest.approx(1.0)


def test_sample_token_draws_from_exactly_these_probabilities():
    for seed in range(20):
        probabilities = token_probabilities(LOGITS, 0.7, top_k=4)
        r = random.Random(seed).random()
        cumulative, want = 0.0, None
        for i, p in enumerate(probabilities):
            cumulative += p
            if p > 0 and r < cumulative:
                want = i
                break
        assert sample_token(LOGITS, 0.7, top_k=4, rng=random.Random(seed)) == want


def test_bad_knobs_are_refused():
    with pytest.raises(ValueError, match="temperature"):
        token_probabilities(LOGITS, temperature=0.0)
    with pytest.raises(ValueError, match="logits"):
        token_probabilities([1.0, float("nan")])
