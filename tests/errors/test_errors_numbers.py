"""Numbers the model, the sampler or the optimizer cannot use: each one is refused with one
clear ValueError naming the argument (or, where the issue asked for it, handled as
documented: a vanishing temperature samples greedily)."""
import copy
import math
import random

import pytest

from micrograd_gpt import functional as F
from micrograd_gpt.models.attention import CausalSelfAttention, KVCache
from micrograd_gpt.training.checkpoint import save_checkpoint
from micrograd_gpt.training.data import CharTokenizer
from micrograd_gpt.autograd.value import Value
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.models.nn import Embedding, LayerNorm, Linear, RMSNorm
from micrograd_gpt.training.clip_grad import clip_grad_norm
from micrograd_gpt.training.optim import SGD, Adam, AdamW, make_optimizer
from micrograd_gpt.models.generation import sample_token
from micrograd_gpt.training.sampling import sample
from micrograd_gpt.training.settings import TrainConfig

NAN, INF = float("nan"), float("inf")


def small_gpt(num_layers=1, num_heads=2, vocab_size=6, seed=0):
    return GPT(GPTConfig(vocab_size=vocab_size, d_model=4, num_heads=num_heads,
                         num_layers=num_layers, max_seq_len=6, init_std=0.5),
               rng=random.Random(seed))


def argmax(xs):
    return max(range(len(xs)), key=xs.__getitem__)


# ---- sampling --------------------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [5e-324, 1e-320, 1e-300, 1e-200, 1e-30])
def test_a_vanishing_temperature_samples_greedily(temperature):
    rng = random.Random(1)
    for _ in range(50):
        logits = [rng.uniform(-20, 20) for _ in range(rng.randrange(2, 30))]
        draws = {sample_token(logits, temperature, rng=random.Random(rng.random()))
                 for _ in range(5)}
        assert draws == {argmax(logits)}
        # with top-k and top-p as well: the argmax survives both filters
        assert sample_token(logits, temperature, top_k=3, top_p=0.5, rng=rng) == argmax(logits)


def test_generate_with_a_vanishing_temperature_is_greedy_decoding():
    model = small_gpt(seed=3)
    prompt = [1, 2]
    greedy, sequence = [], list(prompt)
    fast = model.float_copy()
    for _ in range(4):
        logits = fast(sequence)[-1]
        greedy.append(argmax(logits))
        sequence.append(greedy[-1])
    for temperature in (1e-320, 1e-100, 1e-12):
        assert model.generate(prompt, 4, temperature=temperature,
                              rng=random.Random(7)) == greedy


def test_sample_with_a_vanishing_temperature_gives_the_greedy_text():
    tokenizer = CharTokenizer.from_documents(["abc", "cab"])
    model = small_gpt(vocab_size=tokenizer.vocab_size, seed=5)
    texts = sample(model, tokenizer, 3, temperature=1e-320, rng=random.Random(0),
                   stop_at_bos=False, max_new_tokens=4)
    assert len(set(texts)) == 1 and len(texts[0]) == 4   # one answer, never an empty draw


@pytest.mark.parametrize("logits", [
    [1.0, NAN, 0.5], [INF, 1.0], [1.0, -INF], [NAN], (0.0, 0.0, INF),
    [1.0, "2.0"], [True, 0.0], [1.0, None], [Value(1.0), 2.0],
])
def test_non_finite_or_non_number_logits_are_refused(logits):
    for kwargs in ({}, {"top_k": 1}, {"top_p": 0.9}, {"temperature": 1e-320}):
        with pytest.raises(ValueError, match="logits"):
            sample_token(logits, rng=random.Random(0), **kwargs)


@pytest.mark.parametrize("bad", [0, -1.0, NAN, INF, "0.8", None, True])
def test_bad_temperature(bad):
    with pytest.raises(ValueError, match="temperature"):
        sample_token([1.0, 2.0], temperature=bad)
    with pytest.raises(ValueError, match="temperature"):
        small_gpt().generate([1], 2, temperature=bad)


