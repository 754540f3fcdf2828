"""The PyTorch twins of the models: the same computation on tensors, the same parameter names.

`TorchGPT(config)` computes what `GPT(config)` computes, but on whole tensors: all positions
at once with a causal mask instead of one position at a time over a cache. The ladder's
twins likewise: the bigrams are a row lookup, the MLP takes every window at once, the RNN
runs its cell in a loop over positions (a recurrence cannot be done all at once). Parameters
carry the Value model's names (`blocks.0.attn.wq.weight`, ...) and shapes, so weights move
between the two with `state_dict()` (see interop.py) and the two can be compared number by
number. Each twin also generates: `twin.generate(...)` takes the arguments of
`LanguageModel.generate` and makes the same draws from the same `rng`.

Each Value model names its twin by a dotted name (`GPT.torch_twin`), so this file is
imported only when a twin is asked for. Optional: it needs PyTorch, installed with
`pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu`; nothing else
in the model layer imports it.
"""
from __future__ import annotations

from ..common.install import INSTALL_TORCH

try:
    import torch
    from torch import nn
    from torch.nn import functional as TF
except ImportError as error:  # pragma: no cover - depends on the machine
    raise ImportError("micrograd_gpt.models.torch_twins needs PyTorch: "
                      f"{INSTALL_TORCH}") from error

from .generation import check_generate_arguments, sample_token

__all__ = ["TorchLanguageModel", "TorchGPT", "TorchCountingBigram", "TorchNeuralBigram",
           "TorchContextMLP", "TorchRNN"]


def _norm(config, dtype):
    norm_class = nn.LayerNorm if config.norm == "layernorm" else nn.RMSNorm
    return norm_class(config.d_model, eps=1e-5, elementwise_affine=config.elementwise_affine,
                      dtype=dtype)


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


class TorchLanguageModel(nn.Module):
    """What every twin shares: token ids [T] or [B, T] in, logits [..., T, V] out, the loss
    of one sequence, and generation. A twin defines `batch_logits(tokens)` for a batch
    [B, T] and calls `super().__init__(config)`."""

    max_context = None  # how many tokens it can look back on (None: no limit)

    def __init__(self, config):
        super().__init__()
        self.config = config

    def forward(self, tokens):
        single = tokens.dim() == 1
        logits = self.batch_logits(tokens.unsqueeze(0) if single else tokens)
        return logits[0] if single else logits

    def loss(self, tokens):
        """Mean next-token cross-entropy of one sequence [T+1], like LanguageModel.loss."""
        return TF.cross_entropy(self(tokens[:-1]), tokens[1:])

    @torch.no_grad()
    def generate(self, prompt, max_new_tokens, temperature=1.0, top_k=None, top_p=None,
                 rng=None, stop_token=None):
        """Up to `max_new_tokens` sampled tokens after `prompt` (a list of ids); only the new
        ones are returned, ending early right after `stop_token`: LanguageModel.generate's
        rules and draws (each token from `generation.sample_token` on the last position's
        logits of at most `max_context` tokens), so the same `rng` gives the same tokens."""
        rng = check_generate_arguments(self.config.vocab_size, prompt, max_new_tokens,
                                       temperature, top_k, top_p, rng, stop_token)
        sequence, new_tokens = list(prompt), []
        while len(new_tokens) < max_new_tokens:
            token = sample_token(self._next_logits(sequence), temperature, top_k, top_p, rng)
            new_tokens.append(token)
            sequence.append(token)
            if token == stop_token:
                break
        return new_tokens

    def _next_logits(self, sequence):
        """Plain-float logits [V] after the last token, seeing at most max_context tokens
        (what the Value model's cache does when generate() crops the context)."""
        context = sequence if self.max_context is None else sequence[-self.max_context:]
        device = next(self.parameters()).device
        tokens = torch.tensor(context, dtype=torch.long, device=device)
        return self(tokens)[-1].to("cpu", torch.float64).tolist()


class TorchGPT(TorchLanguageModel):
    """gpt.GPT on tensors. Takes token ids [T] or [B, T] and returns logits [..., T, V]."""

    def __init__(self, config, dtype=torch.float64):
        super().__init__(config)
        d = config.d_model
        self.wte = nn.Embedding(config.vocab_size, d, dtype=dtype)
        self.wpe = nn.Embedding(config.max_seq_len, d, dtype=dtype)
        if config.embedding_norm:
            self.ln_emb = _norm(config, dtype)
        self.blocks = nn.ModuleList(TorchBlock(config, dtype) for _ in range(config.num_layers))
        if config.final_norm:
            self.ln_f = _norm(config, dtype)
        if not config.tie_weights:
            self.lm_head = _linear(d, config.vocab_size, dtype)

    @property
    def max_context(self):
        return self.config.max_seq_len

    def batch_logits(self, tokens):  # [B, T] -> [B, T, V]
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.wte(tokens) + self.wpe(positions)
        if self.config.embedding_norm:
            x = self.ln_emb(x)
        for block in self.blocks:
            x = block(x)
        if self.config.final_norm:
            x = self.ln_f(x)
        return x @ self.wte.weight.T if self.config.tie_weights else self.lm_head(x)


