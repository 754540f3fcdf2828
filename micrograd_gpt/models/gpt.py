"""The GPT: configuration, transformer block, model, parameter count and generation.

The architecture is the book's (and GPT-2's), written with the modules of `nn.py`:

    tokens [T] -> token embedding + position embedding          [T][d]
               -> (ln_emb, only with embedding_norm=True)
               -> N x Block: x = x + attn(ln_1(x))               [T][d]
                             x = x + mlp(ln_2(x))
               -> ln_f (unless final_norm=False)
               -> unembedding (tied to the token embedding) -> logits [T][V]

The options are what tiny GPTs differ in, so that each can be reproduced exactly: GPT-2
(the defaults) and karpathy's microgpt.py (RMSNorm without a gain right after the
embedding sum and before each attention and MLP, no final norm, ReLU, a separate lm_head:
see the `microgpt` preset in presets.py).

Positions are processed one at a time over a key/value cache (see attention.py), so the
training forward and token-by-token generation share every line of code. The interface
(forward, loss, generate, ...) is the one every language model shares: see
language_model.py.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ..autograd import functional as F
from .attention import CausalSelfAttention, KVCache
from ..common.checks import check_bool, check_choice, check_int, check_number
from ..autograd.modes import current_scope, is_recording_scopes, module_scope
from .language_model import LanguageModel
from .nn import ACTIVATIONS, MLP, Embedding, LayerNorm, Linear, Module, ModuleList, RMSNorm

__all__ = ["GPTConfig", "Block", "GPT", "count_parameters", "NORMS"]

NORMS = ("layernorm", "rmsnorm")


@dataclass
class GPTConfig:
    """The sizes and choices that define a GPT (the book's names).

    `dataclasses.asdict(config)` gives plain values, and `GPTConfig(**d)` rebuilds it.
    """

    vocab_size: int           # |V|: number of distinct tokens
    d_model: int              # d: width of every position's vector
    num_heads: int            # h: attention heads per layer; d_model must be divisible by h
    num_layers: int           # N: transformer blocks
    max_seq_len: int          # T: the longest sequence (number of learned positions)
    norm: str = "layernorm"   # "layernorm" (gain and bias) or "rmsnorm" (gain only)
    elementwise_affine: bool = True  # norms learn their gain (and bias), as in PyTorch's
    #                                  nn.LayerNorm; False: plain normalization, no weights
    embedding_norm: bool = False  # a norm (ln_emb) on token + position embedding, before
    #                               the first block (microgpt.py); GPT-2 has none
    final_norm: bool = True   # ln_f after the last block (GPT-2); microgpt.py has none
    activation: str = "gelu"  # the MLP's nonlinearity: "gelu" (GPT-2's tanh form) or "relu"
    tie_weights: bool = True  # unembedding = token embedding (book, GPT-2); False adds lm_head
    init_std: float = 0.02    # weights start as N(0, init_std²), as in GPT-2
    fused: bool = True        # fused n-ary nodes (fast); False: plain binary ops (teaching)

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "num_heads", "num_layers", "max_seq_len"):
            check_int(name, getattr(self, name), 1)
        if self.d_model % self.num_heads:
            raise ValueError(
                f"d_model must be divisible by num_heads: d_model={self.d_model} is not a "
                f"multiple of num_heads={self.num_heads}")
        check_choice("norm", self.norm, NORMS)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_bool("tie_weights", self.tie_weights)
        for name in ("elementwise_affine", "embedding_norm", "final_norm"):
            check_bool(name, getattr(self, name))
        check_bool("fused", self.fused)
        check_number("init_std", self.init_std, 0, low_open=True)


def count_parameters(config):
    """The number of parameters of `GPT(config)`, from the sizes alone.

    With d = d_model, |V| = vocab_size, T = max_seq_len and N = num_layers:

        |V|·d                 token embedding (also the unembedding when tied)
      + T·d                   learned positions
      + N·(12d² + 4d)         per block: Wq, Wk, Wv, Wo (4d²), MLP d->4d->d (8d²),
                              two LayerNorms (gain + bias: 2d each)
      + 2d                    final LayerNorm
      (+ |V|·d                the separate unembedding `lm_head` when tie_weights=False)

    Every norm holds 2d numbers (LayerNorm: gain and bias), d (RMSNorm: gain only) or
    none (elementwise_affine=False); there are 2N of them in the blocks, plus ln_f
    (final_norm) and ln_emb (embedding_norm) when present.

    The book prints 2|V|d + ..., counting the tied unembedding twice; that contradicts
    both its "(tied)" and its own "~117M" for GPT-2 small. The formula above, for GPT-2
    small (|V|=50257, T=1024, d=768, N=12), gives 124,356,864 ≈ 124.4M; GPT-2 itself
    also has biases in its attention and MLP layers (9d per block), which makes its
    published 124,439,808. The book's demo configuration (|V|=100, d=32, h=4, N=2, T=64)
    has 30,144, and karpathy's microgpt.py (|V|=27, d=16, N=1, T=16, untied, norms
    without gain) 4,192.

    >>> count_parameters(GPTConfig(vocab_size=100, d_model=32, num_heads=4, num_layers=2,
    ...                            max_seq_len=64))
    30144
    >>> count_parameters(GPTConfig(vocab_size=27, d_model=16, num_heads=4, num_layers=1,
    ...                            max_seq_len=16, norm="rmsnorm", tie_weights=False,
    ...                            elementwise_affine=False, embedding_norm=True,
    ...                            final_norm=False))
    4192
    """
    d, V, T, N = config.d_model, config.vocab_size, config.max_seq_len, config.num_layers
    if not config.elementwise_affine:
        norm_size = 0
    else:
        norm_size = 2 * d if config.norm == "layernorm" else d
    num_norms = 2 * N + config.final_norm + config.embedding_norm
    total = V * d + T * d + N * 12 * d * d + num_norms * norm_size
    if not config.tie_weights:
        total += V * d
    return total


def _make_norm(config):
    norm_class = LayerNorm if config.norm == "layernorm" else RMSNorm
    return norm_class(config.d_model, elementwise_affine=config.elementwise_affine)


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
        x = self._residual("residual_1", x, self.attn(self.ln_1(x), cache))
        return self._residual("residual_2", x, self.mlp(self.ln_2(x)))

    def _residual(self, name, x, update):
        """x + update, entry by entry. Inside `record_scopes()` the additions get a scope of
        their own (`blocks.0.residual_1`), so a drawing by module shows the two residual
        paths as two boxes; merged into one `blocks.0` box they would look like a loop."""
        if not is_recording_scopes():  # (scopes are for pictures only)
            return [a + b for a, b in zip(x, update)]
        scope = f"{self._scope_name}.{name}" if self._scope_name else current_scope()
        with module_scope(scope):
            return [a + b for a, b in zip(x, update)]


class GPT(LanguageModel):
    """A GPT language model made of Values.

    >>> import random
    >>> model = GPT(GPTConfig(vocab_size=10, d_model=8, num_heads=2, num_layers=1,
    ...                       max_seq_len=8), rng=random.Random(0))
    >>> logits = model([1, 2, 3])        # [3][10]: next-token scores after each position
    >>> loss = model.loss([1, 2, 3])     # mean cross-entropy of predicting 2 then 3
    >>> loss.backward()                  # fills .grad of every parameter
    >>> new_tokens = model.generate([1, 2], max_new_tokens=5, rng=random.Random(0))

    Modules: wte (token embedding [V][d]), wpe (positions [T][d]), ln_emb (only with
    embedding_norm=True), blocks.0 .. blocks.N-1, ln_f (unless final_norm=False), and
    lm_head ([V][d], only when tie_weights=False; otherwise the logits are wte.weight · x,
    one score per token, as in GPT-2).
    """

    kind = "gpt"
    config_class = GPTConfig
    default_preset = "tiny"
    torch_twin = "micrograd_gpt.models.torch_twins.TorchGPT"

    def __init__(self, config, rng=None):
        if not isinstance(config, GPTConfig):
            raise ValueError(f"config: must be a GPTConfig, got {type(config).__name__}")
        self.check_size(config)
        if rng is None:
            rng = random.Random(0)
        self.config = config
        d, std = config.d_model, config.init_std
        self.wte = Embedding(config.vocab_size, d, rng=rng, std=std)
        self.wpe = Embedding(config.max_seq_len, d, rng=rng, std=std)
        if config.embedding_norm:
            self.ln_emb = _make_norm(config)
        self.blocks = ModuleList([Block(config, rng) for _ in range(config.num_layers)])
        if config.final_norm:
            self.ln_f = _make_norm(config)
        if not config.tie_weights:
            self.lm_head = Linear(d, config.vocab_size, bias=False, rng=rng, std=std)

    # ---- what the LanguageModel interface asks of a model ---------------------------------

    @property
    def max_context(self):
        return self.config.max_seq_len

    def new_state(self):
        """The GPT's memory of a sequence: an empty key/value cache, one KVCache per block."""
        return [KVCache(self.config.num_heads) for _ in range(self.config.num_layers)]

    @classmethod
    def count_parameters(cls, config):
        """`count_parameters(config)`, the formula: nothing is built."""
        return count_parameters(config)

    def forward_token(self, token, cache):
        self._check_cache(cache)
        position = len(cache[0])
        if position >= self.config.max_seq_len:
            raise ValueError(
                f"cache: it already holds max_seq_len={self.config.max_seq_len} positions; "
                f"start a new cache from a cropped context (as generate() does)")
        # token and position embeddings: two rows [d], added
        x = [t + p for t, p in zip(self.wte(token), self.wpe(position))]
        if self.config.embedding_norm:
            x = self.ln_emb(x)
        for block, layer_cache in zip(self.blocks, cache):
            x = block(x, layer_cache)  # [d] -> [d]
        if self.config.final_norm:
            x = self.ln_f(x)
        if self.config.tie_weights:
            return F.linear(x, self.wte.weight)  # [d] -> [V]: score of token i is wte[i]·x
        return self.lm_head(x)

    def _check_cache(self, cache):
        c = self.config
        if (not isinstance(cache, list) or len(cache) != c.num_layers
                or not all(isinstance(layer, KVCache) and len(layer.keys) == c.num_heads
                           for layer in cache)):
            raise ValueError(f"cache: must come from this model's new_state() ({c.num_layers} "
                             f"layer(s) of {c.num_heads} head(s)), got {cache!r}")

    def extra_repr(self):
        c = self.config
        norms = c.norm + ("" if c.elementwise_affine else " without gain")
        if c.embedding_norm:
            norms += ", norm after embeddings"
        if not c.final_norm:
            norms += ", no final norm"
        return (f"V={c.vocab_size}, d={c.d_model}, heads={c.num_heads}, layers={c.num_layers}, "
                f"T={c.max_seq_len}, {norms}, {c.activation}, "
                f"{'tied' if c.tie_weights else 'untied'}, {count_parameters(c):,} parameters")
