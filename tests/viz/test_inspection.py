"""Looking inside a model: the recorded attention and predictions are exactly what the
forward computes (checked against the Value model, against PyTorch in float64, and
against the model's own loss), and recording changes nothing."""
import math
import random
import re

import pytest

from helpers import GPT_CONFIGS, GPT_IDS, make_gpt, max_difference, random_tokens
from micrograd_gpt import functional as F
from micrograd_gpt.models.attention import KVCache
from micrograd_gpt.training.data import CharTokenizer
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.viz.inspection import (PredictionTable, attention_by_distance, inspect_text,
                                      record_forward, token_labels)


def value_model_attention(model, tokens):
    """The attention rows of the Value model itself (graph and all), as floats."""
    cache = [layer.keep_weights() for layer in model.new_state()]
    for token in tokens:
        model.step(token, cache)
    return [[[[w.data for w in row] for row in head] for head in layer.weights]
            for layer in cache]


@pytest.mark.slow
@pytest.mark.parametrize("config", GPT_CONFIGS, ids=GPT_IDS)
def test_recorded_numbers_are_the_forwards_own(config):
    model = make_gpt(config, seed=3)
    tokens = random_tokens(config, config.max_seq_len, seed=4)
    logits, attention = record_forward(model, tokens)
    assert logits == model.float_copy()(tokens)                     # bit for bit
    assert logits == [[v.data for v in row] for row in model(tokens)]
    assert attention == value_model_attention(model, tokens)        # bit for bit
    assert len(attention) == config.num_layers
    for layer in attention:
        assert len(layer) == config.num_heads
        for head in layer:
            assert [len(row) for row in head] == list(range(1, len(tokens) + 1))
            assert all(abs(math.fsum(row) - 1.0) < 1e-12 for row in head)
            assert all(w > 0 for row in head for w in row)


@pytest.mark.parametrize("config", GPT_CONFIGS[:2], ids=GPT_IDS[:2])
def test_recorded_attention_matches_pytorch_float64(config, torch):
    import torch_reference
    model = make_gpt(config, seed=5)
    tokens = random_tokens(config, config.max_seq_len, seed=6)
    _, attention = record_forward(model, tokens)
    want = torch_reference.attention_weights(torch_reference.parameters_from(model), config,
                                             tokens)
    for layer in range(config.num_layers):
        for head in range(config.num_heads):
            full = want[layer][head].tolist()
            lower = [row[:t + 1] for t, row in enumerate(full)]
            assert max_difference(attention[layer][head], lower) < 1e-12
            assert all(x == 0.0 for t, row in enumerate(full) for x in row[t + 1:])


def test_recording_is_off_unless_asked_and_changes_no_number():
    config = GPT_CONFIGS[0]
    model = make_gpt(config)
    tokens = random_tokens(config, 6)
    cache = model.new_state()
    assert all(layer.weights is None for layer in cache)          # training keeps nothing
    plain = [[v.data for v in model.step(t, cache)] for t in tokens]
    assert all(layer.weights is None for layer in cache)
    kept = [layer.keep_weights() for layer in model.new_state()]
    assert [[v.data for v in model.step(t, kept)] for t in tokens] == plain
    assert KVCache(2).keep_weights().weights == [[], []]


# ---- predictions ---------------------------------------------------------------------------

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia"]


@pytest.fixture(scope="module")
def names_model():
    tokenizer = CharTokenizer.from_documents(NAMES)
    config = GPTConfig(vocab_size=tokenizer.vocab_size, d_model=8, num_heads=2, num_layers=2,
                       max_seq_len=10, init_std=0.4)
    return GPT(config, rng=random.Random(1)), tokenizer


def test_predictions_are_softmax_and_loss_of_the_logits(names_model):
    model, tokenizer = names_model
    result = inspect_text(model, tokenizer, "emma", top_k=3)
    document = tokenizer.encode_document("emma")          # [BOS] e m m a [BOS]
    assert result.tokens == document[:-1]
    assert result.labels == ["BOS", "e", "m", "m", "a"]
    fast = model.float_copy()
    assert result.logits == fast(document[:-1])
    for t, p in enumerate(result.predictions):
        assert list(p.probabilities) == F.softmax(result.logits[t])
        assert p.target == document[t + 1]
        assert p.target_probability == p.probabilities[p.target]
        assert p.loss == F.cross_entropy(result.logits[t], p.target)
        assert abs(p.loss + math.log(p.target_probability)) < 1e-12
        assert len(p.candidates) == 3
        chances = [c.probability for c in p.candidates]
        assert chances == sorted(p.probabilities, reverse=True)[:3]
        assert p.rank == 1 + sum(q > p.target_probability for q in p.probabilities)
        assert p.context == "emma"[:t]
    assert result.predictions[-1].target_label == "BOS"
    assert result.loss == fast.loss(document)               # the model's own loss, exactly


