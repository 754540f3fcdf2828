"""The PyTorch twins of the models: the same computation on tensors, the same parameter names.

`TorchGPT(config)` computes what `GPT(config)` computes, but on whole tensors: all positions
at once with a causal mask instead of one position at a time over a cache. Its parameters
carry the Value model's names (`blocks.0.attn.wq.weight`, ...) and shapes, so weights move
between the two with `state_dict()` (see interop.py) and the two can be compared number by
number. Optional: this file needs PyTorch (`pip install "micrograd-gpt[torch]"`); nothing
else in the model layer imports it.
"""
from __future__ import annotations

try:
    import torch
    from torch import nn
    from torch.nn import functional as TF
except ImportError as error:  # pragma: no cover - depends on the machine
    raise ImportError("micrograd_gpt.torch_models needs PyTorch: "
                      "pip install 'micrograd-gpt[torch]'") from error

__all__ = ["TorchGPT", "TORCH_MODELS"]


def _norm(config, dtype):
    if config.norm == "layernorm":
        return nn.LayerNorm(config.d_model, eps=1e-5, dtype=dtype)
    return nn.RMSNorm(config.d_model, eps=1e-5, dtype=dtype)


def _linear(n_in, n_out, dtype):
    return nn.Linear(n_in, n_out, bias=False, dtype=dtype)


class TorchAttention(nn.Module):
    """Causal multi-head attention over all positions at once (attention.py's twin)."""

    def __init__(self, config, dtype):
        super().__init__()
        d = config.d_model
        self.num_heads = config.num_heads
        self.wq, self.wk, self.wv, self.wo = (_linear(d, d, dtype) for _ in range(4))

    def forward(self, x):  # x: [B, T, d]
        B, T, d = x.shape
        h = self.num_heads

        def split(t):  # [B, T, d] -> [B, h, T, d/h]
            return t.view(B, T, h, d // h).transpose(1, 2)

        q, k, v = split(self.wq(x)), split(self.wk(x)), split(self.wv(x))
        scores = q @ k.transpose(-2, -1) / (d // h) ** 0.5                 # [B, h, T, T]
        future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device), diagonal=1)
        weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
        return self.wo((weights @ v).transpose(1, 2).reshape(B, T, d))      # [B, T, d]


class TorchMLP(nn.Module):
    """d -> 4d -> gelu/relu -> d, no biases (nn.MLP's twin)."""

    def __init__(self, config, dtype):
        super().__init__()
        self.activation = config.activation
        self.fc = _linear(config.d_model, 4 * config.d_model, dtype)
        self.proj = _linear(4 * config.d_model, config.d_model, dtype)

    def forward(self, x):
        hidden = self.fc(x)
        if self.activation == "gelu":
            hidden = TF.gelu(hidden, approximate="tanh")
        else:
            hidden = TF.relu(hidden)
        return self.proj(hidden)


class TorchBlock(nn.Module):
    """x + attn(ln_1(x)), then x + mlp(ln_2(x)) (gpt.Block's twin)."""

    def __init__(self, config, dtype):
        super().__init__()
        self.ln_1 = _norm(config, dtype)
        self.attn = TorchAttention(config, dtype)
        self.ln_2 = _norm(config, dtype)
        self.mlp = TorchMLP(config, dtype)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TorchGPT(nn.Module):
    """gpt.GPT on tensors. Takes token ids [T] or [B, T] and returns logits [..., T, V]."""

    def __init__(self, config, dtype=torch.float64):
        super().__init__()
        self.config = config
        d = config.d_model
        self.wte = nn.Embedding(config.vocab_size, d, dtype=dtype)
        self.wpe = nn.Embedding(config.max_seq_len, d, dtype=dtype)
        self.blocks = nn.ModuleList(TorchBlock(config, dtype) for _ in range(config.num_layers))
        self.ln_f = _norm(config, dtype)
        if not config.tie_weights:
            self.lm_head = _linear(d, config.vocab_size, dtype)

    def forward(self, tokens):
        single = tokens.dim() == 1
        if single:
            tokens = tokens.unsqueeze(0)
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.wte(tokens) + self.wpe(positions)
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        logits = x @ self.wte.weight.T if self.config.tie_weights else self.lm_head(x)
        return logits[0] if single else logits

    def loss(self, tokens):
        """Mean next-token cross-entropy of one sequence [T+1], like GPT.loss."""
        logits = self(tokens[:-1])
        return TF.cross_entropy(logits, tokens[1:])


# model kind (models.py) -> its twin
TORCH_MODELS = {"gpt": TorchGPT}
