"""The `microgpt` preset is karpathy's microgpt.py, choice for choice.

The reference below is written in this file from microgpt.py's published description, and
shares no code with the package: its own parameter layout (wte, wpe, lm_head, then per
layer attn_wq, attn_wk, attn_wv, attn_wo, mlp_fc1, mlp_fc2, as microgpt.py lays them out),
its own forward over lists of scalars, its own Adam. The weights come from one known list
of numbers, read in the reference's order and put into the preset's model by name. Then:

* without PyTorch: the first losses of several names agree within 1e-9;
* with PyTorch (the reference's scalars become float64 tensors, so torch supplies the
  gradients): the losses of the first Adam steps of the preset's own training step,
  optimizer and schedule agree within 1e-9, and so do the weights after them.

What microgpt.py does, as its source describes it: token + position embedding, summed,
then rmsnorm (mean of squares + 1e-5, no learned gain); per layer a pre-norm causal
attention (4 heads, scores q·k / sqrt(head_dim), softmax over the positions so far) and a
pre-norm MLP (16 -> 64, relu, 64 -> 16), each added to the residual; no final norm; logits
from a separate lm_head. The loss of a document is the mean of -log p(next token) over its
positions (at most 16). Adam with betas 0.85 and 0.99, eps 1e-8 outside the square root,
both moments bias-corrected with the step number t = 1, 2, ...; the learning rate
0.01 · (1 - step / 1000) for step = 0, 1, ...; one document per step; no clipping.
"""
import math
import random

import pytest

from micrograd_gpt import count_parameters
from micrograd_gpt.training.data import CharTokenizer, load_dataset, split_lines
from micrograd_gpt.models.registry import build_model
from micrograd_gpt.training.lr_schedules import make_schedule
from micrograd_gpt.training.optim import make_optimizer
from micrograd_gpt.training.presets import PRESETS
from micrograd_gpt.training.engines import train_step
from micrograd_gpt.training.settings import TrainConfig

N_EMBD, N_HEAD, N_LAYER, BLOCK_SIZE, VOCAB = 16, 4, 1, 16, 27
HEAD_DIM = N_EMBD // N_HEAD
NUM_STEPS, LEARNING_RATE, BETA1, BETA2, EPS_ADAM = 1000, 0.01, 0.85, 0.99, 1e-8


# ---- the reference ---------------------------------------------------------------------

def reference_shapes():
    """(name, rows, columns) of every matrix, in microgpt.py's order."""
    shapes = [("wte", VOCAB, N_EMBD), ("wpe", BLOCK_SIZE, N_EMBD), ("lm_head", VOCAB, N_EMBD)]
    for i in range(N_LAYER):
        shapes += [(f"layer{i}.attn_wq", N_EMBD, N_EMBD), (f"layer{i}.attn_wk", N_EMBD, N_EMBD),
                   (f"layer{i}.attn_wv", N_EMBD, N_EMBD), (f"layer{i}.attn_wo", N_EMBD, N_EMBD),
                   (f"layer{i}.mlp_fc1", 4 * N_EMBD, N_EMBD),
                   (f"layer{i}.mlp_fc2", N_EMBD, 4 * N_EMBD)]
    return shapes


def reference_weights(numbers):
    """The known list of numbers, cut into the reference's matrices (lists of rows)."""
    weights, i = {}, 0
    for name, rows, cols in reference_shapes():
        weights[name] = [list(numbers[i + r * cols:i + (r + 1) * cols]) for r in range(rows)]
        i += rows * cols
    assert i == len(numbers)
    return weights


class FloatOps:
    """Vectors are lists of floats, matrices lists of rows: no torch needed."""

    @staticmethod
    def matvec(w, x):
        return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]

    @staticmethod
    def add(a, b):
        return [x + y for x, y in zip(a, b)]

    @staticmethod
    def dot(a, b):
        return sum(x * y for x, y in zip(a, b))

    @staticmethod
    def rmsnorm(x):  # no gain
        scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
        return [xi * scale for xi in x]

    @staticmethod
    def softmax(z):
        biggest = max(z)
        e = [math.exp(zi - biggest) for zi in z]
        return [ei / sum(e) for ei in e]

    @staticmethod
    def weighted_sum(weights, vectors):  # Σ_t weights[t] · vectors[t]
        return [sum(a * v[j] for a, v in zip(weights, vectors)) for j in range(len(vectors[0]))]

    relu = staticmethod(lambda x: [max(xi, 0.0) for xi in x])
    vector = staticmethod(list)
    concat = staticmethod(lambda vectors: [x for vector in vectors for x in vector])
    log = staticmethod(math.log)


