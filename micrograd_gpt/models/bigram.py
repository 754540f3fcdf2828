"""The bigram: the next character from the previous one alone, found two ways.

A bigram model is one table: for every character a, a score for every character b that
could come next. It sees exactly one character, the last one: after "em" and after "am"
it predicts the same thing, because both end in "m". It cannot know where in the name it
is, how long the name already is, or what came two characters back. So its loss is the
floor that every model with more context has to beat.

Two ways to fill the table, the first two rungs of the ladder (chapter 11):

* `CountingBigram` (kind "bigram"): count how often b follows a in the training documents,
  N[a][b], and take  p(b | a) = (N[a][b] + k) / (Σ_c N[a][c] + k·V)  with add-k smoothing:
  a pair never seen still gets a little probability, so no loss is ever infinite. With
  k → 0 this is the maximum-likelihood answer. One pass over the data, no gradient.
* `NeuralBigram` (kind "neural_bigram"): the same table as the weight W [V][V] of a
  one-layer neural net: one-hot(a)·W is row a of W (a lookup, `logits.weight`), the
  logits of the next character; softmax and cross-entropy as for every model; gradient
  descent fills W.

Why the two meet. The loss of one prediction is −ln softmax(W[a])[b]; its gradient toward
row W[a] is softmax(W[a]) − onehot(b) (the fused cross-entropy node), and 0 toward every
other row. Summed over the training data, row a's gradient is N[a]·softmax(W[a]) − N[a][:]
(N[a] = Σ_b N[a][b]), which is 0 exactly when softmax(W[a])[b] = N[a][b] / N[a]: the
counts. So gradient descent converges to the counting model with k = 0; it gets there
only in the limit (a pair never seen wants probability 0, a logit of −∞).
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from ..common.checks import (check_bool, check_int, check_number, check_token_ids, describe,
                             finite_float)
from ..autograd.value import Value
from .language_model import LanguageModel
from .nn import Embedding

__all__ = ["BigramConfig", "NeuralBigramConfig", "CountingBigram", "NeuralBigram",
           "count_bigrams", "bigram_log_probs", "check_log_probs"]


@dataclass
class BigramConfig:
    """The counting bigram's settings."""

    vocab_size: int           # |V|: number of distinct tokens
    smoothing: float = 1.0    # k of add-k smoothing: every pair counts k times more (> 0)
    fused: bool = True        # fused cross-entropy nodes (fast); False: plain ops (teaching)

    def __post_init__(self):
        check_int("vocab_size", self.vocab_size, 1)
        check_number("smoothing", self.smoothing, 0, low_open=True)
        check_bool("fused", self.fused)


@dataclass
class NeuralBigramConfig:
    """The neural bigram's settings."""

    vocab_size: int           # |V|: number of distinct tokens
    init_std: float = 0.0     # W starts as N(0, init_std²); 0: every next token equally likely
    fused: bool = True        # fused cross-entropy nodes (fast); False: plain ops (teaching)

    def __post_init__(self):
        check_int("vocab_size", self.vocab_size, 1)
        check_number("init_std", self.init_std, 0)
        check_bool("fused", self.fused)


def count_bigrams(documents, vocab_size):
    """N[a][b]: how often token b follows token a in `documents` (lists of token ids)."""
    check_int("vocab_size", vocab_size, 1)
    counts = [[0] * vocab_size for _ in range(vocab_size)]
    for i, doc in enumerate(documents):
        check_token_ids(f"documents[{i}]", doc, vocab_size)
        for a, b in zip(doc, doc[1:]):
            counts[a][b] += 1
    return counts


def bigram_log_probs(counts, smoothing=1.0):
    """ln p(b | a) = ln (N[a][b] + k) − ln (Σ_c N[a][c] + k·V), for every pair, [V][V]."""
    check_number("smoothing", smoothing, 0, low_open=True)
    V = len(counts)
    table = []
    for row in counts:
        log_total = math.log(sum(row) + smoothing * V)
        table.append([math.log(n + smoothing) - log_total for n in row])
    return table


# how far a row of a log-probability table may be from summing to 1: a counted table sums
# to 1 within ~1e-15; a number written into the file by hand does not
LOG_PROB_TOLERANCE = 1e-6
# ln of the smallest positive float: below it a probability is 0, which add-k smoothing
# (k > 0) never gives, and a loss would be infinite
SMALLEST_LOG_PROB = math.log(sys.float_info.min)


def check_log_probs(table, tol=LOG_PROB_TOLERANCE):
    """`table` [V][V] if every row holds log-probabilities, ln p(b | a): every entry at
    least SMALLEST_LOG_PROB (no probability 0) and the probabilities of each row summing
    to 1 within `tol`. A ValueError names the first row that is not a distribution."""
    if not _is_table(table):
        raise ValueError(f"log_probs: must be a [V][V] table of finite numbers, got "
                         f"{describe(table)}")
    for a, row in enumerate(table):
        lowest = min(row)
        if lowest < SMALLEST_LOG_PROB:
            raise ValueError(
                f"log_probs[{a}]: holds {lowest!r}, the log of a probability that rounds to "
                f"0; a counted bigram gives every pair some probability (add-k smoothing)")
        top = max(row)
        if top > tol:
            raise ValueError(
                f"log_probs[{a}]: holds {top!r}, the log of a probability above 1: a "
                f"bigram table holds log-probabilities, ln p(b | a), each at most 0")
        # Σ e^x = e^top · Σ e^(x - top): no term can overflow
        total = math.exp(top) * math.fsum(math.exp(x - top) for x in row)
        if not abs(total - 1.0) <= tol:
            raise ValueError(
                f"log_probs[{a}]: its probabilities (e to the power of each entry) sum to "
                f"{total:.6g}, not 1: a bigram table holds log-probabilities, ln p(b | a), "
                f"each row a distribution over the next token")
    return table


