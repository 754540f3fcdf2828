"""An independent float64 PyTorch GPT, written as plain functions, to check the Value GPT.

It shares nothing with `micrograd_gpt.training.interop` (which builds nn.Modules): here every step
is spelled out on tensors from a {name: tensor} dict, heads in a Python loop, the causal
mask built by hand. If both this and `to_torch` agree with the Value model, all three are
very probably right.
"""
import math

import torch


def parameters_from(model):
    """{name: float64 leaf tensor with requires_grad} holding a copy of the model's weights."""
    return {name: torch.tensor(values, dtype=torch.float64, requires_grad=True)
            for name, values in model.state_dict().items()}


def _norm(x, params, prefix, config):
    if config.norm == "layernorm":
        mu = x.mean(dim=-1, keepdim=True)
        var = ((x - mu) ** 2).mean(dim=-1, keepdim=True)
        y = (x - mu) / torch.sqrt(var + 1e-5)
    else:
        y = x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + 1e-5)
    if not config.elementwise_affine:  # a plain normalization: no gain, no bias
        assert prefix + ".weight" not in params and prefix + ".bias" not in params
        return y
    y = y * params[prefix + ".weight"]
    return y + params[prefix + ".bias"] if config.norm == "layernorm" else y


def _attention(x, params, prefix, num_heads):
    T, d = x.shape
    hd = d // num_heads
    q = x @ params[prefix + ".wq.weight"].T
    k = x @ params[prefix + ".wk.weight"].T
    v = x @ params[prefix + ".wv.weight"].T
    allowed = torch.tril(torch.ones(T, T)) > 0          # row t may see columns 0..t
    outputs = []
    for head in range(num_heads):
        cols = slice(head * hd, (head + 1) * hd)
        scores = (q[:, cols] @ k[:, cols].T) / math.sqrt(hd)               # [T, T]
        scores = torch.where(allowed, scores, torch.full_like(scores, -math.inf))
        outputs.append(torch.softmax(scores, dim=-1) @ v[:, cols])         # [T, hd]
    return torch.cat(outputs, dim=-1) @ params[prefix + ".wo.weight"].T


def _mlp(x, params, prefix, activation):
    hidden = x @ params[prefix + ".fc.weight"].T
    if activation == "gelu":
        c = math.sqrt(2.0 / math.pi)
        hidden = 0.5 * hidden * (1.0 + torch.tanh(c * (hidden + 0.044715 * hidden ** 3)))
    else:
        hidden = torch.clamp(hidden, min=0.0)
    return hidden @ params[prefix + ".proj.weight"].T


def forward(params, config, tokens):
    """Logits [T, V] for a list of token ids."""
    T = len(tokens)
    x = params["wte.weight"][torch.tensor(tokens)] + params["wpe.weight"][:T]
    if config.embedding_norm:
        x = _norm(x, params, "ln_emb", config)
    for i in range(config.num_layers):
        p = f"blocks.{i}"
        x = x + _attention(_norm(x, params, p + ".ln_1", config), params, p + ".attn",
                           config.num_heads)
        x = x + _mlp(_norm(x, params, p + ".ln_2", config), params, p + ".mlp",
                     config.activation)
    if config.final_norm:
        x = _norm(x, params, "ln_f", config)
    head = params["wte.weight"] if config.tie_weights else params["lm_head.weight"]
    return x @ head.T


def loss(params, config, tokens):
    """Mean next-token cross-entropy, -log softmax written out."""
    logits = forward(params, config, tokens[:-1])
    log_probs = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    targets = torch.tensor(tokens[1:])
    return -log_probs[torch.arange(len(targets)), targets].mean()


def attention_weights(params, config, tokens):
    """[layer][head] -> the [T, T] attention weights of `tokens` (row t: position t's
    softmax over positions 0..t; zeros above the diagonal), computed all at once."""
    T, hd = len(tokens), config.d_model // config.num_heads
    x = params["wte.weight"][torch.tensor(tokens)] + params["wpe.weight"][:T]
    if config.embedding_norm:
        x = _norm(x, params, "ln_emb", config)
    allowed = torch.tril(torch.ones(T, T)) > 0
    layers = []
    for i in range(config.num_layers):
        p = f"blocks.{i}"
        h = _norm(x, params, p + ".ln_1", config)
        q, k = h @ params[p + ".attn.wq.weight"].T, h @ params[p + ".attn.wk.weight"].T
        heads = []
        for head in range(config.num_heads):
            cols = slice(head * hd, (head + 1) * hd)
            scores = (q[:, cols] @ k[:, cols].T) / math.sqrt(hd)
            scores = torch.where(allowed, scores, torch.full_like(scores, -math.inf))
            heads.append(torch.softmax(scores, dim=-1))
        layers.append(heads)
        x = x + _attention(h, params, p + ".attn", config.num_heads)
        x = x + _mlp(_norm(x, params, p + ".ln_2", config), params, p + ".mlp",
                     config.activation)
    return layers
