"""Looking inside a trained model: what each attention head reads, and what it predicts.

`inspect_text(model, tokenizer, "emma")` runs the model over `[BOS] e m m a` and keeps,
for every position t:

* per layer and head, the attention weights of position t: the softmax row over
  positions 0..t, summing to 1 (only for models with attention: the GPT);
* the next-token distribution: every token's probability, the top candidates, and the
  actual next token (`e m m a BOS`) with its probability and its loss -ln p.

Nothing here computes the model a second time: the recording is the model's own forward,
run on a `float_copy()` as generation runs it. The logits are what that forward returns,
and the attention rows are the very lists it multiplied the values with, which the
key/value cache keeps when asked to (`KVCache.keep_weights`). So the numbers shown are
the numbers the model computed, not a re-implementation that could drift from it.

`Inspection.attention_maps()` draws the heatmaps and `Inspection.prediction_table()` the
table of predictions; both display themselves in Jupyter. `micrograd-gpt inspect` puts
them, with the loss and health curves, on one HTML page (report.py).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

from ..autograd import functional as F
from ..models.attention import KVCache
from ..common.checks import check_bool, check_int, check_text, describe
from ..training.data import CharTokenizer
from ..models.language_model import LanguageModel, check_plain
from .plots import AttentionMaps

__all__ = ["MAX_TEXT_CHARS", "record_forward", "inspect_text", "Inspection", "Prediction",
           "Candidate", "PredictionTable", "token_labels", "attention_by_distance",
           "AttentionDistances"]

# the longest text inspected: one row of predictions (and of attention) per character, so
# more cannot be read anyway, and a model without a context limit (a bigram, an RNN)
# would otherwise take time and memory in proportion to any text it is given
MAX_TEXT_CHARS = 1000
# how a token without a printable character of its own is shown
SPECIAL_LABELS = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}
BOS_LABEL = "BOS"


# -------------------------------------------------------------------------------------
# Recording: the model's own forward, keeping what it computed
# -------------------------------------------------------------------------------------
def record_forward(model, tokens):
    """Run `model` on `tokens` (on a float copy) and keep what it computed:
    `(logits, attention)`.

    logits: [T][V], exactly `model.float_copy()(tokens)`.
    attention: [layer][head][t] -> the weights of position t over positions 0..t (t + 1
    floats), exactly the rows the forward used; [] for a model without attention.
    """
    if not isinstance(model, LanguageModel):
        raise ValueError(f"model: must be a language model (e.g. a GPT), got "
                         f"{type(model).__name__}")
    fast = model.float_copy()
    fast.check_tokens(tokens, "tokens", max_length=fast.max_context)
    state = fast.new_state()
    caches = [cache.keep_weights() for cache in _attention_caches(state)]
    logits = [fast.step(token, state) for token in tokens]
    check_plain(logits[-1], type(model).__name__)
    attention = [[[list(row) for row in head] for head in cache.weights] for cache in caches]
    return logits, attention


def _attention_caches(state):
    """The attention layers' caches in a model's state (a GPT's state is one per block)."""
    if isinstance(state, KVCache):
        return [state]
    if isinstance(state, (list, tuple)):
        return [layer for layer in state if isinstance(layer, KVCache)]
    return []


# -------------------------------------------------------------------------------------
# What the recording means: one Prediction per position
# -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One possible next token and the probability the model gives it."""

    token: int
    label: str
    probability: float


@dataclass(frozen=True)
class Prediction:
    """What the model expects after position `position`, and how right it was.

    `context` is the text read so far (BOS shows as nothing). `target` is the token that
    actually comes next (None where the text does not say), `loss` = -ln p(target), and
    `rank` is its place among all tokens (1: the model's favourite).
    """

    position: int
    context: str
    probabilities: tuple       # [V]: softmax of the logits
    candidates: tuple          # the top Candidates, most likely first
    target: int | None
    target_label: str | None
    target_probability: float | None
    loss: float | None
    rank: int | None


def _predict(position, context, logits, target, labels, top_k):
    probabilities = F.softmax(logits)
    order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])
    candidates = tuple(Candidate(i, labels[i], probabilities[i]) for i in order[:top_k])
    if target is None:
        return Prediction(position, context, tuple(probabilities), candidates, None, None,
                          None, None, None)
    return Prediction(position, context, tuple(probabilities), candidates, target,
                      labels[target], probabilities[target],
                      F.cross_entropy(logits, target), order.index(target) + 1)


