"""Exercise 15 (chapter 11): the neural bigram's gradient, from the counts alone. A solution.

One prediction a -> b has the gradient softmax(W[a]) − onehot(b) toward row a, and 0
toward every other row (chapter 7). Row a collects one such term from each of the N[a]
pairs that start with a: N[a]·softmax(W[a]) − N[a][:]. The loss is the mean over all P
predictions, so the gradient is that divided by P. It is 0 exactly where
softmax(W[a])[b] = N[a][b] / N[a]: W[a][b] = ln N[a][b] (plus any number, the same
across a row, since softmax does not see it).
"""
import math


def softmax(z):
    """The probabilities of the logits z."""
    top = max(z)
    exps = [math.exp(v - top) for v in z]
    return [e / sum(exps) for e in exps]


def bigram_grad(W, documents):
    """d loss / d W for the mean loss over every pair of consecutive tokens: [V][V]."""
    V = len(W)
    counts = [[0] * V for _ in range(V)]
    for doc in documents:
        for a, b in zip(doc, doc[1:]):
            counts[a][b] += 1
    predictions = sum(map(sum, counts))
    grad = []
    for a in range(V):
        seen = sum(counts[a])                    # N[a]: the predictions made after a
        p = softmax(W[a])
        grad.append([(seen * p[b] - counts[a][b]) / predictions for b in range(V)])
    return grad


def logits_at_minimum(counts):
    """A table W [V][V] at which the gradient of the counts' mean loss is 0."""
    # softmax(ln N[a]) = N[a][b] / Σ_c N[a][c]: the frequencies
    return [[math.log(n) for n in row] for row in counts]
