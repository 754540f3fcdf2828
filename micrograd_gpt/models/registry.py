"""The registry of model kinds: a name ("bigram", "mlp", "rnn", "gpt", ...) -> its class.

Every kind implements the `LanguageModel` interface (lm.py), so the trainer, the sampler,
checkpoints and the pictures need only the name and the config's fields to rebuild any
model: `build_model("gpt", {"vocab_size": 27, "d_model": 16, ...})`,
`build_model("rnn", {"vocab_size": 27, "cell": "gru"})`.
"""
from __future__ import annotations

import dataclasses

from .bigram import CountingBigram, NeuralBigram
from ..common.checks import check_choice
from .context_mlp import ContextMLP
from .gpt import GPT
from .rnn import RNN

__all__ = ["MODELS", "DEFAULT_KIND", "build_model", "model_config", "config_fields"]

# the ladder of chapter 11, from the least context to the most
MODELS = {cls.kind: cls for cls in (CountingBigram, NeuralBigram, ContextMLP, RNN, GPT)}
DEFAULT_KIND = "gpt"


def model_config(kind, fields):
    """The config object of model `kind` from its fields (a dict, e.g. from a checkpoint)."""
    cls = MODELS[check_choice("kind", kind, tuple(MODELS))]
    if not isinstance(fields, dict):
        raise ValueError(f"model config: must be a dict of {cls.config_class.__name__} fields, "
                         f"got {type(fields).__name__}")
    known = {f.name for f in dataclasses.fields(cls.config_class)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"model config: {cls.config_class.__name__} has no field(s) "
                         f"{', '.join(map(str, unknown))} (it has: {', '.join(sorted(known))})")
    try:
        return cls.config_class(**fields)
    except TypeError as e:  # a required field is missing
        raise ValueError(f"model config: {e}") from None


def build_model(kind, fields, rng=None):
    """A new model of `kind` with config `fields`, its weights drawn with `rng`."""
    config = model_config(kind, fields)  # checks kind and fields first
    return MODELS[kind](config, rng=rng)


def config_fields(model):
    """The fields of a model's config as plain data (what a checkpoint stores)."""
    return dataclasses.asdict(model.config)
