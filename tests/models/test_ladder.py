"""The ladder's rungs (bigram, neural bigram, MLP, RNN/GRU): gradients equal PyTorch float64
and finite differences, the float path equals the Value forward, step equals forward,
checkpoints round-trip, and the neural bigram converges to the counting one."""
import dataclasses
import math
import random

import pytest

from helpers import max_difference
from micrograd_gpt.models.bigram import (
    BigramConfig, CountingBigram, NeuralBigram, NeuralBigramConfig, bigram_log_probs,
    count_bigrams,
)
from micrograd_gpt.training.checkpoint import load_checkpoint, save_checkpoint
from micrograd_gpt.models.context_mlp import ContextMLP, ContextMLPConfig
from micrograd_gpt.models.context_mlp import count_parameters as mlp_parameters
from micrograd_gpt.training.data import CharTokenizer
from micrograd_gpt.autograd.gradcheck import gradcheck
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.models.language_model import LanguageModel
from micrograd_gpt.models.registry import MODEL_CLASSES, MODELS, build_model
from micrograd_gpt.training.optim import Adam
from micrograd_gpt.models.rnn import RNN, RNNConfig
from micrograd_gpt.models.rnn import count_parameters as rnn_parameters
from micrograd_gpt.training.engines import evaluate

# Per kind: a small config, and for every config field other values to try, so that no
# option can escape the equality tests (a new field without an entry here fails).
BASE = {
    "bigram": BigramConfig(vocab_size=6, smoothing=0.5),
    "neural_bigram": NeuralBigramConfig(vocab_size=6, init_std=0.8),
    "mlp": ContextMLPConfig(vocab_size=6, context=3, d_embed=3, d_hidden=5),
    "rnn": RNNConfig(vocab_size=6, d_embed=3, d_hidden=4),
}
ALTERNATIVES = {
    "bigram": {"vocab_size": [3], "smoothing": [1.0, 1e-3], "fused": [False]},
    "neural_bigram": {"vocab_size": [4], "init_std": [0.0, 2.0], "fused": [False]},
    "mlp": {"vocab_size": [4], "context": [1, 5], "d_embed": [1, 6], "d_hidden": [2, 8],
            "fused": [False]},
    "rnn": {"vocab_size": [4], "d_embed": [1, 5], "d_hidden": [1, 6], "cell": ["gru"],
            "fused": [False]},
}
VARIANTS = [(kind, BASE[kind]) for kind in BASE] + [
    (kind, dataclasses.replace(BASE[kind], **{name: value}))
    for kind, fields in ALTERNATIVES.items() for name, options in fields.items()
    for value in options]
IDS = [f"{kind}-{'-'.join(f'{k}={v}' for k, v in dataclasses.asdict(c).items())}"
       for kind, c in VARIANTS]


def make(kind, config, seed=0):
    """A model of `kind` whose every weight matters: random, and for the counting bigram a
    table that is not yet normalised (so a wrong row or column cannot hide)."""
    model = MODELS[kind](config, rng=random.Random(seed))
    rng = random.Random(seed + 100)
    for p in model.parameters():
        p.data += rng.gauss(0.0, 0.5)
    return model


def tokens_for(config, length, seed=0):
    rng = random.Random(seed)
    return [rng.randrange(config.vocab_size) for _ in range(length)]


def test_every_config_field_is_exercised():
    for kind, config in BASE.items():
        fields = {f.name for f in dataclasses.fields(config)} - {"vocab_size"}
        assert fields <= set(ALTERNATIVES[kind]), (kind, sorted(fields - set(ALTERNATIVES[kind])))


def test_the_registry_is_derived_from_one_tuple_of_classes():
    assert MODELS == {cls.kind: cls for cls in MODEL_CLASSES}
    assert len(MODELS) == len(MODEL_CLASSES)  # no two classes with one name
    for cls in MODEL_CLASSES:
        assert issubclass(cls, LanguageModel) and dataclasses.is_dataclass(cls.config_class)
        assert cls.forward_token is not LanguageModel.forward_token, cls
        assert isinstance(cls.default_preset, str)
        assert cls.torch_twin is None or cls.torch_twin.startswith("micrograd_gpt.models.")