@pytest.mark.parametrize("rng", ["abc", 0, 1.5, random, [1], object()])
def test_generate_and_sample_refuse_a_non_random_rng(rng):
    model = small_gpt()
    with pytest.raises(ValueError, match="rng: must be a random.Random"):
        model.generate([1], 2, rng=rng)
    with pytest.raises(ValueError, match="rng"):
        sample_token([1.0, 2.0], rng=rng)
    tokenizer = CharTokenizer.from_documents(["abcde"])
    with pytest.raises(ValueError, match="rng"):
        sample(small_gpt(vocab_size=tokenizer.vocab_size), tokenizer, 1, rng=rng)


# ---- functional on plain floats ---------------------------------------------------------------

def test_softmax_and_friends_work_on_plain_floats():
    probs = F.softmax([1.0, 2.0])
    assert probs == pytest.approx([1 / (1 + math.e), math.e / (1 + math.e)], abs=1e-15)
    assert F.softmax((3.0,)) == [1.0]
    assert sum(F.softmax([0.5, -1.0, 2.0, 2.0])) == pytest.approx(1.0, abs=1e-15)
    assert F.log_softmax([1.0, 2.0]) == pytest.approx([math.log(p) for p in probs], abs=1e-15)
    assert F.cross_entropy([1.0, 2.0], 0) == pytest.approx(-math.log(probs[0]), abs=1e-15)
    # the same numbers as the Value path
    assert [v.data for v in F.softmax([Value(1.0), Value(2.0)])] == pytest.approx(probs)


@pytest.mark.parametrize("op", [F.softmax, F.log_softmax, lambda z: F.cross_entropy(z, 0)])
@pytest.mark.parametrize("logits", [[1.0, NAN], [INF, 0.0], [-INF, -INF], [NAN, NAN, 1.0]])
def test_plain_float_logits_must_be_finite(op, logits):
    with pytest.raises(ValueError, match="finite"):
        op(logits)


@pytest.mark.parametrize("logits", [[], 3.0, "ab", None])
def test_logits_must_be_a_non_empty_list(logits):
    for op in (F.softmax, F.log_softmax):
        with pytest.raises(ValueError, match="logits|empty"):
            op(logits)


@pytest.mark.parametrize("target", [True, False, -1, 2, 1.0, "1", None])
def test_cross_entropy_target_must_be_an_index(target):
    for logits in ([Value(1.0), Value(2.0)], [1.0, 2.0]):
        with pytest.raises(ValueError, match="target"):
            F.cross_entropy(logits, target)


# ---- optimizers ------------------------------------------------------------------------------

OPTIMIZER_CLASSES = [SGD, Adam, AdamW]


