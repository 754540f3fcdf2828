"""An MLP over the last few characters: Bengio et al. (2003), makemore part 2.

The bigram sees one character. This model sees the last `context` characters (makemore's
block_size), through a neural net instead of a table: a table over 3 characters would need
27³ rows, most of them never seen; the net shares what it learns between similar contexts.

    window: the last `context` tokens, oldest first            [context] ids
    x = concat(C[w_1], ..., C[w_context])                      [context·e]
    h = tanh(W_h·x + b_h)                                      [H]
    logits = W_o·h + b_o                                       [V]

C is an embedding [V+1][e]: one learned vector per character, plus one (row V) for "before
the start" — at the first positions the window reaches back past the beginning of the
sequence, and those slots hold row V. Characters that behave alike (vowels, say) end up
with nearby vectors, which is how the net generalises to contexts it never saw.

What it cannot see: anything older than `context` characters. After the window slides on,
the beginning of the name is gone, so it cannot count how long the name is, and it cannot
match a letter 5 places back. And each slot of the window has its own weights in W_h: what
it learned about an "a" in slot 1 does not carry over to an "a" in slot 2.

The derivatives: the tanh layer's is 1 − h² (beside `tanh` in autograd/value.py); an embedding row
gets the sum of the gradients of every slot and position that looked it up. The state of a
sequence is just its window (`new_state`: `context` times "before the start"), so the
model reads a sequence of any length, one position at a time, like every model here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..autograd import functional as F
from ..common.checks import check_bool, check_int
from .language_model import LanguageModel
from .nn import Embedding, Linear

__all__ = ["ContextMLPConfig", "ContextMLP", "TanhLayer", "count_parameters"]


@dataclass
class ContextMLPConfig:
    """The sizes of a ContextMLP."""

    vocab_size: int       # |V|: number of distinct tokens
    context: int = 3      # how many characters it sees: the last `context` (block_size)
    d_embed: int = 10     # e: width of each character's vector
    d_hidden: int = 64    # H: width of the tanh layer
    fused: bool = True    # fused n-ary nodes (fast); False: plain binary ops (teaching)

    def __post_init__(self):
        for name in ("vocab_size", "context", "d_embed", "d_hidden"):
            check_int(name, getattr(self, name), 1)
        check_bool("fused", self.fused)


def count_parameters(config):
    """(V+1)·e  +  (context·e·H + H)  +  (H·V + V): embedding, tanh layer, output layer."""
    V, e, H = config.vocab_size, config.d_embed, config.d_hidden
    return (V + 1) * e + (config.context * e * H + H) + (H * V + V)


class TanhLayer(Linear):
    """h = tanh(W·x + b): a Linear layer and its nonlinearity, one module (so a graph drawn
    by module shows the tanh nodes in the layer's box). x: [in] -> h: [out]."""

    output_nonlinearity = "tanh"  # what it outputs (the health statistics count saturation)

    def forward(self, x):
        return [F.tanh(a) for a in super().forward(x)]

    def extra_repr(self):
        return super().extra_repr() + ", tanh"


class ContextMLP(LanguageModel):
    """A language model that sees the last `context` tokens through an MLP (kind "mlp").

    >>> import random
    >>> model = ContextMLP(ContextMLPConfig(vocab_size=5, context=2, d_embed=3,
    ...                                     d_hidden=4), rng=random.Random(0))
    >>> logits = model([4, 1, 2])       # [3][5]; the window at the end is [1, 2]
    >>> model.loss([4, 1, 2, 3]).backward()

    Modules: wte (the embedding C, [V+1][e]; row V is "before the start"), hidden
    (context·e -> H, then tanh), lm_head (H -> V). The initial weights follow makemore
    part 3: tanh's gain 5/3 over sqrt(fan-in) for the hidden layer, so its units start
    neither saturated nor flat, and a small output layer, so the first guesses are close
    to uniform (loss ≈ ln V) instead of confidently wrong.
    """

    kind = "mlp"
    config_class = ContextMLPConfig
    default_preset = "mlp"
    torch_twin = "micrograd_gpt.models.torch_twins.TorchContextMLP"

    @classmethod
    def count_parameters(cls, config):
        """`count_parameters(config)`, the formula: nothing is built."""
        return count_parameters(config)

    def __init__(self, config, rng=None):
        if not isinstance(config, ContextMLPConfig):
            raise ValueError(f"config: must be a ContextMLPConfig, got {type(config).__name__}")
        self.check_size(config)
        self.config = config
        V, e, H, n = config.vocab_size, config.d_embed, config.d_hidden, config.context
        self.wte = Embedding(V + 1, e, rng=rng, std=1.0)
        self.hidden = TanhLayer(n * e, H, rng=rng, std=(5 / 3) / math.sqrt(n * e))
        self.lm_head = Linear(H, V, rng=rng, std=0.1 / math.sqrt(H))

    @property
    def before_start(self):
        """The token id that fills the window before the first token: V (its own row)."""
        return self.config.vocab_size

    def new_state(self):
        """The window of an empty sequence: `context` times "before the start"."""
        return [self.before_start] * self.config.context

    def forward_token(self, token, window):
        self._check_window(window)
        window.append(token)
        del window[0]                                     # slide: keep the last `context`
        x = [v for t in window for v in self.wte(t)]     # [context] x [e] -> [context·e]
        h = self.hidden(x)                                # [context·e] -> [H]
        return self.lm_head(h)                            # [V]

    def _check_window(self, window):
        if not isinstance(window, list) or len(window) != self.config.context:
            raise ValueError(f"state: must be a window from this model's new_state() "
                             f"({self.config.context} token ids), got {window!r}")

    def extra_repr(self):
        c = self.config
        return (f"V={c.vocab_size}, context={c.context}, e={c.d_embed}, H={c.d_hidden}, "
                f"{count_parameters(c):,} parameters")
