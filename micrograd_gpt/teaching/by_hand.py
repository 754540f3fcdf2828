"""Backprop by hand: one GPT training step on plain floats, every derivative written out.

This is what autograd saves you from writing. `loss_and_grads(params, tokens, num_heads)`
computes exactly what `GPT(config).loss(tokens)` followed by `backward()` computes, but on
plain Python floats: no Values, no graph, the chain rule applied by hand, layer by layer,
from the loss back to the embeddings. Chapter 7 of the course derives each piece and
checks this file against `backward()`.

It reads the model's `state_dict()` and handles the GPTs of this package without biases in
their linear layers: LayerNorm or RMSNorm (told apart by the `ln_f.bias` entry), GELU or
ReLU (`activation=`), tied or separate unembedding (an `lm_head.weight` entry or not). Give
`config=` (the model's GPTConfig) for the rest of GPTConfig's choices: norms without gain
(elementwise_affine=False, which leaves nothing in the state_dict to tell them by), a
norm after the embeddings, no final norm: microgpt.py's GPT, the `microgpt` preset.

It is also the speed floor of a pure-Python step: `benchmarks/speed.py` times the Value
engine's training step against this one.

Notation: vectors are lists of floats, a weight matrix is a list of rows (`W[i][j]`:
output i, input j), y = W x means y_i = Σ_j W[i][j]·x_j. A name starting with `d` is a
gradient: `dx[i]` is d loss / d x[i]. Backward functions *add* into the gradients they are
given (`dx[i] += ...`), because a vector used in two places collects from both.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from operator import mul

__all__ = ["loss_and_grads", "forward", "backward", "FloatAdam", "EPS", "Norms"]

EPS = 1e-5  # the norms' epsilon, as in nn.LayerNorm and nn.RMSNorm
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


# ---- linear algebra on lists ---------------------------------------------------------------

def matvec(W, x):
    """y = W x."""
    return [sum(map(mul, row, x)) for row in W]


def matvec_t_add(W, dy, dx):
    """dx += Wᵀ dy: the gradient of y = W x toward x (x_j feeds every y_i, through W[i][j])."""
    for dyi, row in zip(dy, W):
        if dyi:
            for j, w in enumerate(row):
                dx[j] += w * dyi


def outer_add(dW, dy, x):
    """dW += dy xᵀ: the gradient of y = W x toward W (W[i][j] meets only x_j, in y_i)."""
    for dyi, drow in zip(dy, dW):
        if dyi:
            for j, xj in enumerate(x):
                drow[j] += dyi * xj


def zeros_like(p):
    """Zeros of the shape of a vector or a matrix."""
    return [[0.0] * len(row) for row in p] if isinstance(p[0], list) else [0.0] * len(p)


def add(a, b):
    """a + b, entry by entry (a residual connection)."""
    return [x + y for x, y in zip(a, b)]


# ---- the norms ------------------------------------------------------------------------------
# LayerNorm: y = g·n + b with n = (x - μ)·r and r = 1/sqrt(σ² + eps). RMSNorm is the same
# without the centring (μ = 0) and without b. Either way, with dn = dy·g, the backward is
#     dx = r·(dn - mean(dn) - n·mean(dn·n))        (RMSNorm: no mean(dn) term)
# the two means being what changing one x_i does to μ and to σ², and so to every n_j.

def norm_forward(x, g, b=None):
    """LayerNorm (with a bias b) or RMSNorm (b None) of x; returns (y, saved for backward)."""
    mu = sum(x) / len(x) if b is not None else 0.0
    centered = [v - mu for v in x]
    r = 1.0 / math.sqrt(sum(v * v for v in centered) / len(x) + EPS)
    n = [v * r for v in centered]
    y = [gi * ni for gi, ni in zip(g, n)]
    if b is not None:
        y = add(y, b)
    return y, (n, r)


def norm_backward(dy, g, saved, dx, dg, db=None):
    """dx += d loss/dx, dg += d loss/dg (and db += d loss/db for LayerNorm), given dy."""
    n, r = saved
    dn = [dyi * gi for dyi, gi in zip(dy, g)]
    for i, (dyi, ni) in enumerate(zip(dy, n)):
        dg[i] += dyi * ni                     # y_i = g_i·n_i + b_i
        if db is not None:
            db[i] += dyi
    mean_dn = sum(dn) / len(dn) if db is not None else 0.0
    mean_dn_n = sum(map(mul, dn, n)) / len(n)
    for i, (dni, ni) in enumerate(zip(dn, n)):
        dx[i] += r * (dni - mean_dn - ni * mean_dn_n)


# ---- the activations: value and slope -----------------------------------------------------

def activation_and_slope(u, activation):
    """(f(u), f'(u)) for "relu" or "gelu" (GPT-2's tanh form, as `Value.gelu`)."""
    if activation == "relu":
        return (u, 1.0) if u > 0 else (0.0, 0.0)
    t = math.tanh(_SQRT_2_OVER_PI * (u + 0.044715 * u * u * u))
    # product rule on 0.5·u·(1 + t):  0.5(1 + t) + 0.5u·(1 - t²)·d(inner)/du
    inner_slope = _SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * u * u)
    return 0.5 * u * (1.0 + t), 0.5 * (1.0 + t) + 0.5 * u * (1.0 - t * t) * inner_slope


# ---- the forward pass, keeping what the backward needs ---------------------------------------

@dataclass
class Norms:
    """Where the norms are and what they hold (GPTConfig's choices): LayerNorm (centred,
    with a bias) or RMSNorm, with a learned gain or none, a norm after the embeddings,
    a final norm."""

    layernorm: bool = True
    elementwise_affine: bool = True
    embedding_norm: bool = False
    final_norm: bool = True

    @classmethod
    def of(cls, params, config=None):
        """From `config` if given, else from the names in `params`."""
        if config is not None:
            return cls(config.norm == "layernorm", config.elementwise_affine,
                       config.embedding_norm, config.final_norm)
        if not any(".ln_" in name or name.startswith("ln_") for name in params):
            raise ValueError("params: there are no norm weights to tell the architecture "
                             "by (norms without gain?); pass config= (the GPTConfig)")
        return cls("ln_f.bias" in params or "blocks.0.ln_1.bias" in params, True,
                   "ln_emb.weight" in params, "ln_f.weight" in params)


@dataclass
class Tape:
    """What `forward` saves for `backward`: the inputs, the sizes, and per position the
    intermediate vectors (the numbers each local derivative needs)."""

    params: dict
    tokens: list
    num_heads: int
    activation: str
    num_layers: int
    keys: list        # keys[l][t]: the key vector of layer l at position t, [d]
    values: list      # values[l][t]
    saved: list       # saved[t]: (per-layer dicts, final-norm output and saved, softmax,
    #                   embedding-norm saved)
    norms: Norms = None


def forward(params, tokens, num_heads, activation="relu", config=None):
    """The mean next-token cross-entropy of `tokens`; returns (loss, tape for backward).
    `config`: the model's GPTConfig (needed for norms without gain; see the docstring)."""
    P = params
    num_layers = 1 + max(int(k.split(".")[1]) for k in P if k.startswith("blocks."))
    if config is not None:
        num_heads, activation = config.num_heads, config.activation
    tape = Tape(P, list(tokens), num_heads, activation, num_layers,
                keys=[[] for _ in range(num_layers)], values=[[] for _ in range(num_layers)],
                saved=[], norms=Norms.of(P, config))
    T = len(tokens) - 1
    loss = 0.0
    for t in range(T):
        x = add(P["wte.weight"][tokens[t]], P["wpe.weight"][t])   # the two table rows
        x, ne = _norm(tape, "ln_emb", x) if tape.norms.embedding_norm else (x, None)
        layers = []
        for l in range(num_layers):
            x, s = _block_forward(tape, l, x)
            layers.append(s)
        hf, nf = _norm(tape, "ln_f", x) if tape.norms.final_norm else (x, None)
        logits = matvec(_unembedding(P), hf)
        m = max(logits)
        e = [math.exp(z - m) for z in logits]
        total = sum(e)
        loss += math.log(total) - (logits[tokens[t + 1]] - m)   # -log softmax[target]
        tape.saved.append((layers, hf, nf, [ei / total for ei in e], ne))
    return loss / T, tape


