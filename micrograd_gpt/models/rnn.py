"""A recurrent network: one hidden vector carried along the whole sequence.

The MLP sees a fixed window. A recurrent network (Elman 1990) keeps a memory instead: a
hidden vector h that each token updates, so in principle everything since the start of
the sequence can matter, with no window and no limit:

    h_0 = start                                    [H] (learned)
    x_t = C[token_t]                               [e]
    h_t = cell(x_t, h_{t-1})                       [H]
    logits_t = W_o·h_t + b_o                       [V]

Two cells:

* "rnn", the vanilla (Elman) cell:  h_t = tanh(W·[x_t, h_{t-1}] + b). Written as one
  Linear over the concatenation [x; h], which is the same as W_x·x + W_h·h + b.
* "gru", the gated recurrent unit (Cho et al. 2014), as in makemore:
      z = σ(W_z·[x, h] + b_z)             update gate: how much of h to replace
      r = σ(W_r·[x, h] + b_r)             reset gate: how much of h the candidate sees
      h̃ = tanh(W_c·[x, r ⊙ h] + b_c)      candidate
      h' = (1 − z) ⊙ h + z ⊙ h̃

What it can and cannot see: everything before, but only through H numbers, rewritten at
every step. The derivative story is backpropagation through time: the same weights are
used at every position (the cell is one module, called T times), so their gradient is the
sum over positions, and the gradient toward an early token has to pass through every
later tanh, each multiplying it by W_h·(1 − h²). Those products shrink (or blow up) with
distance, so the vanilla cell forgets quickly in practice. The GRU's h' = (1 − z)·h + ...
is a path on which the gradient is multiplied only by (1 − z), which can stay near 1: a
memory that lasts. Attention (the GPT) goes further: every earlier position is one step
away.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..autograd import functional as F
from ..common.checks import check_bool, check_choice, check_int
from ..autograd.value import Value
from .language_model import LanguageModel
from .nn import Embedding, Linear, Module

__all__ = ["RNNConfig", "RNNCell", "GRUCell", "RNN", "RNNState", "CELLS"]

CELLS = ("rnn", "gru")


@dataclass
class RNNConfig:
    """The sizes and the cell of an RNN."""

    vocab_size: int       # |V|: number of distinct tokens
    d_embed: int = 16     # e: width of each character's vector
    d_hidden: int = 40    # H: width of the hidden state (the memory)
    cell: str = "rnn"     # "rnn" (vanilla Elman cell) or "gru" (gated recurrent unit)
    fused: bool = True    # fused n-ary nodes (fast); False: plain binary ops (teaching)

    def __post_init__(self):
        for name in ("vocab_size", "d_embed", "d_hidden"):
            check_int(name, getattr(self, name), 1)
        check_choice("cell", self.cell, CELLS)
        check_bool("fused", self.fused)


def count_parameters(config):
    """V·e + H (start) + cell + H·V + V, where the cell is (e+H)·H + H for "rnn" and three
    times that for "gru" (update, reset, candidate)."""
    V, e, H = config.vocab_size, config.d_embed, config.d_hidden
    cell = ((e + H) * H + H) * (3 if config.cell == "gru" else 1)
    return V * e + H + cell + H * V + V


def _cell_linear(d_in, d_hidden, rng):
    # weights N(0, 1/fan-in): each pre-activation starts with a spread of about 1
    return Linear(d_in + d_hidden, d_hidden, rng=rng, std=1 / math.sqrt(d_in + d_hidden))


class RNNCell(Module):
    """The vanilla (Elman) cell: h' = tanh(W·[x, h] + b). x: [e], h: [H] -> h': [H]."""

    output_nonlinearity = "tanh"  # what it outputs (the health statistics count saturation)

    def __init__(self, d_in, d_hidden, rng=None):
        self.xh = _cell_linear(check_int("d_in", d_in, 1), check_int("d_hidden", d_hidden, 1),
                               rng)

    def forward(self, x, h):
        return [F.tanh(a) for a in self.xh(x + h)]  # [e+H] -> [H]

    def extra_repr(self):
        return f"{self.xh.in_features} -> {self.xh.out_features}, tanh"


class GRUCell(Module):
    """The gated recurrent unit (the module docstring has the formulas).
    x: [e], h: [H] -> h': [H]."""

    def __init__(self, d_in, d_hidden, rng=None):
        check_int("d_in", d_in, 1)
        check_int("d_hidden", d_hidden, 1)
        self.update = _cell_linear(d_in, d_hidden, rng)     # z
        self.reset = _cell_linear(d_in, d_hidden, rng)      # r
        self.candidate = _cell_linear(d_in, d_hidden, rng)  # h̃

    def forward(self, x, h):
        xh = x + h                                              # [e+H]
        z = [F.sigmoid(a) for a in self.update(xh)]             # [H]
        r = [F.sigmoid(a) for a in self.reset(xh)]              # [H]
        reset_h = [ri * hi for ri, hi in zip(r, h)]             # [H]
        h_new = [F.tanh(a) for a in self.candidate(x + reset_h)]  # [H]
        # (1 − z)·h + z·h̃, written h + z·(h̃ − h): the same numbers, fewer nodes
        return [hi + zi * (ni - hi) for hi, zi, ni in zip(h, z, h_new)]

    def extra_repr(self):
        return f"{self.update.in_features} -> {self.update.out_features}, gated"


