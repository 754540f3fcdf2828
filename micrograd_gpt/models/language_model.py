"""What every language model here offers: the one interface the rest of the package uses.

A language model reads token ids left to right and, after each one, gives a score (a
logit) to every token of the vocabulary as the next one. The trainer, the sampler,
checkpoints, the command line and the pictures ask nothing more of a model than this
class describes, so a bigram table, an MLP, an RNN and a GPT (the ladder of chapter 11)
are all trained, sampled, saved and drawn by the same code.

What a model writes (a subclass of `LanguageModel`, listed in registry.MODEL_CLASSES):

    kind                 its name: "bigram", "neural_bigram", "mlp", "rnn", "gpt" (what
                         `--model` and a checkpoint's model_kind say)
    config_class         a dataclass of its sizes and choices, with at least vocab_size;
                         `config_class(**asdict(c))` rebuilds it (a checkpoint stores the
                         fields); an optional `fused` field picks fused or plain nodes
    default_preset       the name of the preset `train --model KIND` starts from
                         (training/presets.py: its sizes and training settings)
    torch_twin           where its PyTorch twin is, as a dotted name
                         ("micrograd_gpt.models.torch_twins.TorchGPT"), so that nothing
                         imports torch before the torch engine asks; None: no twin
    __init__(config, rng=None)   draws its initial weights with `rng` (a random.Random)
    max_context          how many tokens it can look back on (None: no limit). forward
                         and loss refuse longer sequences; generate crops to it
    new_state()          the memory of one sequence before its first token: the GPT's
                         key/value cache, the RNN's hidden vector, the MLP's window of the
                         last tokens, None for the bigram
    forward_token(token, state)  the logits [V] (a new list) for what follows `token`,
                         given the tokens before it in `state`; updates `state` to include
                         `token`. It is the model's forward for one position, as a
                         PyTorch module's `forward`: a whole sequence is a loop of it, so
                         there is no second forward to keep equal to it. Forward code uses
                         `micrograd_gpt.autograd.functional` and plain-number constants
                         only (see `check_plain`), so the same code runs on a
                         `float_copy()` without building a graph
    trained_by_gradient  True (default): `train()` takes optimizer steps on `loss`.
    fit(documents)       only when trained_by_gradient is False: sets the weights in one
                         pass over the training documents (the counting bigram)
    extra_repr()         one line of sizes (shown in the run's log and in `repr`)

What it gets from here and from `Module`:

    forward(tokens)      logits [T][V]: row t scores every candidate for token t+1
    step(token, state)   `forward_token` with its checks: call `step`, write
                         `forward_token` (as you call a PyTorch module and write `forward`)
    loss(tokens)         mean next-token cross-entropy: tokens[:-1] predict tokens[1:]
    generate(prompt, n)  n sampled tokens after the prompt (no graph: see `float_copy`)
    parameters(), named_parameters(), state_dict(), load_state_dict(), zero_grad(),
    float_copy(), named_modules()       the weights, by dotted name; `float_copy()` is the
                         same model on plain floats (evaluation and generation use it)

Tools that look inside a model (graphs by module, recorded predictions) use only the
above: the module names (`named_modules`) and what forward returns. A kind may offer more
for them to show (the GPT's attention weights); such extras are optional.
"""
from __future__ import annotations

import os

from ..autograd import functional as F
from ..autograd.tape import record_for_backward
from ..common.checks import check_choice, check_token_ids
from .nn import Module
from .generation import check_generate_arguments, sample_token

__all__ = ["LanguageModel", "check_plain", "physical_memory", "BYTES_PER_PARAMETER"]

# about how many bytes a parameter takes as a Value: the object with its slots and its
# place in the lists of its tensor (measured with tracemalloc: 129 for a GPT's)
BYTES_PER_PARAMETER = 128