def test_every_rung_of_the_ladder_has_configs_to_test():
    """A new kind in MODEL_CLASSES fails here until BASE and ALTERNATIVES hold configs for
    it (the GPT's are in test_gpt.py)."""
    assert set(BASE) == set(ALTERNATIVES) == set(MODELS) - {GPT.kind}


@pytest.mark.parametrize("cls", [cls for cls in MODEL_CLASSES if cls.torch_twin],
                         ids=lambda cls: cls.kind)
def test_every_twin_a_kind_names_exists(cls, torch):
    from micrograd_gpt.training.torch_engine import twin_class

    twin = twin_class(cls)
    assert issubclass(twin, torch.nn.Module)
    assert f"{twin.__module__}.{twin.__name__}" == cls.torch_twin


def test_a_kind_without_a_twin_is_refused_by_the_torch_side(torch):
    from micrograd_gpt.training.torch_engine import twin_of

    class NoTwin(NeuralBigram):
        kind, torch_twin = "no_twin", None

    with pytest.raises(ValueError, match="no PyTorch twin for the model kind 'no_twin'"):
        twin_of(NoTwin(BASE["neural_bigram"]))


# ---- the same numbers three ways: the Value forward, the float copy, step by step ---------

@pytest.mark.parametrize("kind,config", VARIANTS, ids=IDS)
def test_float_copy_and_steps_compute_the_value_forward(kind, config):
    model = make(kind, config, seed=3)
    tokens = tokens_for(config, 9, seed=1)
    expected = [[v.data for v in row] for row in model(tokens)]
    fast = model.float_copy()
    got = fast(tokens)
    assert all(type(x) is float for row in got for x in row)
    if config.fused:
        assert got == expected
    else:  # plain sums are chains of `+`: equal up to the last bits from Python 3.12
        assert max_difference(got, expected) < 1e-12
    state = model.new_state()
    one_by_one = [[v.data for v in model.step(t, state)] for t in tokens]
    assert one_by_one == expected
    assert evaluate(model, [tokens]) == pytest.approx(model.loss(tokens).data, abs=1e-12)


@pytest.mark.parametrize("kind", list(BASE))
def test_generate_runs_on_floats_past_any_length(kind):
    model = make(kind, BASE[kind])
    first = model.generate([1, 2], 40, rng=random.Random(5))
    assert len(first) == 40 and all(0 <= t < BASE[kind].vocab_size for t in first)
    assert model.generate([1, 2], 40, rng=random.Random(5)) == first  # same seed, same text


@pytest.mark.parametrize("kind", list(BASE))
def test_the_pytorch_twin_generates_the_same_tokens(kind, torch):
    from micrograd_gpt.training.interop import to_torch

    model = make(kind, BASE[kind])
    twin = to_torch(model)
    for knobs in (dict(), dict(temperature=0.7, top_k=3), dict(top_p=0.8, stop_token=0)):
        ours = model.generate([1, 2], 30, rng=random.Random(6), **knobs)
        assert twin.generate([1, 2], 30, rng=random.Random(6), **knobs) == ours, knobs


# ---- gradients: finite differences, and PyTorch float64 -----------------------------------

def loss_of_parameters(model, tokens):
    """`model.loss(tokens)` as a function of every parameter (for gradcheck): the leaves it
    is given are put in the parameters' places."""
    tensors = [tensor for _, tensor in model.named_tensors()]

    def loss(*leaves):
        it = iter(leaves)
        for tensor in tensors:
            rows = tensor if isinstance(tensor[0], list) else [tensor]
            for row in rows:
                row[:] = [next(it) for _ in row]
        return model.loss(tokens)

    return loss, [p.data for p in model.parameters()]


@pytest.mark.parametrize("kind,config", VARIANTS[:4] + [("rnn", dataclasses.replace(
    BASE["rnn"], cell="gru"))], ids=IDS[:4] + ["gru"])