def _norm(tape, name, x):
    """The norm `name` ("ln_f", "blocks.0.ln_1", ...) of x: (y, saved)."""
    if not tape.norms.elementwise_affine:
        return plain_norm_forward(x, tape.norms.layernorm)
    P = tape.params
    return norm_forward(x, P[name + ".weight"], P.get(name + ".bias"))


def _norm_back(tape, G, name, dy, saved, dx):
    """dx += what the norm `name` passes back; its gain's (and bias's) gradients into G."""
    if not tape.norms.elementwise_affine:
        plain_norm_backward(dy, saved, dx, tape.norms.layernorm)
    else:
        norm_backward(dy, tape.params[name + ".weight"], saved, dx, G[name + ".weight"],
                      G.get(name + ".bias"))


def plain_norm_forward(x, center):
    """A norm without gain or bias (elementwise_affine=False): y = n = (x - μ)·r, with
    μ = 0 for RMSNorm (center False). Returns (y, saved for backward)."""
    mu = sum(x) / len(x) if center else 0.0
    centered = [v - mu for v in x]
    r = 1.0 / math.sqrt(sum(v * v for v in centered) / len(x) + EPS)
    n = [v * r for v in centered]
    return n, (n, r)


def plain_norm_backward(dy, saved, dx, center):
    """dx += d loss/dx for `plain_norm_forward`: norm_backward's formula with g = 1."""
    n, r = saved
    mean_dy = sum(dy) / len(dy) if center else 0.0
    mean_dy_n = sum(map(mul, dy, n)) / len(n)
    for i, (dyi, ni) in enumerate(zip(dy, n)):
        dx[i] += r * (dyi - mean_dy - ni * mean_dy_n)