def test_a_piece_of_text_has_no_known_next_token_at_the_end(names_model):
    model, tokenizer = names_model
    result = inspect_text(model, tokenizer, "mia", whole_document=False)
    last = result.predictions[-1]
    assert (last.target, last.loss, last.rank) == (None, None, None)
    read = [tokenizer.bos] + tokenizer.encode("mia")
    assert result.loss == model.float_copy().loss(read)
    assert "?" in str(result.prediction_table()).splitlines()[-1]


def test_an_empty_name_predicts_its_end_at_once(names_model):
    model, tokenizer = names_model
    result = inspect_text(model, tokenizer, "")
    assert result.tokens == [tokenizer.bos] and result.predictions[0].target_label == "BOS"


@pytest.mark.parametrize("kwargs, match", [
    ({"text": "emma!"}, "not in the vocabulary"),
    ({"text": "isabellaisabella"}, "at most 10 tokens"),
    ({"text": 3}, "text: must be a string"),
    ({"text": "emma", "top_k": 0}, "top_k"),
    ({"text": "emma", "top_k": 99}, "top_k"),
    ({"text": "emma", "whole_document": "yes"}, "whole_document"),
])
def test_bad_input_is_one_clear_error(names_model, kwargs, match):
    model, tokenizer = names_model
    with pytest.raises(ValueError, match=match):
        inspect_text(model, tokenizer, **kwargs)


def test_bad_model_or_tokenizer_is_refused(names_model):
    model, tokenizer = names_model
    with pytest.raises(ValueError, match="model: must be a language model"):
        record_forward("a model", [0, 1])
    with pytest.raises(ValueError, match="tokenizer: must be a CharTokenizer"):
        inspect_text(model, {"chars": "abc"}, "a")


def test_labels_show_invisible_characters():
    tokenizer = CharTokenizer(["a", " ", "\n", "\x07"])
    assert token_labels(tokenizer) == ["U+0007", "↵", "␣", "a", "BOS"]   # in id order


def test_the_table_marks_the_actual_next_token(names_model):
    model, tokenizer = names_model
    result = inspect_text(model, tokenizer, "ava", top_k=tokenizer.vocab_size)
    lines = str(result.prediction_table()).splitlines()
    assert len(lines) == 1 + 4
    assert lines[1].startswith("BOS ") and lines[2].startswith("a ")
    for line, p in zip(lines[1:], result.predictions):
        assert f"[{p.target_label}] {p.target_probability:.2f}" in line
        assert f"{p.loss:.2f}" in line
    html = result.prediction_table()._repr_html_()
    assert html.count("<tr>") == 1 + 4 and html.count('class="guess actual"') == 4


def test_the_html_table_escapes_its_labels():
    tokenizer = CharTokenizer(list("<>&\"'a"))
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, d_model=4, num_heads=1,
                          num_layers=1, max_seq_len=8), rng=random.Random(0))
    html = PredictionTable(inspect_text(model, tokenizer, "<a&'", top_k=7).predictions).to_html()
    assert "<a&" not in html and "&lt;a&amp;&#x27;" in html        # the context, escaped
    assert set(re.findall(r"</?([a-z]+)", html)) == {"table", "thead", "tbody", "tr", "th",
                                                     "td", "span"}


# ---- attention over many texts -----------------------------------------------------------

def test_attention_by_distance_averages_the_recorded_rows(names_model):
    model, tokenizer = names_model
    summary = attention_by_distance(model, tokenizer, ["ava", "mia"], max_distance=1)
    assert summary.columns == ["BOS", "itself", "1 back", "further"]
    assert summary.positions == 2 * 3                      # t = 1, 2, 3 of each name
    rows = [row for name in ("ava", "mia")
            for row in inspect_text(model, tokenizer, name).attention[1][0][1:]]
    want = {"BOS": sum(r[0] for r in rows), "itself": sum(r[-1] for r in rows),
            "1 back": sum(r[-2] for r in rows if len(r) > 2),
            "further": sum(sum(r[1:-2]) for r in rows)}
    for column, total in want.items():
        assert abs(summary.heads[1][0][column] - total / 6) < 1e-12
    for means in [summary.uniform] + [h for layer in summary.heads for h in layer]:
        assert abs(sum(means.values()) - 1.0) < 1e-12
    assert str(summary).splitlines()[0].split() == ["BOS", "itself", "1", "back", "further"]
    assert len(str(summary).splitlines()) == 1 + 1 + 2 * 2


def test_a_head_with_no_query_weights_attends_uniformly(names_model):
    model, tokenizer = names_model
    model = GPT(model.config, rng=random.Random(2))
    for p in model.blocks[0].attn.wq.parameters():
        p.data = 0.0                                       # every score 0: softmax is even
    summary = attention_by_distance(model, tokenizer, NAMES)
    for column in summary.columns:
        assert abs(summary.heads[0][1][column] - summary.uniform[column]) < 1e-12
    with pytest.raises(ValueError, match="texts: need at least one"):
        attention_by_distance(model, tokenizer, [""])


def test_attention_by_distance_wants_a_list_of_texts(names_model):
    model, tokenizer = names_model
    with pytest.raises(ValueError, match="texts: must be a list of strings"):
        attention_by_distance(model, tokenizer, "emma")