# -------------------------------------------------------------------------------------
# The whole inspection of a text
# -------------------------------------------------------------------------------------
@dataclass
class Inspection:
    """What `inspect_text` found: the tokens read, the attention, the predictions."""

    text: str
    tokens: list         # [T]: what the model read, [BOS] + the text's tokens
    labels: list         # [T]: a readable label per position ("BOS", "e", "m", ...)
    logits: list         # [T][V]
    attention: list      # [layer][head][t][s <= t]
    predictions: list    # [T] Prediction
    vocab_labels: list   # [V]: the label of every token id

    @property
    def loss(self):
        """Mean loss over the positions whose next token is known (None if none is):
        what `model.loss` gives for the same tokens."""
        losses = [p.loss for p in self.predictions if p.loss is not None]
        return F.mean(losses) if losses else None

    @property
    def num_layers(self):
        return len(self.attention)

    @property
    def num_heads(self):
        return len(self.attention[0]) if self.attention else 0

    def attention_maps(self, title=None):
        """The attention heatmaps: one grid per layer and head (plots.AttentionMaps)."""
        if not self.attention:
            raise ValueError("this model has no attention layers to draw")
        return AttentionMaps(self.attention, self.labels,
                             title or f"attention while reading {self.text!r}")

    def prediction_table(self):
        """The predictions as a table (shows itself in Jupyter; `str()` for a terminal)."""
        return PredictionTable(self.predictions)

    def to_dict(self):
        """Plain data (for JSON): labels, attention and, per position, the candidates."""
        return {
            "text": self.text, "tokens": self.tokens, "labels": self.labels,
            "attention": self.attention,
            "predictions": [{
                "position": p.position, "context": p.context,
                "candidates": [[c.label, c.probability] for c in p.candidates],
                "target": p.target_label, "probability": p.target_probability,
                "loss": p.loss, "rank": p.rank} for p in self.predictions],
        }


def inspect_text(model, tokenizer, text, *, whole_document=True, top_k=5):
    """Run `model` on `text` and record its attention and predictions: an `Inspection`.

    The model reads `[BOS] + tokenizer.encode(text)`, as it did in training. With
    `whole_document` (a name, a line) the last position predicts the end of the document,
    BOS, so every position has a known next token and a loss; with
    `whole_document=False` (a piece of a longer text) the last position's next token is
    unknown. `top_k` candidates are kept per position (all probabilities are kept too).

    For example, with a names model:

        result = inspect_text(model, tokenizer, "emma")
        result.predictions[-1]     # after "emma": how likely is the end of the name?
        result.attention[0][1][4]  # layer 0, head 1, at "a": 5 weights over B e m m a
        print(result.prediction_table())
    """
    if not isinstance(tokenizer, CharTokenizer):
        raise ValueError(f"tokenizer: must be a CharTokenizer, got {type(tokenizer).__name__}")
    check_text("text", text, MAX_TEXT_CHARS, ", the most a table of predictions shows")
    check_bool("whole_document", whole_document)
    top_k = check_int("top_k", top_k, 1, tokenizer.vocab_size)
    ids = tokenizer.encode(text)
    read = [tokenizer.bos] + ids
    _check_fits(model, read, text)
    targets = ids + ([tokenizer.bos] if whole_document else [None])
    logits, attention = record_forward(model, read)
    labels = token_labels(tokenizer)
    predictions = [_predict(t, text[:t], row, target, labels, top_k)
                   for t, (row, target) in enumerate(zip(logits, targets))]
    return Inspection(text, read, [labels[i] for i in read], logits, attention, predictions,
                      labels)


def _check_fits(model, read, text):
    limit = getattr(model, "max_context", None)
    if limit is not None and len(read) > limit:
        raise ValueError(
            f"text: the model reads at most {limit} tokens (BOS and {limit - 1} "
            f"characters), got {len(text)} characters: {describe(text)}")


def token_labels(tokenizer):
    """A readable label for every token id: the character, "BOS", "␣" for a space."""
    labels = [SPECIAL_LABELS.get(c, c if c.isprintable() else f"U+{ord(c):04X}")
              for c in tokenizer.chars]
    return labels + [BOS_LABEL]


# -------------------------------------------------------------------------------------
# Over many texts: how far back does each head look?
# -------------------------------------------------------------------------------------
@dataclass
class AttentionDistances:
    """Where each head's attention goes, on average over many positions.

    heads[layer][head] and uniform are dicts {column: mean weight}, the columns being
    "BOS" (position 0: the start), "itself" (distance 0), "1 back", ..., and "further"
    (everything older). `uniform` is what a head that spreads its attention evenly over
    the positions it can see would give on the same positions: the yardstick.
    """

    columns: list
    heads: list          # [layer][head] -> {column: mean weight}
    uniform: dict
    positions: int       # how many positions were averaged over

    def __str__(self):
        lines = [f"{'':15}" + "".join(f"{c:>9}" for c in self.columns)]
        rows = [("uniform", self.uniform)] + [
            (f"layer {i} head {j}", head) for i, layer in enumerate(self.heads)
            for j, head in enumerate(layer)]
        for name, means in rows:
            lines.append(f"{name:15}" + "".join(f"{means[c]:9.3f}" for c in self.columns))
        return "\n".join(lines)


