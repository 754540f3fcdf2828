"""Save and load a training run: one JSON file, written atomically, checked on loading.

A checkpoint holds everything needed to use the model *and* to continue training exactly
where it stopped:

    format, version     what this file is ("micrograd-gpt-checkpoint", version 1)
    model_kind          which model (models.py): "gpt", "rnn", ... (absent in older files: "gpt")
    model_config        the fields of the model's config (dataclasses.asdict)
    tokenizer           CharTokenizer.to_dict()
    weights             model.state_dict(): name -> nested lists of floats
    optimizer           optimizer.state_dict(): settings, step count, m / v / momentum buffers
    step                how many training steps have been taken
    train_config        the trainer's settings (a dict)
    rng_state           the state of the random.Random that draws the batches
    history             the loss history: {"train": [[step, loss], ...], "val": [...]}
    extra               anything else the trainer wants to keep (e.g. a data fingerprint)

JSON is plain text anyone can open, and Python writes floats with `repr`, which reads back
as exactly the same float, so a save/load round trip changes no bit of any weight.

Saving is atomic: the file is written under a temporary name in the same directory and
then renamed over the old one with `os.replace` (one step for the file system). A crash or
Ctrl-C during a save leaves the previous checkpoint as it was.
"""
from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path

from .data import CharTokenizer
from .files import atomic_write, atomic_write_text, read_text
from .models import DEFAULT_KIND, MODELS, model_config

__all__ = ["CheckpointError", "Checkpoint", "save_checkpoint", "load_checkpoint",
           "atomic_write_text", "FORMAT", "FORMAT_VERSION"]

