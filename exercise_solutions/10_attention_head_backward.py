"""Exercise 10 (chapter 7): the backward of one attention head. A solution."""
import math


def attention_head_backward(q, keys, values, dout):
    """(dq, dkeys, dvalues) for one head of attention at the last position."""
    hd, T = len(q), len(keys)
    scale = 1.0 / math.sqrt(hd)
    # forward again, keeping the weights a
    scores = [sum(qi * ki for qi, ki in zip(q, k)) * scale for k in keys]
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    a = [e / sum(exps) for e in exps]
    # out_j = Σ_s a_s·v_s[j]:  dv_s[j] = a_s·dout_j,  da_s = Σ_j dout_j·v_s[j]
    dvalues = [[a_s * d for d in dout] for a_s in a]
    da = [sum(d * v for d, v in zip(dout, value)) for value in values]
    # softmax: ds_s = a_s·(da_s - Σ_r a_r·da_r)
    mean = sum(a_r * da_r for a_r, da_r in zip(a, da))
    dscores = [a_s * (da_s - mean) for a_s, da_s in zip(a, da)]
    # score_s = (q·k_s)·scale:  dq += ds_s·scale·k_s,  dk_s = ds_s·scale·q
    dq = [sum(dscores[s] * scale * keys[s][i] for s in range(T)) for i in range(hd)]
    dkeys = [[dscores[s] * scale * qi for qi in q] for s in range(T)]
    return dq, dkeys, dvalues