def attention_by_distance(model, tokenizer, texts, max_distance=2):
    """How far back each head of `model` looks, averaged over every position t >= 1 of
    every text in `texts` (read as documents, as `inspect_text` reads them): an
    `AttentionDistances`. Position 0 is left out: there, BOS is all there is to see.

    Each row of weights is split into BOS (position 0), distance 0 (the position
    itself), 1 (the one before), ..., `max_distance`, and "further"; the columns sum to 1.
    """
    check_int("max_distance", max_distance, 0)
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise ValueError(f"texts: must be a list of strings (e.g. names), got {describe(texts)}")
    columns = ["BOS", "itself"] + [f"{d} back" for d in range(1, max_distance + 1)] + \
        ["further"]
    sums, uniform, positions = None, dict.fromkeys(columns, 0.0), 0
    for text in texts:
        result = inspect_text(model, tokenizer, text)
        if sums is None:
            sums = [[dict.fromkeys(columns, 0.0) for _ in layer] for layer in result.attention]
        for t in range(1, len(result.tokens)):
            positions += 1
            _add_by_distance(uniform, [1.0 / (t + 1)] * (t + 1), columns)
            for layer, layer_sums in zip(result.attention, sums):
                for head, head_sums in zip(layer, layer_sums):
                    _add_by_distance(head_sums, head[t], columns)
    if not positions:
        raise ValueError("texts: need at least one text of one or more characters")

    def mean(column_sums):
        return {c: column_sums[c] / positions for c in columns}
    return AttentionDistances(columns, [[mean(h) for h in layer] for layer in sums],
                              mean(uniform), positions)


def _add_by_distance(sums, row, columns):
    """Add the weights of `row` (position t = len(row) - 1) to their columns of `sums`."""
    t = len(row) - 1
    sums["BOS"] += row[0]
    for s in range(1, t + 1):
        distance = t - s
        column = columns[1 + distance] if 1 + distance < len(columns) - 1 else "further"
        sums[column] += row[s]


# -------------------------------------------------------------------------------------
# The table of predictions
# -------------------------------------------------------------------------------------
class PredictionTable:
    """The predictions of an Inspection, one row per position: what was read, what came
    next and how likely the model found it, its loss, and the top candidates.

    `str(table)` is the terminal version; in Jupyter it shows as an HTML table with a bar
    per probability."""

    def __init__(self, predictions):
        self.predictions = list(predictions)

    def __str__(self):
        width = max(len("after"), *(len(_context_text(p)) for p in self.predictions))
        lines = [f"{'after':<{width}}  {'next':<5} {'p(next)':>8} {'loss':>6}  "
                 "the model's top guesses"]
        for p in self.predictions:
            lines.append(f"{_context_text(p):<{width}}  {_target_text(p):<5} "
                         f"{_number(p.target_probability, '.3f'):>8} "
                         f"{_number(p.loss, '.2f'):>6}  {_guesses_text(p)}")
        return "\n".join(lines)

    def _repr_html_(self):
        return self.to_html()

    def to_html(self):
        """The table as an HTML fragment (every text escaped)."""
        rows = "".join(_html_row(p) for p in self.predictions)
        return ('<table class="predictions"><thead><tr><th>after</th><th>next</th>'
                '<th>p(next)</th><th>loss</th><th>the model\'s top guesses</th></tr></thead>'
                f'<tbody>{rows}</tbody></table>')


def _context_text(p):
    """What was read before this prediction; at the start only the start token, called
    BOS here as on the attention maps."""
    return p.context if p.context else "BOS"


def _target_text(p):
    return p.target_label if p.target_label is not None else "?"


def _number(x, spec):
    return "" if x is None else format(x, spec)


def _guesses_text(p):
    """`a 0.14  [m] 0.10 ...`: the actual next token in brackets."""
    return "  ".join(f"{_marked(c.label, c.token == p.target)} {c.probability:.2f}"
                     for c in p.candidates)


def _marked(label, actual):
    return f"[{label}]" if actual else label


def _html_row(p):
    e = html.escape
    guesses = "".join(
        f'<span class="guess{" actual" if c.token == p.target else ""}">'
        f'<span class="bar" style="width:{max(1, round(60 * c.probability))}px"></span>'
        f'{e(c.label)} {c.probability:.2f}</span>' for c in p.candidates)
    probability = _number(p.target_probability, ".3f")
    return (f'<tr><td class="context">{e(_context_text(p))}</td>'
            f'<td class="next">{e(_target_text(p))}</td><td class="p">{probability}</td>'
            f'<td class="loss">{_number(p.loss, ".2f")}</td>'
            f'<td class="guesses">{guesses}</td></tr>')

