"""The GPT: configuration, transformer block, model, parameter count and generation.

The architecture is the seed's (and GPT-2's), written with the modules of `nn.py`:

    tokens [T] -> token embedding + position embedding          [T][d]
               -> N x Block: x = x + attn(ln_1(x))               [T][d]
                             x = x + mlp(ln_2(x))
               -> ln_f -> unembedding (tied to the token embedding) -> logits [T][V]

Positions are processed one at a time over a key/value cache (see attention.py), so the
training forward and token-by-token generation share every line of code.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

from . import functional as F
from .attention import CausalSelfAttention, KVCache
from .inference import FloatGPT
from .nn import MLP, Embedding, LayerNorm, Linear, Module, ModuleList, RMSNorm

__all__ = ["GPTConfig", "Block", "GPT", "count_parameters", "sample_token"]


@dataclass
class GPTConfig:
    """The sizes and choices that define a GPT (the seed's names).

    `dataclasses.asdict(config)` gives plain values, and `GPTConfig(**d)` rebuilds it.
    """

    vocab_size: int           # |V|: number of distinct tokens
    d_model: int              # d: width of every position's vector
    num_heads: int            # h: attention heads per layer; d_model must be divisible by h
    num_layers: int           # N: transformer blocks
    max_seq_len: int          # T: the longest sequence (number of learned positions)
    norm: str = "layernorm"   # "layernorm" (gain and bias) or "rmsnorm" (gain only)
    activation: str = "gelu"  # the MLP's nonlinearity: "gelu" (GPT-2's tanh form) or "relu"
    tie_weights: bool = True  # unembedding = token embedding (seed, GPT-2); False adds lm_head
    init_std: float = 0.02    # weights start as N(0, init_std²), as in GPT-2
    fused: bool = True        # fused n-ary nodes (fast); False: plain binary ops (teaching)

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "num_heads", "num_layers", "max_seq_len"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int (>= 1), got {value!r}")
        if self.d_model % self.num_heads:
            raise ValueError(
                f"d_model must be divisible by num_heads: d_model={self.d_model} is not a "
                f"multiple of num_heads={self.num_heads}")
        if self.norm not in ("layernorm", "rmsnorm"):
            raise ValueError(f"norm must be 'layernorm' or 'rmsnorm', got {self.norm!r}")
        if self.activation not in ("gelu", "relu"):
            raise ValueError(f"activation must be 'gelu' or 'relu', got {self.activation!r}")
        for name in ("tie_weights", "fused"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        std = self.init_std
        if isinstance(std, bool) or not isinstance(std, (int, float)) or not (
                0 < std < math.inf):
            raise ValueError(f"init_std must be a positive finite number, got {std!r}")


def count_parameters(config):
    """The number of parameters of `GPT(config)`, from the sizes alone.

    With d = d_model, |V| = vocab_size, T = max_seq_len and N = num_layers:

        |V|·d                 token embedding (also the unembedding when tied)
      + T·d                   learned positions
      + N·(12d² + 4d)         per block: Wq, Wk, Wv, Wo (4d²), MLP d->4d->d (8d²),
                              two LayerNorms (gain + bias: 2d each)
      + 2d                    final LayerNorm
      (+ |V|·d                the separate unembedding `lm_head` when tie_weights=False)

    With norm="rmsnorm" each norm has a gain only: 4d becomes 2d and 2d becomes d.

    The seed prints 2|V|d + ..., counting the tied unembedding twice; that contradicts
    both its "(tied)" and its own "~117M" for GPT-2 small. The formula above, for GPT-2
    small (|V|=50257, T=1024, d=768, N=12), gives 124,356,864 ≈ 124.4M; GPT-2 itself
    also has biases in its attention and MLP layers (9d per block), which makes its
    published 124,439,808. The seed's demo configuration (|V|=100, d=32, h=4, N=2, T=64)
    has 30,144.

    >>> count_parameters(GPTConfig(vocab_size=100, d_model=32, num_heads=4, num_layers=2,
    ...                            max_seq_len=64))
    30144
    """
    d, V, T, N = config.d_model, config.vocab_size, config.max_seq_len, config.num_layers
    norm_size = 2 * d if config.norm == "layernorm" else d
    total = V * d + T * d + N * (12 * d * d + 2 * norm_size) + norm_size
    if not config.tie_weights:
        total += V * d
    return total


def _make_norm(config):
    return LayerNorm(config.d_model) if config.norm == "layernorm" else RMSNorm(config.d_model)


class Block(Module):
    """One transformer block, pre-norm as in GPT-2:

        x = x + attn(ln_1(x))     tokens exchange information (over the cache)
        x = x + mlp(ln_2(x))      each position thinks on its own

    The `x + ...` residual paths let gradients flow straight down through deep stacks.
    x: [d] at one position -> [d].
    """

    def __init__(self, config, rng):
        d, std = config.d_model, config.init_std
        self.ln_1 = _make_norm(config)
        self.attn = CausalSelfAttention(d, config.num_heads, rng=rng, std=std)
        self.ln_2 = _make_norm(config)
        self.mlp = MLP(d, config.activation, rng=rng, std=std)

    def forward(self, x, cache):
        x = [a + b for a, b in zip(x, self.attn(self.ln_1(x), cache))]
        return [a + b for a, b in zip(x, self.mlp(self.ln_2(x)))]


class GPT(Module):
    """A GPT language model made of Values.

    >>> import random
    >>> model = GPT(GPTConfig(vocab_size=10, d_model=8, num_heads=2, num_layers=1,
    ...                       max_seq_len=8), rng=random.Random(0))
    >>> logits = model([1, 2, 3])        # [3][10]: next-token scores after each position
    >>> loss = model.loss([1, 2, 3])     # mean cross-entropy of predicting 2 then 3
    >>> loss.backward()                  # fills .grad of every parameter
    >>> new_tokens = model.generate([1, 2], max_new_tokens=5, rng=random.Random(0))

    Modules: wte (token embedding [V][d]), wpe (positions [T][d]), blocks.0 .. blocks.N-1,
    ln_f, and lm_head ([V][d], only when tie_weights=False; otherwise the logits are
    wte.weight · x, one score per token, as in GPT-2).
    """

    def __init__(self, config, rng=None):
        if not isinstance(config, GPTConfig):
            raise ValueError(f"config must be a GPTConfig, got {type(config).__name__}")
        if rng is None:
            rng = random.Random(0)
        self.config = config
        d, std = config.d_model, config.init_std
        self.wte = Embedding(config.vocab_size, d, rng=rng, std=std)
        self.wpe = Embedding(config.max_seq_len, d, rng=rng, std=std)
        self.blocks = ModuleList([Block(config, rng) for _ in range(config.num_layers)])
        self.ln_f = _make_norm(config)
        if not config.tie_weights:
            self.lm_head = Linear(d, config.vocab_size, bias=False, rng=rng, std=std)

    # ---- the forward pass -----------------------------------------------------------------

    def forward(self, tokens):
        """tokens: [T] ints -> logits [T][V]: row t scores every candidate for token t+1."""
        self._check_tokens(tokens, "tokens", max_length=self.config.max_seq_len)
        with F.fused_ops(self.config.fused):
            cache = self.new_cache()
            return [self._step(token, cache) for token in tokens]

    def new_cache(self):
        """An empty key/value cache: one KVCache per block."""
        return [KVCache(self.config.num_heads) for _ in range(self.config.num_layers)]

    def step(self, token, cache):
        """Logits [V] for `token` at the next position, len(cache[0]); adds it to the cache.

        Feeding tokens one by one through `step` gives the same logits as `model(tokens)`.
        """
        self._check_tokens([token], "token", max_length=1)
        with F.fused_ops(self.config.fused):
            return self._step(token, cache)

    def _step(self, token, cache):
        position = len(cache[0])
        if position >= self.config.max_seq_len:
            raise ValueError(
                f"cache: it already holds max_seq_len={self.config.max_seq_len} positions; "
                f"start a new cache from a cropped context (as generate() does)")
        # token and position embeddings: two rows [d], added
        x = [t + p for t, p in zip(self.wte(token), self.wpe(position))]
        for block, layer_cache in zip(self.blocks, cache):
            x = block(x, layer_cache)  # [d] -> [d]
        x = self.ln_f(x)
        if self.config.tie_weights:
            return F.linear(x, self.wte.weight)  # [d] -> [V]: score of token i is wte[i]·x
        return self.lm_head(x)

    def loss(self, tokens, reduction="mean"):
        """Next-token cross-entropy: tokens[:-1] predict tokens[1:].

        loss = Σ_t -log softmax(logits_t)[tokens[t+1]], divided by len(tokens)-1 when
        reduction="mean" (the default); reduction="sum" keeps the sum (for averaging a batch
        over its total number of predictions). Returns one Value.
        """
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        # T+1 tokens make T predictions: the forward itself sees at most max_seq_len
        self._check_tokens(tokens, "tokens", min_length=2, max_length=self.config.max_seq_len + 1)
        logits = self(tokens[:-1])  # the last token predicts nothing we know
        with F.fused_ops(self.config.fused):
            losses = [F.cross_entropy(row, target) for row, target in zip(logits, tokens[1:])]
            return F.mean(losses) if reduction == "mean" else F.sum_values(losses)

    # ---- generation -----------------------------------------------------------------------

    def generate(self, prompt, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                 rng=None, stop_token=None):
        """Sample up to `max_new_tokens` new tokens after `prompt`; returns only the new ones.

        Each step turns the last logits into probabilities (see `sample_token`: temperature,
        then top-k, then top-p) and draws one token with `rng` (a random.Random; None means
        random.Random(0), so the same call gives the same tokens). Stops early right after
        emitting `stop_token`, if given (it is the last element returned).

        Builds no graph at all: it runs the same forward on plain floats (FloatGPT, with a
        float key/value cache), so each new token costs one
        position. Past max_seq_len the context is cropped to the last max_seq_len tokens and
        the cache rebuilt from them, which is what nanoGPT computes.
        """
        V, T = self.config.vocab_size, self.config.max_seq_len
        self._check_tokens(prompt, "prompt")  # any length: generate() crops it
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or (
                max_new_tokens < 0):
            raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        _check_sampling(temperature, top_k, top_p)
        if stop_token is not None and not (
                isinstance(stop_token, int) and 0 <= stop_token < V):
            raise ValueError(f"stop_token must be None or an int in [0, {V - 1}], "
                             f"got {stop_token!r}")
        if rng is None:
            rng = random.Random(0)
        sequence = list(prompt)
        new_tokens = []
        if max_new_tokens == 0:
            return new_tokens
        # No gradients are needed, so no graph: run the same forward on a float snapshot
        # of the weights (inference.py; proven equal to the Value forward by the tests).
        fast = FloatGPT(self)
        cache, logits = _prefill(fast, sequence[-T:])
        while len(new_tokens) < max_new_tokens:
            token = sample_token(logits, temperature, top_k, top_p, rng)
            new_tokens.append(token)
            sequence.append(token)
            if token == stop_token or len(new_tokens) == max_new_tokens:
                break
            if fast.cache_length(cache) < T:
                logits = fast.step(token, cache)
            else:  # the context is full: crop to the last T tokens, rebuild the cache
                cache, logits = _prefill(fast, sequence[-T:])
        return new_tokens

    # ---- checks ---------------------------------------------------------------------------

    def _check_tokens(self, tokens, name, min_length=1, max_length=None):
        """A ValueError unless `tokens` is a list of min_length..max_length ids in [0, V)."""
        V, T = self.config.vocab_size, self.config.max_seq_len
        if not isinstance(tokens, (list, tuple)):
            raise ValueError(f"{name} must be a list of token ids, got {type(tokens).__name__}")
        if len(tokens) < min_length:
            raise ValueError(f"{name} must hold at least {min_length} token(s), got {len(tokens)}")
        if max_length is not None and len(tokens) > max_length:
            raise ValueError(f"{name} must hold at most {max_length} tokens (max_seq_len={T}), "
                             f"got {len(tokens)}")
        for i, token in enumerate(tokens):
            if isinstance(token, bool) or not isinstance(token, int) or not 0 <= token < V:
                raise ValueError(f"{name}: token ids must be ints in [0, {V - 1}] (vocab_size="
                                 f"{V}), got {token!r} at index {i}")

    def extra_repr(self):
        c = self.config
        return (f"V={c.vocab_size}, d={c.d_model}, heads={c.num_heads}, layers={c.num_layers}, "
                f"T={c.max_seq_len}, {c.norm}, {c.activation}, "
                f"{'tied' if c.tie_weights else 'untied'}, {len(self.parameters()):,} parameters")


def _prefill(fast, context):
    """A fresh cache holding `context`, and the logits after its last token."""
    cache = fast.new_cache()
    for token in context:
        logits = fast.step(token, cache)
    return cache, logits


def _check_sampling(temperature, top_k, top_p):
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not (
            0 < temperature < math.inf):
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be None or an int >= 1, got {top_k!r}")
    if top_p is not None and (isinstance(top_p, bool) or not isinstance(top_p, (int, float))
                              or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be None or a number in (0, 1], got {top_p!r}")


def sample_token(logits, temperature=1.0, top_k=None, top_p=None, rng=None):
    """Draw one token id from plain-float `logits`.

    1. temperature: p ∝ exp(logit / temperature). Below 1 sharpens, above 1 flattens.
    2. top_k: keep only the k highest logits (ties with the k-th are kept, as in nanoGPT).
    3. top_p (nucleus): keep the most likely tokens until their probability adds up to
       top_p (at least one token), renormalize.
    Then one draw with `rng.random()` (rng None -> random.Random(0)).
    """
    _check_sampling(temperature, top_k, top_p)
    if rng is None:
        rng = random.Random(0)
    scaled = [z / temperature for z in logits]
    allowed = range(len(scaled))
    if top_k is not None and top_k < len(scaled):
        kth_largest = sorted(scaled, reverse=True)[top_k - 1]
        allowed = [i for i in allowed if scaled[i] >= kth_largest]
    m = max(scaled[i] for i in allowed)
    weights = {i: math.exp(scaled[i] - m) for i in allowed}
    if top_p is not None:
        total = sum(weights.values())
        nucleus, mass = {}, 0.0
        for i in sorted(weights, key=lambda i: (-weights[i], i)):
            nucleus[i] = weights[i]
            mass += weights[i] / total
            if mass >= top_p:
                break
        weights = nucleus
    return _draw(weights, rng)


def _draw(weights, rng):
    """One key of `weights` (id -> positive weight), chosen with probability ∝ its weight."""
    ids = sorted(weights)
    r = rng.random() * sum(weights[i] for i in ids)
    cumulative = 0.0
    for i in ids:
        cumulative += weights[i]
        if r < cumulative:
            return i
    return ids[-1]  # r landed on the total through rounding