class RNNState:
    """The memory of one sequence: the hidden vector after the tokens read so far."""

    def __init__(self, h):
        self.h = h          # [H]
        self.length = 0     # tokens read

    def __repr__(self):
        return f"RNNState({len(self.h)} numbers, after {self.length} tokens)"


class RNN(LanguageModel):
    """A recurrent language model (kind "rnn"): embedding, a cell unrolled over the
    sequence, an output layer.

    >>> import random
    >>> model = RNN(RNNConfig(vocab_size=5, d_embed=3, d_hidden=4, cell="gru"),
    ...             rng=random.Random(0))
    >>> logits = model([4, 1, 2])       # [3][5]
    >>> model.loss([4, 1, 2, 3]).backward()

    Modules: wte (C, [V][e]), start (h_0, [H], starts at 0), cell (RNNCell or GRUCell;
    one module whatever the length, so a graph drawn by module shows it once), lm_head
    (H -> V, small at the start so the first guesses are near uniform).
    """

    kind = "rnn"
    config_class = RNNConfig
    default_preset = "rnn"
    torch_twin = "micrograd_gpt.models.torch_twins.TorchRNN"

    @classmethod
    def count_parameters(cls, config):
        """`count_parameters(config)`, the formula: nothing is built."""
        return count_parameters(config)

    def __init__(self, config, rng=None):
        if not isinstance(config, RNNConfig):
            raise ValueError(f"config: must be an RNNConfig, got {type(config).__name__}")
        self.check_size(config)
        self.config = config
        e, H = config.d_embed, config.d_hidden
        self.wte = Embedding(config.vocab_size, e, rng=rng, std=1.0)
        self.start = [Value(0.0) for _ in range(H)]
        self.cell = (RNNCell if config.cell == "rnn" else GRUCell)(e, H, rng=rng)
        self.lm_head = Linear(H, config.vocab_size, rng=rng, std=0.1 / math.sqrt(H))

    def new_state(self):
        """Before the first token the memory is `start` (learned, like any weight)."""
        return RNNState(list(self.start))

    def forward_token(self, token, state):
        if not isinstance(state, RNNState) or len(state.h) != self.config.d_hidden:
            raise ValueError(f"state: must come from this model's new_state(), got {state!r}")
        state.h = self.cell(self.wte(token), state.h)   # [e], [H] -> [H]
        state.length += 1
        return self.lm_head(state.h)                    # [H] -> [V]

    def extra_repr(self):
        c = self.config
        return (f"V={c.vocab_size}, e={c.d_embed}, H={c.d_hidden}, {c.cell} cell, "
                f"{count_parameters(c):,} parameters")