def _unembedding(P):
    """The [V][d] matrix that turns the final vector into scores: lm_head, or wte (tied)."""
    return P.get("lm_head.weight", P["wte.weight"])


def _weights(P, l):
    """Layer l's weights by short name ("attn.wq", "ln_1", "ln_1.bias", ...)."""
    prefix = f"blocks.{l}."
    return {name[len(prefix):].removesuffix(".weight"): w
            for name, w in P.items() if name.startswith(prefix)}


def _block_forward(tape, l, x):
    """x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)), at one position; returns (x, saved)."""
    W = _weights(tape.params, l)
    s = {}
    h1, s["n1"] = _norm(tape, f"blocks.{l}.ln_1", x)
    q = matvec(W["attn.wq"], h1)
    tape.keys[l].append(matvec(W["attn.wk"], h1))
    tape.values[l].append(matvec(W["attn.wv"], h1))
    o, s["probs"] = _attention_forward(q, tape.keys[l], tape.values[l], tape.num_heads)
    x = add(x, matvec(W["attn.wo"], o))
    h2, s["n2"] = _norm(tape, f"blocks.{l}.ln_2", x)
    u = matvec(W["mlp.fc"], h2)
    r, slopes = zip(*(activation_and_slope(ui, tape.activation) for ui in u))
    x = add(x, matvec(W["mlp.proj"], r))
    s.update(h1=h1, q=q, o=o, h2=h2, r=list(r), slopes=slopes)
    return x, s


def _attention_forward(q, keys, values, num_heads):
    """Each head: softmax of the scaled scores over the cached keys, then the weighted
    average of the values. Returns (the heads' outputs side by side [d], weights per head)."""
    hd = len(q) // num_heads
    scale = 1.0 / math.sqrt(hd)
    out, probs = [], []
    for h in range(num_heads):
        lo, hi = h * hd, (h + 1) * hd
        scores = [sum(map(mul, q[lo:hi], k[lo:hi])) * scale for k in keys]
        m = max(scores)
        e = [math.exp(sc - m) for sc in scores]
        z = sum(e)
        a = [ei / z for ei in e]
        probs.append(a)
        out.extend(sum(aj * v[i] for aj, v in zip(a, values)) for i in range(lo, hi))
    return out, probs


# ---- the backward pass ---------------------------------------------------------------------

def backward(tape):
    """The gradient of `forward`'s loss toward every parameter, shaped like the params.

    Positions are visited last to first: a key or value made at position s is used by
    every position t >= s, so its gradient is complete only once those are done."""
    P = tape.params
    G = {name: zeros_like(p) for name, p in P.items()}
    T = len(tape.tokens) - 1
    d = len(P["wte.weight"][0])
    dkeys = [[[0.0] * d for _ in range(T)] for _ in range(tape.num_layers)]
    dvalues = [[[0.0] * d for _ in range(T)] for _ in range(tape.num_layers)]
    unembedding = "lm_head.weight" if "lm_head.weight" in P else "wte.weight"
    for t in reversed(range(T)):
        layers, hf, nf, softmax, ne = tape.saved[t]
        # d(mean cross-entropy)/d logits = (softmax - onehot(target)) / T
        dlogits = [p / T for p in softmax]
        dlogits[tape.tokens[t + 1]] -= 1.0 / T
        outer_add(G[unembedding], dlogits, hf)         # tied: into wte's rows
        dhf = [0.0] * d
        matvec_t_add(P[unembedding], dlogits, dhf)
        if tape.norms.final_norm:
            dx = [0.0] * d
            _norm_back(tape, G, "ln_f", dhf, nf, dx)
        else:
            dx = dhf
        for l in reversed(range(tape.num_layers)):
            dx = _block_backward(tape, G, l, t, layers[l], dx, dkeys[l], dvalues[l])
        if tape.norms.embedding_norm:  # x = ln_emb(wte[token] + wpe[t])
            dsum = [0.0] * d
            _norm_back(tape, G, "ln_emb", dx, ne, dsum)
            dx = dsum
        # x = wte[token] + wpe[t]: a sum passes dx on to both rows, unchanged
        for grad_row in (G["wte.weight"][tape.tokens[t]], G["wpe.weight"][t]):
            for i, dxi in enumerate(dx):
                grad_row[i] += dxi
    return G