@pytest.mark.parametrize("cls", OPTIMIZER_CLASSES)
@pytest.mark.parametrize("lr", [NAN, INF, -INF, -0.1, "0.01", None, True, 10 ** 400])
def test_bad_learning_rates_are_refused(cls, lr):
    with pytest.raises(ValueError, match="lr"):
        cls([Value(1.0)], lr=lr)
    opt = cls([Value(1.0)], lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        opt.lr = lr            # the trainer's way of setting it, checked too
    assert opt.lr == 0.1


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("eps", [0, 0.0, -1e-8, NAN, INF, "1e-8", None])
def test_adam_eps_must_be_positive(cls, eps):
    with pytest.raises(ValueError, match="eps: must be a finite number > 0"):
        cls([Value(1.0)], eps=eps)
    with pytest.raises(ValueError, match="eps"):
        make_optimizer(cls.__name__.lower(), [Value(1.0)], lr=0.1, eps=eps)


@pytest.mark.parametrize("eps", [0, 0.0, -1.0, NAN])
def test_train_config_eps_must_be_positive(eps):
    with pytest.raises(ValueError, match="eps"):
        TrainConfig(eps=eps)


def test_a_tiny_eps_and_a_zero_gradient_still_give_finite_weights():
    p, q = Value(1.0), Value(2.0)
    opt = Adam([p, q], lr=0.1, eps=5e-324)
    p.grad, q.grad = 0.0, 1.0      # p never gets a gradient: 0 / (0 + eps) = 0, not 0/0
    for _ in range(3):
        opt.step()
    assert p.data == 1.0 and math.isfinite(q.data) and q.data < 2.0


@pytest.mark.parametrize("params, fragment", [
    ([1, 2], "must hold only Values"), ([1.0], "must hold only Values"),
    ([Value(1.0), "w"], "index 1"), ([], "empty"), (None, "list of Values"),
    ("ab", "list of Values"), (7, "list of Values"),
])
def test_parameters_must_be_values(params, fragment):
    for cls in OPTIMIZER_CLASSES:
        with pytest.raises(ValueError, match=fragment):
            cls(params)


def test_a_parameter_given_twice_is_refused():
    v, w = Value(1.0), Value(2.0)
    for cls in OPTIMIZER_CLASSES:
        with pytest.raises(ValueError, match="index 0 and 2"):
            cls([v, w, v])
    model = small_gpt()
    with pytest.raises(ValueError, match="give each parameter once"):
        Adam(model.parameters() + model.parameters()[:1])


def adam_state(**changes):
    opt = Adam([Value(1.0), Value(2.0)], lr=0.01)
    opt.params[0].grad, opt.params[1].grad = 0.5, -0.25
    opt.step()
    state = copy.deepcopy(opt.state_dict())
    for path, value in changes.items():
        where = state
        keys = path.split("__")
        for key in keys[:-1]:
            where = where[key]
        if value is KeyError:
            del where[keys[-1]]
        else:
            where[keys[-1]] = value
    return state


@pytest.mark.parametrize("changes, fragment", [
    ({"hyperparameters__betas": [2, 2]}, r"betas\[0\]"),
    ({"hyperparameters__betas": [0.9, 1.0]}, r"betas\[1\]"),
    ({"hyperparameters__betas": ["0.9", "0.99"]}, r"betas\[0\]"),
    ({"hyperparameters__betas": [0.9]}, "betas: must be a pair"),
    ({"hyperparameters__betas": "0.9,0.99"}, "betas: must be a pair"),
    ({"hyperparameters__eps": -1}, "eps"),
    ({"hyperparameters__eps": 0}, "eps"),
    ({"hyperparameters__lr": NAN}, "lr"),
    ({"hyperparameters__weight_decay": -0.1}, "weight_decay"),
    ({"hyperparameters__momentum": 0.9}, "unknown field"),
    ({"hyperparameters__eps": KeyError}, "missing field"),
    ({"steps": -3}, "steps"), ({"steps": 1.5}, "steps"), ({"steps": True}, "steps"),
    ({"steps": "2"}, "steps"),
    ({"buffers__m": [INF, 0.0]}, "buffer 'm'"), ({"buffers__m": [NAN, 0.0]}, "buffer 'm'"),
    ({"buffers__v": [-1.0, 0.0]}, "buffer 'v'"), ({"buffers__v": [0.0, "1"]}, "buffer 'v'"),
    ({"buffers__v": [0.0]}, "one per parameter"), ({"buffers__v": None}, "buffer 'v'"),
    ({"buffers__extra": [0.0, 0.0]}, "unknown field"), ({"buffers__m": KeyError}, "missing"),
    ({"type": "SGD"}, "not Adam"), ({"type": None}, "not Adam"),
    ({"hyperparameters": [0.01]}, "hyperparameters: must be a dict"),
    ({"extra": 1}, "unknown field"),
])
def test_load_state_dict_checks_everything_before_changing_anything(changes, fragment):
    opt = Adam([Value(1.0), Value(2.0)], lr=0.05, betas=(0.8, 0.9))
    before = (opt.lr, opt.betas, opt.eps, opt.steps, list(opt.m), list(opt.v))
    with pytest.raises(ValueError, match=fragment):
        opt.load_state_dict(adam_state(**changes))
    assert (opt.lr, opt.betas, opt.eps, opt.steps, list(opt.m), list(opt.v)) == before


@pytest.mark.parametrize("state", [None, [], "Adam", 3])
def test_load_state_dict_of_something_else(state):
    with pytest.raises(ValueError, match="optimizer state"):
        Adam([Value(1.0)]).load_state_dict(state)


def test_sgd_state_is_checked_too():
    opt = SGD([Value(1.0)], lr=0.1, momentum=0.9)
    good = opt.state_dict()
    for change, fragment in [({"momentum": 1.5}, "momentum"), ({"nesterov": "yes"}, "nesterov"),
                             ({"momentum": 0.0, "nesterov": True}, "nesterov")]:
        state = copy.deepcopy(good)
        state["hyperparameters"].update(change)
        with pytest.raises(ValueError, match=fragment):
            opt.load_state_dict(state)
    state = copy.deepcopy(good)
    state["buffers"]["momentum_buffers"] = [INF]
    with pytest.raises(ValueError, match="momentum_buffers"):
        opt.load_state_dict(state)


# ---- gradient clipping -----------------------------------------------------------------------

@pytest.mark.parametrize("bad", [INF, -INF, NAN])
def test_clip_grad_norm_refuses_a_non_finite_gradient(bad):
    params = [Value(1.0), Value(2.0), Value(3.0)]
    params[0].grad, params[1].grad, params[2].grad = 0.5, bad, 0.1
    with pytest.raises(ValueError, match="parameter 1 has gradient"):
        clip_grad_norm(params, 1.0)


@pytest.mark.parametrize("big", [1e160, 1e200, 1e307, -1e308])
def test_clip_grad_norm_handles_gradients_whose_squares_overflow(big):
    params = [Value(1.0), Value(2.0)]
    params[0].grad, params[1].grad = big, big / 2
    norm = clip_grad_norm(params, 1.0)
    assert norm == pytest.approx(abs(big) * math.sqrt(1.25), rel=1e-12)
    clipped = math.hypot(params[0].grad, params[1].grad)
    assert math.isfinite(params[0].grad) and clipped == pytest.approx(1.0, rel=1e-9)


@pytest.mark.parametrize("max_norm", [0, -1.0, NAN, INF, "1", None])
def test_clip_grad_norm_max_norm(max_norm):
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm([Value(1.0)], max_norm)


def test_clip_grad_norm_refuses_non_values():
    with pytest.raises(ValueError, match="must hold only Values"):
        clip_grad_norm([1.0, 2.0], 1.0)


# ---- layers ----------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [LayerNorm, RMSNorm])
@pytest.mark.parametrize("width", [3, 5, 1])
def test_norms_refuse_inputs_of_the_wrong_width(cls, width):
    with pytest.raises(ValueError, match=rf"\({4}\): x has {width} entries, expected 4"):
        cls(4)([Value(1.0)] * width)


@pytest.mark.parametrize("cls", [LayerNorm, RMSNorm])
@pytest.mark.parametrize("eps", [0, -1e-5, NAN, INF, "1e-5", None, True])
def test_norm_eps_must_be_positive(cls, eps):
    with pytest.raises(ValueError, match="eps"):
        cls(4, eps=eps)


@pytest.mark.parametrize("args, fragment", [
    ((4, 0), "num_heads"), ((4, -2), "num_heads"), ((4, 3), "divisible"), ((4, 2.0), "num_heads"),
    ((0, 1), "d_model"), ((True, 1), "d_model"), ((4, True), "num_heads"), (("4", 2), "d_model"),
])
def test_attention_sizes(args, fragment):
    with pytest.raises(ValueError, match=fragment):
        CausalSelfAttention(*args)


@pytest.mark.parametrize("heads", [0, -1, True, 2.5, "2", None])
def test_kv_cache_needs_at_least_one_head(heads):
    with pytest.raises(ValueError, match="num_heads"):
        KVCache(heads)


@pytest.mark.parametrize("args, fragment", [
    ((True, 3), "num_embeddings"), ((0, 3), "num_embeddings"), ((3.0, 2), "num_embeddings"),
    ((3, True), "dim"), ((3, 0), "dim"), ((3, 2), None),
])
def test_embedding_sizes(args, fragment):
    if fragment is None:
        table = Embedding(*args, rng=random.Random(0))
        for index in (True, -1, 3, 1.0, "0"):
            with pytest.raises(ValueError, match="index"):
                table(index)
        return
    with pytest.raises(ValueError, match=fragment):
        Embedding(*args)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"std": -1}, "std"), ({"std": NAN}, "std"), ({"std": INF}, "std"), ({"std": "0.1"}, "std"),
    ({"in_features": 0}, "in_features"), ({"in_features": True}, "in_features"),
    ({"out_features": -3}, "out_features"), ({"bias": "yes"}, "bias"), ({"bias": 1}, "bias"),
    ({"rng": "seed"}, "rng"),
])
def test_linear_arguments(kwargs, fragment):
    args = dict(in_features=2, out_features=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=fragment):
        Linear(**args)