class TorchOps:
    """The same on float64 tensors (1-d vectors, 2-d matrices), so torch can differentiate."""

    def __init__(self, torch):
        self.torch = torch

    def matvec(self, w, x):
        return w @ x

    def add(self, a, b):
        return a + b

    def dot(self, a, b):
        return (a * b).sum()

    def rmsnorm(self, x):
        return x * ((x * x).mean() + 1e-5) ** -0.5

    def softmax(self, z):
        e = (z - z.max().detach()).exp()
        return e / e.sum()

    def weighted_sum(self, weights, vectors):
        return (weights[:, None] * self.torch.stack(vectors)).sum(dim=0)

    def relu(self, x):
        return x.clamp(min=0.0)

    def vector(self, scalars):
        return self.torch.stack(scalars)

    def concat(self, vectors):
        return self.torch.cat(vectors)

    def log(self, x):
        return x.log()


def reference_loss(w, tokens, ops=FloatOps):
    """Mean next-token -log p over the document, microgpt.py's architecture."""
    n = min(BLOCK_SIZE, len(tokens) - 1)
    keys, values = [[] for _ in range(N_LAYER)], [[] for _ in range(N_LAYER)]
    total = 0.0
    for pos in range(n):
        x = ops.rmsnorm(ops.add(w["wte"][tokens[pos]], w["wpe"][pos]))
        for li in range(N_LAYER):
            h = ops.rmsnorm(x)
            q, k, v = (ops.matvec(w[f"layer{li}.attn_{m}"], h) for m in ("wq", "wk", "wv"))
            keys[li].append(k)
            values[li].append(v)
            heads = []
            for head in range(N_HEAD):
                lo, hi = head * HEAD_DIM, (head + 1) * HEAD_DIM
                scores = ops.vector([ops.dot(q[lo:hi], key[lo:hi]) / HEAD_DIM ** 0.5
                                     for key in keys[li]])
                heads.append(ops.weighted_sum(ops.softmax(scores),
                                              [value[lo:hi] for value in values[li]]))
            x = ops.add(x, ops.matvec(w[f"layer{li}.attn_wo"], ops.concat(heads)))
            hidden = ops.relu(ops.matvec(w[f"layer{li}.mlp_fc1"], ops.rmsnorm(x)))
            x = ops.add(x, ops.matvec(w[f"layer{li}.mlp_fc2"], hidden))
        probabilities = ops.softmax(ops.matvec(w["lm_head"], x))
        total = total - ops.log(probabilities[tokens[pos + 1]])
    return total / n


def reference_training(torch, numbers, documents):
    """The losses of len(documents) Adam steps, one document each, and the final weights."""
    w = {name: torch.tensor(rows, dtype=torch.float64, requires_grad=True)
         for name, rows in reference_weights(numbers).items()}
    m = {name: torch.zeros_like(p) for name, p in w.items()}
    v = {name: torch.zeros_like(p) for name, p in w.items()}
    losses = []
    for step, tokens in enumerate(documents):
        loss = reference_loss(w, tokens, TorchOps(torch))
        for p in w.values():
            p.grad = None
        loss.backward()
        lr_t = LEARNING_RATE * (1 - step / NUM_STEPS)
        with torch.no_grad():
            for name, p in w.items():
                g = p.grad if p.grad is not None else torch.zeros_like(p)
                m[name] = BETA1 * m[name] + (1 - BETA1) * g
                v[name] = BETA2 * v[name] + (1 - BETA2) * g ** 2
                m_hat = m[name] / (1 - BETA1 ** (step + 1))
                v_hat = v[name] / (1 - BETA2 ** (step + 1))
                p -= lr_t * m_hat / (v_hat ** 0.5 + EPS_ADAM)
        losses.append(loss.item())
    return losses, {name: p.tolist() for name, p in w.items()}


# ---- the preset, loaded with the same numbers ------------------------------------------

# the package's parameter names for each of the reference's matrices
OUR_NAMES = {"wte": "wte.weight", "wpe": "wpe.weight", "lm_head": "lm_head.weight",
             "layer0.attn_wq": "blocks.0.attn.wq.weight",
             "layer0.attn_wk": "blocks.0.attn.wk.weight",
             "layer0.attn_wv": "blocks.0.attn.wv.weight",
             "layer0.attn_wo": "blocks.0.attn.wo.weight",
             "layer0.mlp_fc1": "blocks.0.mlp.fc.weight",
             "layer0.mlp_fc2": "blocks.0.mlp.proj.weight"}


def known_numbers(seed=7):
    """4,192 weights: N(0, 0.08²) draws, as microgpt.py initializes every matrix."""
    rng = random.Random(seed)
    return [rng.gauss(0.0, 0.08) for _ in range(4192)]