def physical_memory():
    """This machine's memory in bytes, or None where the system does not say (Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


class LanguageModel(Module):
    """Base class of every model that predicts the next token (see the module docstring)."""

    kind = None            # the kind's name (registry.MODELS)
    config_class = None    # the dataclass of its sizes and choices
    default_preset = None  # the preset `train --model KIND` starts from
    torch_twin = None      # "package.module.Class" of its PyTorch twin; None: no twin
    trained_by_gradient = True  # False: `fit(documents)` sets the weights (no optimizer)

    # ---- what a model writes -------------------------------------------------------------

    @property
    def max_context(self):
        """How many tokens the model can look back on; None for no limit."""
        return None

    def new_state(self):
        """The memory of one sequence, before its first token."""
        raise NotImplementedError(f"{type(self).__name__} must define new_state()")

    def forward_token(self, token, state):
        """The logits [V] for what follows `token`, after the tokens held in `state`;
        adds `token` to `state`. Every model kind writes this (see the module docstring)."""
        raise NotImplementedError(f"{type(self).__name__} must define forward_token()")

    def fit(self, documents):
        """Set the weights in one pass over `documents` (lists of token ids); only models
        with trained_by_gradient = False (the counting bigram) have it."""
        raise NotImplementedError(f"{type(self).__name__} is trained by gradient descent "
                                  "(train()), not fit in one pass")

    @classmethod
    def count_parameters(cls, config):
        """How many parameters `cls(config)` has, known from the config alone.

        Checkpoints compare it with the weights a file holds before they build the model,
        so a small file claiming a huge model is refused without allocating it. This
        default builds the model to count; a kind whose size can be large overrides it
        with a formula (GPT does)."""
        return len(cls(config).parameters())

    @classmethod
    def check_size(cls, config):
        """A ValueError, before anything is built, when `cls(config)` could not fit in this
        machine's memory: each parameter is a Value, about BYTES_PER_PARAMETER bytes, so
        a config with a huge vocabulary or width would fill the memory for minutes and
        then fail. Each model's constructor calls it first."""
        count = cls.count_parameters(config)
        memory = physical_memory()
        if memory is not None and count * BYTES_PER_PARAMETER > memory:
            raise ValueError(
                f"config: this {cls.__name__} would have {count:,} parameters, about "
                f"{count * BYTES_PER_PARAMETER / 2 ** 30:,.0f} GiB as Values "
                f"({BYTES_PER_PARAMETER} bytes each), more than this machine's "
                f"{memory / 2 ** 30:,.0f} GiB of memory; make it smaller (vocab_size, "
                "d_model, num_layers...)")

    @classmethod
    def check_weights(cls, weights):
        """Checks a kind needs on its weights (a state_dict: name -> numbers, of the right
        shapes) beyond finite numbers: none here; the counting bigram checks that its
        table holds log-probabilities. Checkpoints call it before building the model."""

    @property
    def vocab_size(self):
        return self.config.vocab_size

    @property
    def fused(self):
        """Whether this model's graph uses fused n-ary nodes (see functional.fused_ops)."""
        return getattr(self.config, "fused", True)

    # ---- given from the above --------------------------------------------------------------

    def forward(self, tokens):
        """tokens: [T] ints -> logits [T][V]: row t scores every candidate for token t+1."""
        self.check_tokens(tokens, "tokens", max_length=self.max_context)
        with F.fused_ops(self.fused), F.weights_fixed():  # (weights read once per forward)
            state = self.new_state()
            return [self.forward_token(token, state) for token in tokens]

    def step(self, token, state):
        """Logits [V] for `token` at the next position of `state`; adds it to `state`.

        Feeding tokens one by one through `step` gives the same logits as `model(tokens)`.
        """
        self.check_tokens([token], "token", max_length=1)
        with F.fused_ops(self.fused):
            return self.forward_token(token, state)

    @record_for_backward  # built on a Tape: loss.backward() needs no search of the graph
    def loss(self, tokens, reduction="mean"):
        """Next-token cross-entropy: tokens[:-1] predict tokens[1:].

        loss = Σ_t -log softmax(logits_t)[tokens[t+1]], divided by len(tokens)-1 when
        reduction="mean" (the default); reduction="sum" keeps the sum (for averaging a batch
        over its total number of predictions). Returns one Value (a float on a float copy).
        """
        check_choice("reduction", reduction, ("mean", "sum"))
        # T+1 tokens make T predictions: the forward itself sees at most max_context
        limit = None if self.max_context is None else self.max_context + 1
        self.check_tokens(tokens, "tokens", min_length=2, max_length=limit)
        logits = self(tokens[:-1])  # the last token predicts nothing we know
        with F.fused_ops(self.fused):
            losses = [F.cross_entropy(row, target) for row, target in zip(logits, tokens[1:])]
            return F.mean(losses) if reduction == "mean" else F.sum_values(losses)

    def generate(self, prompt, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                 rng=None, stop_token=None):
        """Sample up to `max_new_tokens` new tokens after `prompt`; returns only the new ones.

        Each step turns the last logits into probabilities (see `generation.sample_token`:
        temperature, then top-k, then top-p) and draws one token with `rng` (a
        random.Random; None means random.Random(0), so the same call gives the same tokens).
        Stops early right after emitting `stop_token`, if given (it is the last element
        returned).

        Builds no graph at all: it runs the model's own forward on a `float_copy()` (plain
        floats), so each new token costs one position. Past `max_context` the context is
        cropped to the last `max_context` tokens and the state rebuilt from them, which is
        what nanoGPT computes.
        """
        rng = check_generate_arguments(self.vocab_size, prompt, max_new_tokens, temperature,
                                       top_k, top_p, rng, stop_token)
        sequence, new_tokens = list(prompt), []
        if max_new_tokens == 0:
            return new_tokens
        fast = self.float_copy()
        limit = self.max_context
        state, logits, fed = _prefill(fast, sequence if limit is None else sequence[-limit:])
        while True:
            token = sample_token(logits, temperature, top_k, top_p, rng)
            new_tokens.append(token)
            sequence.append(token)
            if token == stop_token or len(new_tokens) == max_new_tokens:
                return new_tokens
            if limit is None or fed < limit:
                logits = check_plain(fast.forward_token(token, state), type(self).__name__)
                fed += 1
            else:  # the context is full: crop to the last `limit` tokens, rebuild the state
                state, logits, fed = _prefill(fast, sequence[-limit:])

    # ---- checks ---------------------------------------------------------------------------

    def check_tokens(self, tokens, name, min_length=1, max_length=None):
        """A ValueError unless `tokens` is a list of min_length..max_length ids in [0, V)."""
        check_token_ids(name, tokens, self.vocab_size, min_length, max_length)


def _prefill(fast, context):
    """A fresh state holding `context`, the logits after its last token, and its length."""
    state = fast.new_state()
    with F.fused_ops(fast.fused):
        for token in context:
            logits = fast.forward_token(token, state)
    return state, check_plain(logits, type(fast).__name__), len(context)


def check_plain(numbers, model_name):
    """`numbers` if they are plain floats; else a RuntimeError that says why they are not.

    On a `float_copy()` every number a forward computes is a float. A Value among the
    results means some forward code made a Value of its own (such as a constant written
    `Value(0.5)`), which then turned every number it touched back into a graph node: the
    fast path would silently become the slow one. Use plain numbers and the functions of
    `micrograd_gpt.autograd.functional` in forward code instead.
    """
    if not F.is_plain(numbers):
        raise RuntimeError(
            f"{model_name}: the forward pass of its float copy returned Values, not floats: "
            "some forward code creates Values of its own (e.g. Value(0.5) as a constant). "
            "Write constants as plain numbers and use micrograd_gpt.autograd.functional, which "
            "works on both Values and floats.")
    return numbers