def test_gradients_pass_gradcheck(kind, config):
    model = make(kind, config, seed=2)
    func, inputs = loss_of_parameters(model, tokens_for(config, 7, seed=2))
    result = gradcheck(func, inputs)
    assert result.passed, result
    assert len(inputs) == len(model.parameters()) and max(map(abs, result.analytic)) > 1e-3


@pytest.mark.parametrize("kind,config", VARIANTS, ids=IDS)
def test_logits_loss_and_gradients_equal_pytorch(kind, config, torch):
    from micrograd_gpt.training.interop import to_torch

    model = make(kind, config, seed=1)
    twin = to_torch(model)
    assert {name for name, _ in twin.named_parameters()} == set(model.state_dict())
    tokens = tokens_for(config, 8, seed=4)
    expected = twin(torch.tensor(tokens[:-1])).tolist()
    assert max_difference([[v.data for v in row] for row in model(tokens[:-1])], expected) < 1e-9
    loss, expected_loss = model.loss(tokens), twin.loss(torch.tensor(tokens))
    assert abs(loss.data - expected_loss.item()) < 1e-9
    loss.backward()
    expected_loss.backward()
    ours = {name: [[v.grad for v in row] if isinstance(row, list) else row.grad
                   for row in tensor] for name, tensor in model.named_tensors()}
    for name, p in twin.named_parameters():
        assert max_difference(ours[name], p.grad.tolist()) < 1e-9, name


def test_the_torch_twins_take_a_batch(torch):
    from micrograd_gpt.training.interop import to_torch

    for kind in BASE:
        model = make(kind, BASE[kind])
        batch = [tokens_for(BASE[kind], 5, seed=s) for s in range(3)]
        logits = to_torch(model)(torch.tensor(batch))
        assert tuple(logits.shape) == (3, 5, BASE[kind].vocab_size)
        assert max_difference([[v.data for v in r] for r in model(batch[2])],
                              logits[2].tolist()) < 1e-9


# ---- the bigram: counting, and the gradient descent that converges to it ------------------

DOCS = [[0, 1, 2, 1, 0], [0, 2, 2, 3, 0], [0, 3, 1, 0], [0, 1, 1, 2, 3, 0]]


def test_counting_gives_the_smoothed_frequencies():
    model = CountingBigram(BigramConfig(vocab_size=4, smoothing=0.5))
    counts = model.fit(DOCS)
    assert counts == count_bigrams(DOCS, 4)
    assert counts[1] == [2, 1, 2, 0] and sum(map(sum, counts)) == sum(len(d) - 1 for d in DOCS)
    probs = [math.exp(v.data) for v in model([1])[0]]
    assert probs == pytest.approx([2.5 / 7, 1.5 / 7, 2.5 / 7, 0.5 / 7], abs=1e-15)
    # the exact loss, from the counts alone: -1/N Σ N[a][b] ln p(b|a)
    table = bigram_log_probs(counts, 0.5)
    exact = -sum(n * table[a][b] for a, row in enumerate(counts) for b, n in enumerate(row))
    assert evaluate(model, DOCS) == pytest.approx(exact / sum(map(sum, counts)), abs=1e-14)


def test_the_neural_bigram_converges_to_the_counting_loss():
    vocab = 4
    counted = CountingBigram(BigramConfig(vocab_size=vocab, smoothing=1e-9))
    counted.fit(DOCS)
    floor = evaluate(counted, DOCS)  # ≈ the maximum-likelihood loss (k → 0)
    model = NeuralBigram(NeuralBigramConfig(vocab_size=vocab))
    assert evaluate(model, DOCS) == pytest.approx(math.log(vocab))  # starts uniform
    optimizer = Adam(model.parameters(), lr=0.2)
    losses = []
    for _ in range(400):  # full-batch gradient descent
        loss = sum(model.loss(doc, reduction="sum") for doc in DOCS) * (
            1.0 / sum(len(d) - 1 for d in DOCS))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
    assert losses[-1] < losses[0] - 0.3
    assert floor <= evaluate(model, DOCS) < floor + 2e-3  # from above, as it must
    # and its probabilities are the counted ones
    for a in range(vocab):
        got = [math.exp(x) for x in _log_softmax([v.data for v in model([a])[0]])]
        want = [math.exp(v.data) for v in counted([a])[0]]
        assert max_difference(got, want) < 0.02


