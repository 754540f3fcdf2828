"""Exercise 13 (chapter 8): Adam's update, the schedule and clipping, by hand. A solution.

On the first step m̂ = (1 − β1)·g / (1 − β1) = g and v̂ = g², so p moves by
lr·g/(|g| + eps): lr, whatever the size of g (chapter 8's "first step").
"""
import math


def adam_step(p, g, m, v, t, lr, betas=(0.9, 0.999), eps=1e-8):
    """One Adam step: the new (p, m, v), lists with one number per weight."""
    beta1, beta2 = betas
    m = [beta1 * m_i + (1 - beta1) * g_i for m_i, g_i in zip(m, g)]       # mean of g
    v = [beta2 * v_i + (1 - beta2) * g_i * g_i for v_i, g_i in zip(v, g)]  # mean of g²
    # m and v started at 0, so their early averages are too small: the hats undo that
    m_hat = [m_i / (1 - beta1 ** t) for m_i in m]
    v_hat = [v_i / (1 - beta2 ** t) for v_i in v]
    p = [p_i - lr * mh / (math.sqrt(vh) + eps) for p_i, mh, vh in zip(p, m_hat, v_hat)]
    return p, m, v


def learning_rate(step, lr, total_steps, warmup_steps):
    """The learning rate of step `step` (0 .. total_steps - 1): warm-up, then linear decay."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps          # lr/w, 2lr/w, ..., lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)   # 0 -> 1 at the end
    return lr * (1 - progress)


def clip(grads, max_norm):
    """(grads scaled to the length max_norm if they are longer, their length before)."""
    length = math.sqrt(sum(g * g for g in grads))
    if length <= max_norm:
        return list(grads), length
    scale = max_norm / length                           # one factor: the direction stays
    return [g * scale for g in grads], length