FORMAT = "micrograd-gpt-checkpoint"
FORMAT_VERSION = 1
_REQUIRED = ("model_config", "tokenizer", "weights", "step")


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: missing, truncated, corrupt, of another
    format version, or not matching the model it describes. The message says which."""


# -------------------------------------------------------------------------------------
# Saving
# -------------------------------------------------------------------------------------
def save_checkpoint(path, *, model, tokenizer, step, optimizer=None, train_config=None,
                    rng_state=None, history=None, extra=None):
    """Write a checkpoint of `model` (and, for resuming, the training state) to `path`,
    atomically. `rng_state` is `random.Random.getstate()`. Returns the path."""
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model_kind": model.kind,
        "model_config": dataclasses.asdict(model.config),
        "tokenizer": tokenizer.to_dict(),
        "weights": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "step": int(step),
        "train_config": _jsonable(train_config),
        "rng_state": _rng_state_to_json(rng_state),
        "history": history if history is not None else {"train": [], "val": []},
        "extra": extra or {},
    }
    # allow_nan=False: a NaN weight would make a file that is not valid JSON
    return atomic_write(path, lambda f: json.dump(payload, f, allow_nan=False))


def _jsonable(config):
    if config is None:
        return None
    if dataclasses.is_dataclass(config):
        return dataclasses.asdict(config)
    return dict(config)


def _rng_state_to_json(state):
    # random.Random.getstate() is (version, tuple of 625 ints, gauss_next)
    if state is None:
        return None
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


# -------------------------------------------------------------------------------------
# Loading
# -------------------------------------------------------------------------------------
@dataclasses.dataclass
class Checkpoint:
    """A loaded, checked checkpoint. `model` is the saved kind of model (a GPT, an RNN,
    ...: models.MODELS) with the saved weights; the other fields are the saved training
    state (see the module docstring)."""

    path: Path
    model: object
    tokenizer: CharTokenizer
    step: int
    optimizer_state: dict | None
    train_config: dict | None
    rng_state: tuple | None
    history: dict
    extra: dict

    def restore_optimizer(self, optimizer):
        """Load the saved optimizer state into `optimizer` (which must be the same kind,
        built over `self.model.parameters()`)."""
        if self.optimizer_state is None:
            raise CheckpointError(f"{self.path}: has no optimizer state, so training "
                                  "cannot resume from it")
        try:
            optimizer.load_state_dict(self.optimizer_state)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise CheckpointError(f"{self.path}: optimizer state does not fit: {e}") from None

    def make_rng(self):
        """A random.Random in the saved state (None if none was saved)."""
        if self.rng_state is None:
            return None
        rng = random.Random()
        rng.setstate(self.rng_state)
        return rng


def load_checkpoint(path):
    """Read and check a checkpoint; returns a `Checkpoint` whose `model` is ready to use.

    Raises `CheckpointError` (a ValueError) with a clear message for a missing, truncated
    or corrupt file, another format version, or weights that do not fit the config.
    """
    path = Path(path)
    payload = _read_json(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a micrograd-gpt checkpoint (no "
                              f"'format': {FORMAT!r} field)")
    version = payload.get("version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {version!r}; this version "
                              f"of micrograd-gpt reads version {FORMAT_VERSION}")
    missing = [key for key in _REQUIRED if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: incomplete checkpoint, missing {', '.join(missing)}")

    tokenizer = _load_part(path, "tokenizer", CharTokenizer.from_dict, payload["tokenizer"])
    model = _build_model(path, payload.get("model_kind", DEFAULT_KIND), payload["model_config"],
                         payload["weights"])
    if tokenizer.vocab_size != model.config.vocab_size:
        raise CheckpointError(f"{path}: the tokenizer has {tokenizer.vocab_size} tokens but "
                              f"the model's vocab_size is {model.config.vocab_size}")
    step = payload["step"]
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise CheckpointError(f"{path}: 'step' must be an integer >= 0, got {step!r}")
    return Checkpoint(
        path=path, model=model, tokenizer=tokenizer, step=step,
        optimizer_state=payload.get("optimizer"), train_config=payload.get("train_config"),
        rng_state=_load_part(path, "rng_state", _rng_state_from_json, payload.get("rng_state")),
        history=_load_part(path, "history", _check_history,
                           payload.get("history") or {"train": [], "val": []}),
        extra=payload.get("extra") or {},
    )


def _read_json(path):
    try:
        text = read_text(path, "checkpoint")
    except ValueError as e:
        raise CheckpointError(str(e)) from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        # a whole checkpoint is one JSON object, so it ends with "}"
        hint = "" if text.rstrip().endswith("}") else " (the file looks truncated)"
        raise CheckpointError(f"{path}: corrupt checkpoint, invalid JSON at line {e.lineno} "
                              f"column {e.colno}{hint}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: corrupt checkpoint (nested too deeply)") from None


def _reject_constant(name):
    # json accepts NaN / Infinity by default; a checkpoint never contains them
    raise CheckpointError(f"checkpoint contains {name}, which no weight may be")


def _load_part(path, what, load, value):
    """`load(value)`, turning any failure into a CheckpointError that names the part."""
    try:
        return load(value)
    except CheckpointError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise CheckpointError(f"{path}: bad {what}: {e}") from None


def _build_model(path, kind, config_dict, weights):
    if kind not in MODELS:
        raise CheckpointError(f"{path}: unknown model_kind {kind!r} (this version knows "
                              f"{', '.join(MODELS)})")
    config = _load_part(path, "model_config", lambda d: model_config(kind, d), config_dict)
    model = MODELS[kind](config)
    _load_part(path, "weights", model.load_state_dict, weights)
    return model


def _rng_state_from_json(value):
    if value is None:
        return None
    version, internal, gauss_next = value
    state = (version, tuple(internal), gauss_next)
    random.Random().setstate(state)  # raises on a malformed state
    return state


def _check_history(history):
    if not isinstance(history, dict):
        raise ValueError("expected a dict with 'train' and 'val' lists")
    for key in ("train", "val"):
        for entry in history.get(key, []):
            step, loss = entry
            if not isinstance(step, int) or not isinstance(loss, float) or math.isnan(loss):
                raise ValueError(f"{key} entries must be [step, loss], got {entry!r}")
    history.setdefault("train", [])
    history.setdefault("val", [])
    return history
