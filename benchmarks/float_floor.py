"""The float floor: one GPT training step in plain float loops, with a hand-written backward.

This is what autograd saves you from writing. It computes exactly what
`GPT(config).loss(tokens)` followed by `backward()` computes, for the `microgpt` shape of
network (RMSNorm with a gain, ReLU MLP, untied unembedding, no biases), but on plain
Python floats: no graph, no nodes, every derivative worked out by hand below.

It is also the speed floor for a pure-Python step: the benchmarks compare the Value
engine's training step against it (`benchmarks/speed.py`).

Notation: vectors are lists of floats, a weight matrix is a list of rows
(`W[i][j]`: output i, input j), `y = W x` means y_i = Σ_j W[i][j] x_j.
"""
from __future__ import annotations

import math
from operator import mul

EPS = 1e-5  # the norms' epsilon, as in nn.RMSNorm


# ---- tiny float helpers ------------------------------------------------------------------

def matvec(W, x):
    """y = W x."""
    return [sum(map(mul, row, x)) for row in W]


def matvec_t_add(W, dy, dx):
    """dx += Wᵀ dy (the gradient of y = W x toward x)."""
    for dyi, row in zip(dy, W):
        if dyi:
            for j, w in enumerate(row):
                dx[j] += w * dyi


def outer_add(dW, dy, x):
    """dW += dy xᵀ (the gradient of y = W x toward W)."""
    for dyi, drow in zip(dy, dW):
        if dyi:
            for j, xj in enumerate(x):
                drow[j] += dyi * xj


def zeros_like(p):
    return [[0.0] * len(row) for row in p] if isinstance(p[0], list) else [0.0] * len(p)


# ---- RMSNorm: y = g * x / sqrt(mean(x²) + eps) ------------------------------------------

def rmsnorm(x, g):
    r = 1.0 / math.sqrt(sum(v * v for v in x) / len(x) + EPS)
    n = [v * r for v in x]
    return [gi * ni for gi, ni in zip(g, n)], (n, r)


def rmsnorm_backward(dy, g, dg, saved, dx):
    """dx += d loss/dx given dy = d loss/dy; dg += d loss/dg."""
    n, r = saved
    dn = [dyi * gi for dyi, gi in zip(dy, g)]
    for i, (dyi, ni) in enumerate(zip(dy, n)):
        dg[i] += dyi * ni
    # n = x·r with r = (mean(x²)+eps)^(-1/2):  dx = r·(dn - n·mean(dn·n))
    m = sum(map(mul, dn, n)) / len(n)
    for i, (dni, ni) in enumerate(zip(dn, n)):
        dx[i] += r * (dni - ni * m)


# ---- the step ------------------------------------------------------------------------------

