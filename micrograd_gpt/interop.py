"""Move a GPT's weights to PyTorch and back (torch is optional: imported only in here).

`to_torch(model)` builds a float64 `torch.nn.Module` that computes exactly what the Value
model computes, with the same parameter names (`blocks.0.attn.wq.weight`, ...), so the
two can be compared number by number or the weights trained on one and used by the other.
`from_torch(torch_module, model)` copies the torch weights back into the Value model.

`import micrograd_gpt` never imports torch; calling these functions does.
"""
from __future__ import annotations

__all__ = ["to_torch", "from_torch"]


def to_torch(model):
    """A float64 torch module equal to `model` (a GPT), holding a copy of its weights.

    The torch module takes a LongTensor of token ids, shape [T] or [B, T], and returns
    logits [..., T, V]. It processes all positions at once with a causal mask: the same
    numbers as the Value model's one-position-at-a-time cache, up to float rounding.
    """
    torch = _import_torch()
    torch_model = _build_torch_gpt(torch, model.config)
    state = {name: torch.tensor(values, dtype=torch.float64)
             for name, values in model.state_dict().items()}
    torch_model.load_state_dict(state, strict=True)
    return torch_model


def from_torch(torch_module, model):
    """Copy the parameters of `torch_module` (e.g. one made by `to_torch` and trained) into
    the Value model `model`, by name. Returns `model`. Names and shapes must match exactly
    (a ValueError says which one does not)."""
    state = {name: tensor.detach().double().cpu().tolist()
             for name, tensor in torch_module.state_dict().items()}
    model.load_state_dict(state)
    return model


def _import_torch():
    try:
        import torch
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise ImportError(
            "micrograd_gpt.interop needs PyTorch: pip install 'micrograd-gpt[torch]'") from error
    return torch


def _build_torch_gpt(torch, config):
    """The torch twin of GPT(config), float64, named like the Value model."""
    nn = torch.nn
    functional = torch.nn.functional
    d, h = config.d_model, config.num_heads

    def make_norm():
        if config.norm == "layernorm":
            return nn.LayerNorm(d, eps=1e-5, dtype=torch.float64)
        return nn.RMSNorm(d, eps=1e-5, dtype=torch.float64)

    def make_linear(n_in, n_out):
        return nn.Linear(n_in, n_out, bias=False, dtype=torch.float64)

    class TorchAttention(nn.Module):
        def __init__(self):
            super().__init__()
            self.wq, self.wk, self.wv, self.wo = (make_linear(d, d) for _ in range(4))

        def forward(self, x):  # x: [B, T, d]
            B, T, _ = x.shape

            def split(t):  # [B, T, d] -> [B, h, T, d/h]
                return t.view(B, T, h, d // h).transpose(1, 2)

            q, k, v = split(self.wq(x)), split(self.wk(x)), split(self.wv(x))
            scores = q @ k.transpose(-2, -1) / (d // h) ** 0.5           # [B, h, T, T]
            future = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
            weights = torch.softmax(scores.masked_fill(future, float("-inf")), dim=-1)
            out = (weights @ v).transpose(1, 2).reshape(B, T, d)           # [B, T, d]
            return self.wo(out)

    class TorchMLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = make_linear(d, 4 * d)
            self.proj = make_linear(4 * d, d)

        def forward(self, x):
            hidden = self.fc(x)
            if config.activation == "gelu":
                hidden = functional.gelu(hidden, approximate="tanh")
            else:
                hidden = functional.relu(hidden)
            return self.proj(hidden)

    class TorchBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = make_norm()
            self.attn = TorchAttention()
            self.ln_2 = make_norm()
            self.mlp = TorchMLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TorchGPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.config = config
            self.wte = nn.Embedding(config.vocab_size, d, dtype=torch.float64)
            self.wpe = nn.Embedding(config.max_seq_len, d, dtype=torch.float64)
            self.blocks = nn.ModuleList(TorchBlock() for _ in range(config.num_layers))
            self.ln_f = make_norm()
            if not config.tie_weights:
                self.lm_head = make_linear(d, config.vocab_size)

        def forward(self, tokens):
            squeeze = tokens.dim() == 1
            if squeeze:
                tokens = tokens.unsqueeze(0)
            positions = torch.arange(tokens.shape[1])
            x = self.wte(tokens) + self.wpe(positions)
            for block in self.blocks:
                x = block(x)
            x = self.ln_f(x)
            logits = x @ self.wte.weight.T if config.tie_weights else self.lm_head(x)
            return logits[0] if squeeze else logits

        def loss(self, tokens):
            """Mean next-token cross-entropy, like GPT.loss."""
            logits = self(tokens[:-1])
            return functional.cross_entropy(logits, tokens[1:])

    return TorchGPT()