def _is_table(table, size=None):
    """Whether `table` is a square list of lists of finite numbers (of `size` rows)."""
    if not isinstance(table, list) or not table or (size is not None and len(table) != size):
        return False
    return all(isinstance(row, list) and len(row) == len(table) and all(
        finite_float(x) is not None for x in row) for row in table)


class _Bigram(LanguageModel):
    """What both bigrams share: the table [V][V] and the forward, a lookup.

    The state of a sequence is nothing: the logits depend on the last token only, so a
    bigram looks back on no tokens at all beyond the one it is given.
    """

    @classmethod
    def count_parameters(cls, config):
        """V·V: one number per (token, next token) pair."""
        return config.vocab_size ** 2

    def new_state(self):
        return None

    def forward_token(self, token, state):
        if state is not None:
            raise ValueError(f"state: a bigram keeps no state (new_state() is None), "
                             f"got {state!r}")
        return list(self._table[token])  # [V]: row `token` (a copy: callers may keep it)

    def extra_repr(self):
        V = self.config.vocab_size
        return f"V={V}, a table of {V}x{V} = {V * V:,} parameters"


class CountingBigram(_Bigram):
    """The bigram by counting: logits[b] = ln p(b | a) from smoothed pair counts.

    Its table `log_probs` [V][V] holds log-probabilities, so softmax gives back the
    probabilities themselves (they already sum to 1). `fit(documents)` counts and fills
    it; before that every next token is equally likely. The table is made of Values like
    any model's parameters, so the loss can be drawn and differentiated, but it is never
    trained by gradient: `train()` calls `fit` once instead (trained_by_gradient = False).

    >>> model = CountingBigram(BigramConfig(vocab_size=3, smoothing=1.0))
    >>> counts = model.fit([[0, 1, 1, 2]])
    >>> counts[1]                        # after token 1: once 1, once 2
    [0, 1, 1]
    >>> round(math.exp(model([1])[0][2].data), 3)     # p(2 | 1) = (1 + 1) / (2 + 3)
    0.4
    """

    kind = "bigram"
    config_class = BigramConfig
    default_preset = "bigram"
    torch_twin = "micrograd_gpt.models.torch_twins.TorchCountingBigram"
    trained_by_gradient = False

    def __init__(self, config, rng=None):  # rng: for the interface; counting draws nothing
        if not isinstance(config, BigramConfig):
            raise ValueError(f"config: must be a BigramConfig, got {type(config).__name__}")
        self.check_size(config)
        self.config = config
        V = config.vocab_size
        self.log_probs = [[Value(-math.log(V)) for _ in range(V)] for _ in range(V)]

    @property
    def _table(self):
        return self.log_probs

    @classmethod
    def check_weights(cls, weights):
        """The table must hold log-probabilities (see `check_log_probs`): checkpoints check
        it before building the model, `load_state_dict` before changing it."""
        check_log_probs(weights.get("log_probs") if isinstance(weights, dict) else None)

    def load_state_dict(self, state_dict):
        """Module.load_state_dict, for a table of log-probabilities only."""
        table = state_dict.get("log_probs") if isinstance(state_dict, dict) else None
        if _is_table(table, self.config.vocab_size):  # else Module says what is wrong
            check_log_probs(table)
        super().load_state_dict(state_dict)

    def fit(self, documents):
        """Count the pairs of `documents` and set the table to their smoothed
        log-probabilities. Returns the counts N [V][V]."""
        counts = count_bigrams(documents, self.config.vocab_size)
        for row, numbers in zip(self.log_probs, bigram_log_probs(counts, self.config.smoothing)):
            for p, x in zip(row, numbers):
                p.data = x
        return counts

    def extra_repr(self):
        return super().extra_repr() + f", counted, add-{self.config.smoothing:g} smoothing"


class NeuralBigram(_Bigram):
    """The bigram as a one-layer neural net: logits = one-hot(a)·W = W[a], trained by
    gradient descent. It converges to `CountingBigram` with k → 0 (module docstring).

    >>> import random
    >>> model = NeuralBigram(NeuralBigramConfig(vocab_size=3))
    >>> loss = model.loss([0, 1, 1, 2])  # W = 0: every token 1/3, so loss = ln 3
    >>> round(loss.data, 4)
    1.0986
    >>> loss.backward()                  # row 1's gradient: softmax − onehot, averaged
    >>> [round(p.grad, 4) for p in model.logits.weight[1]]
    [0.2222, -0.1111, -0.1111]
    """

    kind = "neural_bigram"
    config_class = NeuralBigramConfig
    default_preset = "neural_bigram"
    torch_twin = "micrograd_gpt.models.torch_twins.TorchNeuralBigram"

    def __init__(self, config, rng=None):
        if not isinstance(config, NeuralBigramConfig):
            raise ValueError(f"config: must be a NeuralBigramConfig, got "
                             f"{type(config).__name__}")
        self.check_size(config)
        self.config = config
        V = config.vocab_size
        # W [V][V]: row a holds the logits of the token after a (a lookup table, like
        # every Embedding: one-hot(a)·W without the multiplications)
        self.logits = Embedding(V, V, rng=rng, std=config.init_std)

    @property
    def _table(self):
        return self.logits.weight

    def extra_repr(self):
        return super().extra_repr() + ", trained by gradient"