def test_a_cache_from_another_model_is_refused():
    model = small_gpt(num_layers=2)
    others = [small_gpt(num_layers=1).new_state(), small_gpt(num_layers=3).new_state(),
              small_gpt(num_layers=2, num_heads=4).new_state(), None, [1, 2],
              KVCache(2), model.new_state()[:1]]
    for cache in others:
        with pytest.raises(ValueError, match="cache: must come from this model's new_state"):
            model.step(1, cache)
    cache = model.new_state()       # the model's own works, step by step as the forward
    assert [model.step(t, cache)[0].data for t in (1, 2)] == \
        [row[0].data for row in model([1, 2])]


# ---- checkpoints that could never be loaded are never written ------------------------------

def test_save_checkpoint_refuses_a_tokenizer_that_does_not_fit(tmp_path):
    model = small_gpt(vocab_size=6)
    for docs in (["ab"], ["abcdefgh"], ["abcdefghijklmnop"]):   # 3, 9, 17 tokens: not 6
        tokenizer = CharTokenizer.from_documents(docs)
        path = tmp_path / "run.json"
        with pytest.raises(ValueError, match="tokenizer has .* tokens but"):
            save_checkpoint(path, model=model, tokenizer=tokenizer, step=0)
        assert not path.exists()
        assert list(tmp_path.iterdir()) == []       # no temporary file left either
    fitting = CharTokenizer.from_documents(["abcde"])
    path = save_checkpoint(tmp_path / "run.json", model=model, tokenizer=fitting, step=0)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="tokenizer"):
        save_checkpoint(path, model=model, tokenizer=CharTokenizer.from_documents(["a"]),
                        step=1)
    assert path.read_bytes() == before              # the good file is untouched


@pytest.mark.parametrize("kwargs, fragment", [
    ({"step": -1}, "step"), ({"step": 1.5}, "step"), ({"step": True}, "step"),
    ({"history": {"train": [[1, NAN]], "val": []}}, "history"),
    ({"history": {"train": [[1, INF]], "val": []}}, "history"),
    ({"history": {"train": [], "test": []}}, "history"),
    ({"extra": {"x": INF}}, "extra"),
])
def test_save_checkpoint_refuses_what_could_not_be_loaded(tmp_path, kwargs, fragment):
    model = small_gpt(vocab_size=6)
    args = dict(model=model, tokenizer=CharTokenizer.from_documents(["abcde"]), step=0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=fragment):
        save_checkpoint(tmp_path / "run.json", **args)
    assert list(tmp_path.iterdir()) == []
