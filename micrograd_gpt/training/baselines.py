"""Baselines for a validation loss: the losses of guessing and of counting, for a run's data.

A loss of 2.3 says little alone. Two numbers put it in its place: the loss of guessing
every token alike, ln |V| (where a fresh model starts), and the loss of counting which
token follows which in the training documents (the bigram, `data.bigram_loss`), the
floor a model with more context than one character must beat. The plots draw both as
lines under the loss curve.
"""
from __future__ import annotations

import math

from .data import bigram_loss, prepare_data
from .settings import TrainConfig

__all__ = ["reference_losses", "saved_reference_losses"]


def reference_losses(config, data=None):
    """What the validation loss of the run `config` means: {"uniform": ln |V|, the loss of
    guessing every token alike (where a fresh model starts), "bigram": the loss of counting
    which token follows which in the training documents (see `data.bigram_loss`)}, both
    on the documents the run validates on (its first `eval_docs`). `data`: the run's
    prepared data, if at hand (else it is read again)."""
    data = data if data is not None else prepare_data(config)
    vocab_size = data.tokenizer.vocab_size
    return {"uniform": math.log(vocab_size),
            "bigram": bigram_loss(data.train, data.val[:config.eval_docs], vocab_size)}


def saved_reference_losses(checkpoint):
    """`reference_losses` of the run saved in `checkpoint`, from its settings and its data
    read again; a ValueError when that data is gone or has changed since."""
    if not checkpoint.train_config:
        raise ValueError(f"{checkpoint.path} has no training settings to find its data")
    try:
        config = TrainConfig(**checkpoint.train_config)
    except TypeError as e:
        raise ValueError(f"{checkpoint.path} has unusable training settings: {e}") from None
    data = prepare_data(config)
    if checkpoint.extra.get("data_fingerprint", data.fingerprint) != data.fingerprint:
        raise ValueError(f"the data {config.data!r} has changed since {checkpoint.path} "
                         "was trained on it")
    return reference_losses(config, data)