def preset_model(numbers):
    model = build_model("gpt", dict(PRESETS["microgpt"]["model"], vocab_size=VOCAB))
    model.load_state_dict({OUR_NAMES[name]: rows
                           for name, rows in reference_weights(numbers).items()})
    return model


def names_as_tokens(count):
    names = split_lines(load_dataset("names"))
    tokenizer = CharTokenizer.from_documents(names)
    assert tokenizer.vocab_size == VOCAB
    # and one name longer than the context, which both crop to 16 predictions
    picked = random.Random(3).sample(names, count - 1) + ["maximilianchristopher"]
    return [tokenizer.encode_document(name) for name in picked]


def test_the_preset_has_microgpt_sizes_and_4192_parameters():
    model = preset_model(known_numbers())
    assert count_parameters(model.config) == len(model.parameters()) == 4192
    config = TrainConfig.from_preset("microgpt")
    assert (config.steps, config.batch_size, config.lr, config.lr_schedule) == (
        NUM_STEPS, 1, LEARNING_RATE, "linear")
    assert (config.warmup_steps, config.optimizer, config.betas, config.eps) == (
        0, "adam", (BETA1, BETA2), EPS_ADAM)
    assert config.grad_clip is None and config.weight_decay == 0.0
    assert model.config.init_std == 0.08


def test_first_losses_equal_the_reference_without_torch():
    numbers = known_numbers()
    model = preset_model(numbers)
    reference = reference_weights(numbers)
    documents = names_as_tokens(6)
    assert max(len(d) for d in documents) > BLOCK_SIZE + 1  # one name is cropped
    for tokens in documents:
        expected = reference_loss(reference, tokens)
        got = model.loss(tokens[:BLOCK_SIZE + 1]).data
        assert abs(got - expected) < 1e-9, (tokens, got, expected)
        assert abs(model.float_copy().loss(tokens[:BLOCK_SIZE + 1]) - expected) < 1e-9
    # the check has teeth: another architecture gives other losses
    tweaked = build_model("gpt", dict(PRESETS["microgpt"]["model"], vocab_size=VOCAB,
                                      final_norm=True))
    tweaked.load_state_dict(model.state_dict())
    assert abs(tweaked.loss(documents[0]).data - reference_loss(reference, documents[0])) > 1e-3


@pytest.mark.slow
def test_adam_steps_of_the_preset_equal_the_reference(torch):
    numbers = known_numbers(seed=11)
    documents = names_as_tokens(5)
    expected_losses, expected_weights = reference_training(torch, numbers, documents)

    config = TrainConfig.from_preset("microgpt")
    model = preset_model(numbers)
    optimizer = make_optimizer(config.optimizer, model.parameters(), lr=config.lr,
                               betas=config.betas, eps=config.eps,
                               weight_decay=config.weight_decay, momentum=config.momentum)
    schedule = make_schedule(config.lr_schedule, config.lr, config.steps, config.warmup_steps)
    losses = []
    for step, tokens in enumerate(documents):
        batch = [tokens[:BLOCK_SIZE + 1]]  # the data crops as microgpt.py does
        loss, _ = train_step(model, optimizer, batch, schedule(step), config.grad_clip)
        losses.append(loss)
    for step, (got, want) in enumerate(zip(losses, expected_losses)):
        assert abs(got - want) < 1e-9, (step, got, want)
    assert losses[-1] != losses[0]
    state = model.state_dict()
    for name, rows in expected_weights.items():
        worst = max(abs(a - b) for got_row, want_row in zip(state[OUR_NAMES[name]], rows)
                    for a, b in zip(got_row, want_row))
        assert worst < 1e-9, name


@pytest.mark.slow
@pytest.mark.parametrize("change, field", [
    ({"betas": (0.9, 0.99)}, "betas"), ({"lr_schedule": "constant"}, "lr_schedule"),
    ({"eps": 1e-3}, "eps")])
def test_a_different_training_choice_is_noticed(torch, change, field):
    """The step comparison has teeth: one training setting changed, the losses part."""
    numbers = known_numbers(seed=11)
    documents = names_as_tokens(3)
    expected_losses, _ = reference_training(torch, numbers, documents)
    config = TrainConfig.from_preset("microgpt", **change)
    model = preset_model(numbers)
    optimizer = make_optimizer(config.optimizer, model.parameters(), lr=config.lr,
                               betas=config.betas, eps=config.eps)
    schedule = make_schedule(config.lr_schedule, config.lr, config.steps, config.warmup_steps)
    losses = [train_step(model, optimizer, [tokens[:BLOCK_SIZE + 1]], schedule(step),
                         config.grad_clip)[0] for step, tokens in enumerate(documents)]
    assert max(abs(a - b) for a, b in zip(losses, expected_losses)) > 1e-7, field