def _block_backward(tape, G, l, t, s, dx, dkeys, dvalues):
    """Back through one block at position t: d loss/d x_out -> d loss/d x_in."""
    W, dW = _weights(tape.params, l), _weights(G, l)
    # x_out = x_mid + proj(act(fc(ln_2(x_mid)))): the residual passes dx on unchanged
    dr = [0.0] * len(s["r"])
    outer_add(dW["mlp.proj"], dx, s["r"])
    matvec_t_add(W["mlp.proj"], dx, dr)
    du = [dri * slope for dri, slope in zip(dr, s["slopes"])]
    outer_add(dW["mlp.fc"], du, s["h2"])
    dh2 = [0.0] * len(dx)
    matvec_t_add(W["mlp.fc"], du, dh2)
    dx_mid = list(dx)
    _norm_back(tape, G, f"blocks.{l}.ln_2", dh2, s["n2"], dx_mid)
    # x_mid = x_in + wo(o)
    outer_add(dW["attn.wo"], dx_mid, s["o"])
    do = [0.0] * len(dx)
    matvec_t_add(W["attn.wo"], dx_mid, do)
    dq = _attention_backward(tape, l, s, do, dkeys, dvalues)
    dh1 = [0.0] * len(dx)
    for name, dy in (("attn.wq", dq), ("attn.wk", dkeys[t]), ("attn.wv", dvalues[t])):
        outer_add(dW[name], dy, s["h1"])
        matvec_t_add(W[name], dy, dh1)
    dx_in = dx_mid
    _norm_back(tape, G, f"blocks.{l}.ln_1", dh1, s["n1"], dx_in)
    return dx_in


def _attention_backward(tape, l, s, do, dkeys, dvalues):
    """Back through the heads at one position: adds into the keys' and values' gradients
    (of this and every earlier position) and returns the gradient of the query."""
    q, keys, values = s["q"], tape.keys[l], tape.values[l]
    hd = len(q) // tape.num_heads
    scale = 1.0 / math.sqrt(hd)
    dq = [0.0] * len(q)
    for h, a in enumerate(s["probs"]):
        lo, hi = h * hd, (h + 1) * hd
        # o_h = Σ_j a_j v_j:  dv_j += a_j·do_h,  da_j = do_h · v_j
        da = []
        for j, aj in enumerate(a):
            for i in range(lo, hi):
                dvalues[j][i] += aj * do[i]
            da.append(sum(map(mul, do[lo:hi], values[j][lo:hi])))
        # softmax: ds_j = a_j·(da_j - Σ_k a_k·da_k); the score was (q·k_j)·scale
        mean_da = sum(map(mul, a, da))
        for j, (aj, daj) in enumerate(zip(a, da)):
            ds = aj * (daj - mean_da) * scale
            for i in range(lo, hi):
                dq[i] += ds * keys[j][i]
                dkeys[j][i] += ds * q[i]
    return dq


def loss_and_grads(params, tokens, num_heads, activation="relu", config=None):
    """Mean next-token cross-entropy of `tokens` and its gradient toward every parameter.

    params: a GPT's `state_dict()` (no biases in the linear layers); activation: the MLP's
    ("relu" or "gelu"); config: the GPTConfig, which then also gives the heads, the
    activation and where the norms are (required for norms without gain). Returns
    (loss, grads), grads shaped like params.
    """
    loss, tape = forward(params, tokens, num_heads, activation, config)
    return loss, backward(tape)


class FloatAdam:
    """Adam on the nested float lists (the same update as micrograd_gpt.training.optim.Adam)."""

    def __init__(self, params, lr, betas=(0.85, 0.99), eps=1e-8):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.m = {k: zeros_like(p) for k, p in params.items()}
        self.v = {k: zeros_like(p) for k, p in params.items()}
        self.t = 0

    def step(self, grads, lr=None):
        lr = self.lr if lr is None else lr
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1 - b1 ** self.t, 1 - b2 ** self.t  # bias corrections
        for name, p in self.params.items():
            nested = isinstance(p[0], list)
            rows = zip(*(x if nested else [x] for x in
                         (p, grads[name], self.m[name], self.v[name])))
            for row, grow, mrow, vrow in rows:
                for i, g in enumerate(grow):
                    mrow[i] = b1 * mrow[i] + (1 - b1) * g
                    vrow[i] = b2 * vrow[i] + (1 - b2) * g * g
                    row[i] -= lr * (mrow[i] / c1) / (math.sqrt(vrow[i] / c2) + self.eps)
