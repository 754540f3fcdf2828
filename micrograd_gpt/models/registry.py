"""The model kinds: one tuple of classes, and every table of kinds derived from it.

Every kind implements the `LanguageModel` interface (language_model.py), so the trainer,
generation, checkpoints and the pictures need only a kind's name and its config's fields
to rebuild any model: `build_model("gpt", {"vocab_size": 27, "d_model": 16, ...})`,
`build_model("rnn", {"vocab_size": 27, "cell": "gru"})`.

A class carries what the rest of the package needs to know about its kind: its name
(`kind`), its config (`config_class`), the preset `train --model KIND` starts from
(`default_preset`) and where its PyTorch twin is (`torch_twin`, a dotted name, so that
nothing here imports torch). Adding a kind is a module in this folder and one entry in
MODEL_CLASSES; the command line's choices, checkpoints and the engines follow from it.
"""
from __future__ import annotations

import dataclasses

from ..common.checks import check_choice
from .bigram import CountingBigram, NeuralBigram
from .context_mlp import ContextMLP
from .gpt import GPT
from .rnn import RNN

__all__ = ["MODEL_CLASSES", "MODELS", "DEFAULT_KIND", "build_model", "model_config"]

# the ladder of chapter 11, from the least context to the most
MODEL_CLASSES = (CountingBigram, NeuralBigram, ContextMLP, RNN, GPT)
MODELS = {cls.kind: cls for cls in MODEL_CLASSES}  # "gpt" -> GPT, ...
DEFAULT_KIND = GPT.kind


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