def _log_softmax(xs):
    m = max(xs)
    log_total = math.log(sum(math.exp(x - m) for x in xs)) + m
    return [x - log_total for x in xs]


def test_a_bigram_sees_only_the_last_token():
    model = make("neural_bigram", BASE["neural_bigram"])
    a, b = model([3, 1, 2]), model([0, 2])
    assert [v.data for v in a[-1]] == [v.data for v in b[-1]]


def test_the_mlp_sees_exactly_its_window():
    model = make("mlp", dataclasses.replace(BASE["mlp"], context=2))
    last = lambda tokens: [v.data for v in model(tokens)[-1]]  # noqa: E731
    assert last([4, 1, 2]) == last([5, 3, 1, 2])        # only the last 2 tokens matter
    assert last([4, 1, 2]) != last([4, 0, 2])
    assert last([2]) != last([1, 2])                     # "before the start" is its own row


def test_the_rnn_remembers_the_distant_past():
    model = make("rnn", BASE["rnn"])
    last = lambda tokens: [v.data for v in model(tokens)[-1]]  # noqa: E731
    assert last([4, 1, 2, 3, 3, 3]) != last([5, 1, 2, 3, 3, 3])


def test_parameter_counts():
    for config in (ContextMLPConfig(vocab_size=27), ContextMLPConfig(vocab_size=5, context=1)):
        assert len(ContextMLP(config).parameters()) == mlp_parameters(config)
    for cell in ("rnn", "gru"):
        config = RNNConfig(vocab_size=27, cell=cell)
        assert len(RNN(config).parameters()) == rnn_parameters(config)


# ---- checkpoints: every kind saves and loads itself ---------------------------------------

@pytest.mark.parametrize("kind", list(BASE) + ["gru"])
def test_checkpoint_round_trip_per_kind(kind, tmp_path):
    tokenizer = CharTokenizer.from_documents(["abc", "cab", "bad"])  # 4 letters + BOS
    config = BASE.get(kind) or dataclasses.replace(BASE["rnn"], cell="gru")
    config = dataclasses.replace(config, vocab_size=tokenizer.vocab_size)
    model = make("rnn" if kind == "gru" else kind, config, seed=7)
    if kind == "bigram":  # a checkpoint holds a table of log-probabilities: normalise it
        for row in model.log_probs:
            log_total = math.log(math.fsum(math.exp(p.data) for p in row))
            for p in row:
                p.data -= log_total
    save_checkpoint(tmp_path / "m.json", model=model, tokenizer=tokenizer, step=3)
    loaded = load_checkpoint(tmp_path / "m.json")
    assert type(loaded.model) is type(model) and loaded.model.config == model.config
    assert loaded.model.state_dict() == model.state_dict()
    tokens = [tokenizer.bos, 1, 2, 0]
    assert [[v.data for v in r] for r in loaded.model(tokens)] == \
        [[v.data for v in r] for r in model(tokens)]


def test_build_model_and_bad_configs():
    assert isinstance(build_model("rnn", {"vocab_size": 5, "cell": "gru"}), RNN)
    with pytest.raises(ValueError, match="cell"):
        RNNConfig(vocab_size=5, cell="lstm")
    with pytest.raises(ValueError, match="smoothing"):
        BigramConfig(vocab_size=5, smoothing=0)
    with pytest.raises(ValueError, match="context"):
        ContextMLPConfig(vocab_size=5, context=0)
    with pytest.raises(ValueError, match="RNNConfig"):
        RNN(GPTConfig(vocab_size=5, d_model=4, num_heads=1, num_layers=1, max_seq_len=4))
    with pytest.raises(ValueError, match="state"):
        make("mlp", BASE["mlp"]).step(1, [0])
    with pytest.raises(ValueError, match="no field"):
        build_model("mlp", {"vocab_size": 5, "d_model": 8})
    with pytest.raises(NotImplementedError, match="gradient"):
        make("rnn", BASE["rnn"]).fit([[0, 1]])