class TorchCountingBigram(TorchLanguageModel):
    """bigram.CountingBigram: the logits after token a are row a of the log-probabilities."""

    def __init__(self, config, dtype=torch.float64):
        super().__init__(config)
        V = config.vocab_size
        self.log_probs = nn.Parameter(torch.zeros(V, V, dtype=dtype))

    def batch_logits(self, tokens):  # [B, T] -> [B, T, V]
        return self.log_probs[tokens]


class TorchNeuralBigram(TorchLanguageModel):
    """bigram.NeuralBigram: the logits after token a are row a of W (an embedding)."""

    def __init__(self, config, dtype=torch.float64):
        super().__init__(config)
        self.logits = nn.Embedding(config.vocab_size, config.vocab_size, dtype=dtype)

    def batch_logits(self, tokens):  # [B, T] -> [B, T, V]
        return self.logits(tokens)


class TorchContextMLP(TorchLanguageModel):
    """context_mlp.ContextMLP: every window of `context` tokens at once (row V of the
    embedding stands for "before the start")."""

    def __init__(self, config, dtype=torch.float64):
        super().__init__(config)
        V, e, H = config.vocab_size, config.d_embed, config.d_hidden
        self.wte = nn.Embedding(V + 1, e, dtype=dtype)
        self.hidden = nn.Linear(config.context * e, H, dtype=dtype)
        self.lm_head = nn.Linear(H, V, dtype=dtype)

    def batch_logits(self, tokens):  # [B, T] -> [B, T, V]
        n = self.config.context
        padded = TF.pad(tokens, (n - 1, 0), value=self.config.vocab_size)  # [B, T+n-1]
        windows = padded.unfold(1, n, 1)                                    # [B, T, n]
        x = self.wte(windows).flatten(2)                                    # [B, T, n·e]
        return self.lm_head(torch.tanh(self.hidden(x)))


class TorchRNNCell(nn.Module):
    """rnn.RNNCell: h' = tanh(W·[x, h] + b)."""

    def __init__(self, d_in, d_hidden, dtype):
        super().__init__()
        self.xh = nn.Linear(d_in + d_hidden, d_hidden, dtype=dtype)

    def forward(self, x, h):
        return torch.tanh(self.xh(torch.cat([x, h], dim=-1)))


class TorchGRUCell(nn.Module):
    """rnn.GRUCell, as its formulas say (not torch.nn.GRU, whose reset gate sits elsewhere)."""

    def __init__(self, d_in, d_hidden, dtype):
        super().__init__()
        self.update = nn.Linear(d_in + d_hidden, d_hidden, dtype=dtype)
        self.reset = nn.Linear(d_in + d_hidden, d_hidden, dtype=dtype)
        self.candidate = nn.Linear(d_in + d_hidden, d_hidden, dtype=dtype)

    def forward(self, x, h):
        xh = torch.cat([x, h], dim=-1)
        z, r = torch.sigmoid(self.update(xh)), torch.sigmoid(self.reset(xh))
        h_new = torch.tanh(self.candidate(torch.cat([x, r * h], dim=-1)))
        return (1 - z) * h + z * h_new


class TorchRNN(TorchLanguageModel):
    """rnn.RNN: the cell in a loop over positions, from the learned `start`."""

    def __init__(self, config, dtype=torch.float64):
        super().__init__(config)
        e, H = config.d_embed, config.d_hidden
        self.wte = nn.Embedding(config.vocab_size, e, dtype=dtype)
        self.start = nn.Parameter(torch.zeros(H, dtype=dtype))
        self.cell = (TorchRNNCell if config.cell == "rnn" else TorchGRUCell)(e, H, dtype)
        self.lm_head = nn.Linear(H, config.vocab_size, dtype=dtype)

    def batch_logits(self, tokens):  # [B, T] -> [B, T, V]
        x = self.wte(tokens)                             # [B, T, e]
        h = self.start.expand(tokens.shape[0], -1)       # [B, H]
        states = []
        for t in range(tokens.shape[1]):
            h = self.cell(x[:, t], h)
            states.append(h)
        return self.lm_head(torch.stack(states, dim=1))  # [B, T, H] -> [B, T, V]