def loss_and_grads(params, tokens, num_heads):
    """Mean next-token cross-entropy of `tokens` and its gradient toward every parameter.

    params: a GPT state_dict of the microgpt shape (names like `blocks.0.attn.wq.weight`).
    Returns (loss, grads) with grads shaped like params.
    """
    P = params
    d = len(P["wte.weight"][0])
    num_layers = 1 + max(int(k.split(".")[1]) for k in P if k.startswith("blocks."))
    hd = d // num_heads
    scale = 1.0 / math.sqrt(hd)
    T = len(tokens) - 1
    L = [{name: P[f"blocks.{l}.{name}.weight"] for name in
          ("ln_1", "attn.wq", "attn.wk", "attn.wv", "attn.wo", "ln_2", "mlp.fc", "mlp.proj")}
         for l in range(num_layers)]

    # ---- forward, saving what the backward needs ----
    keys = [[] for _ in range(num_layers)]    # keys[l][t]: [d]
    values = [[] for _ in range(num_layers)]  # values[l][t]: [d]
    saved = []                                # saved[t]: per-position intermediates
    loss = 0.0
    for t in range(T):
        x = [a + b for a, b in zip(P["wte.weight"][tokens[t]], P["wpe.weight"][t])]
        layers = []
        for l, W in enumerate(L):
            s = {"x_in": x}
            h1, s["n1"] = rmsnorm(x, W["ln_1"])
            q = matvec(W["attn.wq"], h1)
            keys[l].append(matvec(W["attn.wk"], h1))
            values[l].append(matvec(W["attn.wv"], h1))
            o, probs = [], []
            for h in range(num_heads):
                lo, hi = h * hd, (h + 1) * hd
                qh = q[lo:hi]
                scores = [sum(map(mul, qh, k[lo:hi])) * scale for k in keys[l]]
                m = max(scores)
                e = [math.exp(sc - m) for sc in scores]
                z = sum(e)
                a = [ei / z for ei in e]
                probs.append(a)
                o.extend(sum(aj * v[i] for aj, v in zip(a, values[l])) for i in range(lo, hi))
            x = [xi + yi for xi, yi in zip(x, matvec(W["attn.wo"], o))]
            s.update(h1=h1, q=q, probs=probs, o=o, x_mid=x)
            h2, s["n2"] = rmsnorm(x, W["ln_2"])
            u = matvec(W["mlp.fc"], h2)
            r = [ui if ui > 0 else 0.0 for ui in u]
            x = [xi + yi for xi, yi in zip(x, matvec(W["mlp.proj"], r))]
            s.update(h2=h2, u=u, r=r)
            layers.append(s)
        hf, nf = rmsnorm(x, P["ln_f.weight"])
        logits = matvec(P["lm_head.weight"], hf)
        m = max(logits)
        e = [math.exp(z - m) for z in logits]
        total = sum(e)
        loss += math.log(total) - (logits[tokens[t + 1]] - m)
        saved.append((layers, hf, nf, [ei / total for ei in e]))
    loss /= T

    # ---- backward: positions in reverse, so a key/value's gradient is complete (it
    # collects from every later position) before its own position is processed ----
    G = {name: zeros_like(p) for name, p in P.items()}
    dkeys = [[[0.0] * d for _ in range(T)] for _ in range(num_layers)]
    dvalues = [[[0.0] * d for _ in range(T)] for _ in range(num_layers)]
    for t in reversed(range(T)):
        layers, hf, nf, softmax = saved[t]
        dlogits = [p / T for p in softmax]          # d(mean CE)/dlogits = (softmax - onehot)/T
        dlogits[tokens[t + 1]] -= 1.0 / T
        outer_add(G["lm_head.weight"], dlogits, hf)
        dhf = [0.0] * d
        matvec_t_add(P["lm_head.weight"], dlogits, dhf)
        dx = [0.0] * d
        rmsnorm_backward(dhf, P["ln_f.weight"], G["ln_f.weight"], nf, dx)
        for l in reversed(range(num_layers)):
            W, s = L[l], layers[l]
            g = lambda name: G[f"blocks.{l}.{name}.weight"]  # noqa: E731
            # MLP: x_out = x_mid + proj(relu(fc(rmsnorm(x_mid))))
            dr = [0.0] * len(s["u"])
            outer_add(g("mlp.proj"), dx, s["r"])
            matvec_t_add(W["mlp.proj"], dx, dr)
            du = [dri if ui > 0 else 0.0 for dri, ui in zip(dr, s["u"])]
            outer_add(g("mlp.fc"), du, s["h2"])
            dh2 = [0.0] * d
            matvec_t_add(W["mlp.fc"], du, dh2)
            dx_mid = list(dx)
            rmsnorm_backward(dh2, W["ln_2"], g("ln_2"), s["n2"], dx_mid)
            # attention: x_mid = x_in + wo(o)
            outer_add(g("attn.wo"), dx_mid, s["o"])
            do = [0.0] * d
            matvec_t_add(W["attn.wo"], dx_mid, do)
            dq = [0.0] * d
            for h in range(num_heads):
                lo, hi = h * hd, (h + 1) * hd
                a = s["probs"][h]
                # o_h = Σ_j a_j v_j:  dv_j += a_j do_h,  da_j = do_h · v_j
                da = []
                for j, aj in enumerate(a):
                    vj, dvj = values[l][j], dvalues[l][j]
                    for i in range(lo, hi):
                        dvj[i] += aj * do[i]
                    da.append(sum(map(mul, do[lo:hi], vj[lo:hi])))
                # softmax: ds_j = a_j (da_j - Σ_k a_k da_k); scores were scaled by `scale`
                mean_da = sum(map(mul, a, da))
                for j, (aj, daj) in enumerate(zip(a, da)):
                    ds = aj * (daj - mean_da) * scale
                    kj, dkj = keys[l][j], dkeys[l][j]
                    for i in range(lo, hi):
                        dq[i] += ds * kj[i]
                        dkj[i] += ds * s["q"][i]
            dh1 = [0.0] * d
            for name, dy in (("attn.wq", dq), ("attn.wk", dkeys[l][t]), ("attn.wv", dvalues[l][t])):
                outer_add(g(name), dy, s["h1"])
                matvec_t_add(W[name], dy, dh1)
            dx = dx_mid
            rmsnorm_backward(dh1, W["ln_1"], g("ln_1"), s["n1"], dx)
        # x = wte[token] + wpe[t]
        for grad_row in (G["wte.weight"][tokens[t]], G["wpe.weight"][t]):
            for i, dxi in enumerate(dx):
                grad_row[i] += dxi
    return loss, G


class FloatAdam:
    """Adam on the nested float lists (same update as micrograd_gpt.optim.Adam)."""

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
            rows = p if isinstance(p[0], list) else [p]
            grows = grads[name] if isinstance(p[0], list) else [grads[name]]
            mrows = self.m[name] if isinstance(p[0], list) else [self.m[name]]
            vrows = self.v[name] if isinstance(p[0], list) else [self.v[name]]
            for row, grow, mrow, vrow in zip(rows, grows, mrows, vrows):
                for i, g in enumerate(grow):
                    mrow[i] = b1 * mrow[i] + (1 - b1) * g
                    vrow[i] = b2 * vrow[i] + (1 - b2) * g * g
                    row[i] -= lr * (mrow[i] / c1) / (math.sqrt(vrow[i] / c2) + self.eps)
