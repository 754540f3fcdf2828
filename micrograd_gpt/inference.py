"""The GPT's forward pass on plain floats: the fast path for generation.

Sampling needs no gradients, so it needs no graph and no Value objects at all. This file
runs the very same computation as `GPT._step` (the same operations in the same order, so
the same floating-point results as the fused graph, bit for bit) on a snapshot of the
weights taken as plain floats. It is the only fast path of the model, and
tests/test_inference.py proves it equal to the Value forward for every GPTConfig option.

Read gpt.py, nn.py and attention.py first: this is the same story without the autograd.
"""
from __future__ import annotations

import math
from operator import mul

__all__ = ["FloatGPT"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _linear(W, x):
    """y = W x: one sum of products per row (the order `functional.linear` adds in)."""
    return [sum(map(mul, row, x)) for row in W]


def _layernorm(x, gain, bias, eps):
    n = len(x)
    mu = sum(x) * (1.0 / n)
    centered = [xi - mu for xi in x]
    inv_std = (sum(map(mul, centered, centered)) * (1.0 / n) + eps) ** -0.5
    return [c * inv_std * g + b for c, g, b in zip(centered, gain, bias)]


def _rmsnorm(x, gain, eps):
    inv_rms = (sum(map(mul, x, x)) * (1.0 / len(x)) + eps) ** -0.5
    return [xi * inv_rms * g for xi, g in zip(x, gain)]


def _gelu(x):
    # GPT-2's tanh approximation, written exactly as Value.gelu computes it
    t = math.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
    return 0.5 * x * (1.0 + t)


def _relu(x):
    return x if x > 0 else 0.0


def _softmax(scores):
    m = max(scores)
    exps = [math.exp(s - m) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _floats(tensor):
    """A parameter tensor (a list of Values, or of rows of Values) as plain floats."""
    if isinstance(tensor[0], list):
        return [[v.data for v in row] for row in tensor]
    return [v.data for v in tensor]


class FloatGPT:
    """A read-only float snapshot of a GPT, stepping one token at a time over a float cache.

    >>> fast = FloatGPT(model)          # copies the weights as floats (later training
    >>> cache = fast.new_cache()        # of `model` does not change the snapshot)
    >>> logits = fast.step(token, cache)   # [V] floats, equal to model.step(...)'s numbers
    """

    def __init__(self, model):
        config = model.config
        self.config = config
        self.wte = _floats(model.wte.weight)
        self.wpe = _floats(model.wpe.weight)
        self.blocks = [self._block_weights(block) for block in model.blocks]
        self.ln_f = self._norm_weights(model.ln_f)
        self.unembed = self.wte if config.tie_weights else _floats(model.lm_head.weight)
        self.head_dim = config.d_model // config.num_heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.activation = _gelu if config.activation == "gelu" else _relu

    def _norm_weights(self, norm):
        bias = _floats(norm.bias) if getattr(norm, "bias", None) is not None else None
        return (_floats(norm.weight), bias, norm.eps)

    def _block_weights(self, block):
        attn, mlp = block.attn, block.mlp
        return {
            "ln_1": self._norm_weights(block.ln_1), "ln_2": self._norm_weights(block.ln_2),
            "wq": _floats(attn.wq.weight), "wk": _floats(attn.wk.weight),
            "wv": _floats(attn.wv.weight), "wo": _floats(attn.wo.weight),
            "fc": _floats(mlp.fc.weight), "proj": _floats(mlp.proj.weight),
        }

    def new_cache(self):
        """Per layer, per head: the keys and the values seen so far ([h][t][head_dim])."""
        h = self.config.num_heads
        return [([[] for _ in range(h)], [[] for _ in range(h)])
                for _ in range(self.config.num_layers)]

    def _norm(self, x, weights):
        gain, bias, eps = weights
        return _rmsnorm(x, gain, eps) if bias is None else _layernorm(x, gain, bias, eps)

    def _attention(self, x, W, cache):
        keys, values = cache
        hd = self.head_dim
        q, k, v = _linear(W["wq"], x), _linear(W["wk"], x), _linear(W["wv"], x)
        q = [qi * self.scale for qi in q]
        out = []
        for h in range(self.config.num_heads):
            part = slice(h * hd, (h + 1) * hd)
            keys[h].append(k[part])
            values[h].append(v[part])
            weights = _softmax([sum(map(mul, q[part], key)) for key in keys[h]])
            out += [sum(map(mul, weights, [value[j] for value in values[h]]))
                    for j in range(hd)]
        return _linear(W["wo"], out)

    def step(self, token, cache):
        """Logits [V] (floats) for `token` at the next position; extends `cache`."""
        position = len(cache[0][0][0])
        x = [t + p for t, p in zip(self.wte[token], self.wpe[position])]
        for W, layer_cache in zip(self.blocks, cache):
            x = [a + b for a, b in zip(x, self._attention(self._norm(x, W["ln_1"]), W,
                                                          layer_cache))]
            hidden = [self.activation(h) for h in _linear(W["fc"], self._norm(x, W["ln_2"]))]
            x = [a + b for a, b in zip(x, _linear(W["proj"], hidden))]
        return _linear(self.unembed, self._norm(x, self.ln_f))

    @staticmethod
    def cache_length(cache):
        """How many positions `cache` holds."""
        return len(cache[0][0][0])
