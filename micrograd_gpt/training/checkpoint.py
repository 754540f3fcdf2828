"""Save and load a training run: one JSON file, written atomically, checked on loading.

A checkpoint holds everything needed to use the model *and* to continue training exactly
where it stopped:

    format, version     what this file is ("micrograd-gpt-checkpoint", version 1)
    model_kind          which model (models/registry.py): "gpt", "rnn", ... (absent in older files: "gpt")
    model_config        the fields of the model's config (dataclasses.asdict)
    tokenizer           CharTokenizer.to_dict()
    weights             model.state_dict(): name -> nested lists of floats
    optimizer           optimizer.state_dict(): settings, step count, m / v / momentum buffers
    step                how many training steps have been taken
    train_config        the trainer's settings (a dict)
    rng_state           the state of the random.Random that draws the batches
    history             the loss history: {"train": [[step, loss], ...], "val": [...]},
                        and "health": [record, ...] when the run recorded its training
                        health (health.py; TrainConfig.record_health)
    extra               anything else the trainer wants to keep (e.g. a data fingerprint)

JSON is plain text anyone can open, and Python writes floats with `repr`, which reads back
as exactly the same float, so a save/load round trip changes no bit of any weight.

Saving is atomic: the file is written under a temporary name in the same directory and
then renamed over the old one with `os.replace` (one step for the file system). A crash or
Ctrl-C during a save leaves the previous checkpoint as it was.

Loading trusts nothing. The whole file is checked against the schema above before any
model is built: no unknown field, every field of the right type, every number finite (a
`1e999` in the JSON reads as inf and is refused), the optimizer's settings as its
constructor checks them, and the number of weights the config describes equal to the
number the file holds, so a small file claiming a huge model is refused without
allocating it. Saving runs the same check on what it is about to write, so a file that
could not be loaded is never written.
"""
from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path

from ..common.checks import check_choice, check_fields, check_int, check_numbers, check_str, describe
from .data import CharTokenizer
from ..common.files import atomic_write, atomic_write_text, read_text
from ..models.language_model import LanguageModel
from ..models.registry import DEFAULT_KIND, MODELS, model_config
from .optim import check_optimizer_state

__all__ = ["CheckpointError", "Checkpoint", "save_checkpoint", "load_checkpoint",
           "check_checkpoint", "atomic_write_text", "FORMAT", "FORMAT_VERSION"]

FORMAT = "micrograd-gpt-checkpoint"
FORMAT_VERSION = 1
FIELDS = ("format", "version", "model_kind", "model_config", "tokenizer", "weights",
          "optimizer", "step", "train_config", "rng_state", "history", "extra")
_REQUIRED = ("model_config", "tokenizer", "weights", "step")
HISTORY_KEYS = ("train", "val", "health")
_LOSS_KEYS = ("train", "val")      # lists of [step, loss]; "health": see _check_health
HEALTH_FIELDS = ("step", "lr", "grad_norm", "activations", "parameters")
_MAX_DEPTH = 32  # how deeply train_config and extra may nest (a list in a dict is 2)


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used: missing, truncated, corrupt, of another
    format version, or not matching the model it describes. The message says which."""


# -------------------------------------------------------------------------------------
# Saving
# -------------------------------------------------------------------------------------
def save_checkpoint(path, *, model, tokenizer, step, optimizer=None, train_config=None,
                    rng_state=None, history=None, extra=None):
    """Write a checkpoint of `model` (and, for resuming, the training state) to `path`,
    atomically. `rng_state` is `random.Random.getstate()`. Returns the path.

    What is written is checked first, as `load_checkpoint` checks it (a tokenizer that
    does not fit the model, a nan loss in the history...): a ValueError then says what is
    wrong and no file is touched."""
    if not isinstance(model, LanguageModel):
        raise ValueError(f"model: must be a language model (e.g. a GPT), got "
                         f"{type(model).__name__}")
    if not isinstance(tokenizer, CharTokenizer):
        raise ValueError(f"tokenizer: must be a CharTokenizer, got {type(tokenizer).__name__}")
    payload = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model_kind": model.kind,
        "model_config": dataclasses.asdict(model.config),
        "tokenizer": tokenizer.to_dict(),
        "weights": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "step": step,
        "train_config": _jsonable(train_config),
        "rng_state": _rng_state_to_json(rng_state),
        "history": history if history is not None else {"train": [], "val": []},
        "extra": extra if extra is not None else {},
    }
    check_checkpoint(payload)
    # allow_nan=False: a NaN would make a file that is not valid JSON
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
    if not isinstance(state, tuple) or len(state) != 3:
        raise ValueError(f"rng_state: must be random.Random.getstate(), got {describe(state)}")
    version, internal, gauss_next = state
    return [version, list(internal), gauss_next]


# -------------------------------------------------------------------------------------
# The schema
# -------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Checked:
    """A checkpoint's contents after `check_checkpoint`: every part checked, nothing built."""

    kind: str
    config: object
    tokenizer: CharTokenizer
    weights: dict
    optimizer: dict | None
    step: int
    train_config: dict | None
    rng_state: tuple | None
    history: dict
    extra: dict


def check_checkpoint(payload):
    """Check a checkpoint's contents (the parsed JSON) against the schema, building nothing.

    Raises a ValueError naming the first part that is wrong; see the module docstring for
    what is checked. Returns the checked parts (config object, tokenizer, normalized
    optimizer state, rng state as a tuple, ...).
    """
    _check_format(payload)
    kind = check_choice("model_kind", payload.get("model_kind", DEFAULT_KIND), tuple(MODELS))
    config = _part("model_config", lambda: model_config(kind, payload["model_config"]))
    tokenizer = _part("tokenizer", lambda: _tokenizer(payload["tokenizer"]))
    if tokenizer.vocab_size != config.vocab_size:
        raise ValueError(f"the tokenizer has {tokenizer.vocab_size} tokens but the model's "
                         f"vocab_size is {config.vocab_size}")
    num_weights = _check_weights(payload["weights"], kind, config)
    step = check_int("step", payload["step"], 0)
    optimizer = payload.get("optimizer")
    if optimizer is not None:
        optimizer = check_optimizer_state(optimizer, num_weights)
    return _Checked(
        kind=kind, config=config, tokenizer=tokenizer, weights=payload["weights"],
        optimizer=optimizer, step=step,
        train_config=_check_json("train_config", payload.get("train_config"), none_ok=True),
        rng_state=_part("rng_state", lambda: _rng_state(payload.get("rng_state"))),
        history=_check_history(payload.get("history"), step),
        extra=_check_json("extra", payload.get("extra") or {}))


def _check_format(payload):
    """What every checkpoint starts with: the format, its version, only known fields."""
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"not a micrograd-gpt checkpoint (no 'format': {FORMAT!r} field)")
    version = payload.get("version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValueError(f"checkpoint format version {version!r}; this version of "
                         f"micrograd-gpt reads version {FORMAT_VERSION}")
    missing = [key for key in _REQUIRED if key not in payload]
    if missing:
        raise ValueError(f"incomplete checkpoint, missing {', '.join(missing)}")
    check_fields("checkpoint", payload, FIELDS)


def _part(what, make):
    """`make()`, a failure of it named after the part of the file it checks."""
    try:
        return make()
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise ValueError(f"bad {what}: {e}") from None


def _tokenizer(value):
    check_fields("tokenizer", value, ("chars", "bos"), required=("chars",))
    return CharTokenizer.from_dict(value)


def _check_weights(weights, kind, config):
    """The number of weights in `weights` (name -> number, list or list of lists of
    finite numbers), which must be what the config describes: checked before the model is
    built, so a small file cannot make us allocate a huge one."""
    if not isinstance(weights, dict):
        raise ValueError(f"weights: must be a dict of name -> numbers, got "
                         f"{type(weights).__name__}")
    total = 0
    for name, tensor in weights.items():
        check_str("weights: a name", name)
        if isinstance(tensor, list) and tensor and isinstance(tensor[0], list):
            total += sum(len(check_numbers(f"weights[{name!r}][{i}]", row))
                         for i, row in enumerate(tensor))
        elif isinstance(tensor, list):
            total += len(check_numbers(f"weights[{name!r}]", tensor))
        else:
            check_numbers(f"weights[{name!r}]", [tensor])
            total += 1
    expected = MODELS[kind].count_parameters(config)
    if total != expected:
        raise ValueError(f"the weights do not fit model_config: they hold {total:,} numbers, "
                         f"but a {kind} with this config has {expected:,} parameters")
    _part("weights", lambda: MODELS[kind].check_weights(weights))  # e.g. a bigram's table
    return total


def _rng_state(value):
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 3:
        raise ValueError(f"expected [version, [625 ints], gauss_next], got {describe(value)}")
    version, internal, gauss_next = value
    check_int("version", version, 3, 3)  # what random.Random.getstate() gives in Python 3
    if not isinstance(internal, list) or len(internal) != 625 or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in internal):
        raise ValueError("the generator's internal state must be a list of 625 ints")
    if gauss_next is not None:
        check_numbers("gauss_next", [gauss_next])
    state = (version, tuple(internal), gauss_next)
    random.Random().setstate(state)  # raises on a malformed state
    return state


def _check_history(history, step):
    """{"train": [[step, loss], ...], "val": [...]}: steps in [0, step], losses finite, and
    no more points than there are steps (a run records at most one loss per step), so a
    file cannot make the pictures draw millions of points it never trained for."""
    if history is None:
        history = {}
    check_fields("history", history, HISTORY_KEYS)
    for key in _LOSS_KEYS:
        entries = history.setdefault(key, [])
        if not isinstance(entries, list):
            raise ValueError(f"history[{key!r}]: must be a list of [step, loss] pairs, "
                             f"got {describe(entries)}")
        _check_count(f"history[{key!r}]", entries, step + 1, f"the steps 0 to {step:,}")
        if not _plain_pairs(entries, step):  # find the first bad pair, and say what it is
            _check_pairs(key, entries, step)
    if "health" in history:
        _check_health(history["health"], step)
    return history


def _check_count(name, entries, most, what):
    if len(entries) > most:
        raise ValueError(f"{name}: holds {len(entries):,} records, more than {what} of this "
                         f"checkpoint can have made ({most:,})")


def _plain_pairs(entries, step):
    """Whether every entry is a [step, loss] list of an int in [0, step] and a finite
    number: the common case, checked a whole column at a time (a long run's history
    holds a point per step, and one check per number would take seconds)."""
    if not all(type(entry) is list and len(entry) == 2 for entry in entries):
        return False
    steps, losses = [entry[0] for entry in entries], [entry[1] for entry in entries]
    if not set(map(type, steps)) <= {int} or not set(map(type, losses)) <= {int, float}:
        return False
    return (not steps or (min(steps) >= 0 and max(steps) <= step)) and all(
        map(math.isfinite, losses))


def _check_pairs(key, entries, step):
    """Check each [step, loss] pair in turn: a ValueError names the first bad one."""
    for i, entry in enumerate(entries):
        if not isinstance(entry, (list, tuple)) or len(entry) != 2:
            raise ValueError(f"history[{key!r}][{i}]: must be a [step, loss] pair, "
                             f"got {describe(entry)}")
        check_int(f"history[{key!r}][{i}]: the step", entry[0], 0, step)
        check_numbers(f"history[{key!r}][{i}]: the loss", [entry[1]])


def _check_health(records, step):
    """history["health"], when the run recorded its training health (health.py): a list
    of {"step", "lr", "grad_norm" (or None), "activations": {module: {statistic: number}},
    "parameters": {tensor: {"shape": [ints], statistic: number or None}}}."""
    if not isinstance(records, list):
        raise ValueError(f"history['health']: must be a list of records, got "
                         f"{describe(records)}")
    _check_count("history['health']", records, step, f"the steps 1 to {step:,}")
    for i, record in enumerate(records):
        name = f"history['health'][{i}]"
        check_fields(name, record, HEALTH_FIELDS, required=HEALTH_FIELDS)
        check_int(f"{name}: the step", record["step"], 1, step)
        check_numbers(f"{name}: lr", [record["lr"]])
        if record["grad_norm"] is not None:
            check_numbers(f"{name}: grad_norm", [record["grad_norm"]], 0)
        _check_stats(f"{name}['activations']", record["activations"])
        _check_stats(f"{name}['parameters']", record["parameters"])


def _check_stats(name, table):
    """{name: {statistic: a finite number or None}}; "shape" holds a list of sizes."""
    if not isinstance(table, dict):
        raise ValueError(f"{name}: must be a dict, got {describe(table)}")
    for key, stats in table.items():
        check_str(f"{name}: a name", key)
        if not isinstance(stats, dict):
            raise ValueError(f"{name}[{key!r}]: must be a dict of statistics, got "
                             f"{describe(stats)}")
        for stat, value in stats.items():
            where = f"{name}[{key!r}][{stat!r}]"
            if stat == "shape":
                if not isinstance(value, list):
                    raise ValueError(f"{where}: must be a list of sizes, got {describe(value)}")
                for size in value:
                    check_int(where, size, 1)
            elif value is not None:
                check_numbers(where, [value])


def _check_json(name, value, none_ok=False, depth=0):
    """`value` if it is plain JSON data (dicts with string keys, lists, strings, finite
    numbers, booleans, None), nested at most _MAX_DEPTH deep; dicts at the top."""
    if depth == 0:
        if value is None and none_ok:
            return None
        if not isinstance(value, dict):
            raise ValueError(f"{name}: must be a dict, got {describe(value)}")
    if depth > _MAX_DEPTH:
        raise ValueError(f"{name}: nested more than {_MAX_DEPTH} deep")
    if isinstance(value, dict):
        for key, item in value.items():
            check_str(f"{name}: a key", key, empty_ok=True)
            _check_json(f"{name}[{key!r}]", item, depth=depth + 1)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_json(f"{name}[{i}]", item, depth=depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{name}: must be a finite number, got {value}")
    elif not (value is None or isinstance(value, (str, bool, int, float))):
        raise ValueError(f"{name}: must be plain JSON data, got {type(value).__name__}")
    return value


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
        steps = self.optimizer_state["steps"]
        if steps > self.step:  # one optimizer step per training step, never more
            raise CheckpointError(
                f"{self.path}: optimizer state: its step count {float(steps):.3g} is more "
                f"than the {self.step:,} training steps the checkpoint holds (Adam's bias "
                "correction would use it); this state was not saved by this run")
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
    or corrupt file, another format version, or contents that do not pass the schema (see
    the module docstring); the model is built only after all of it has been checked.
    """
    path = Path(path)
    payload = _read_json(path)
    try:
        checked = check_checkpoint(payload)
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None
    model = MODELS[checked.kind](checked.config)
    try:
        model.load_state_dict(checked.weights)
    except ValueError as e:
        raise CheckpointError(f"{path}: bad weights: {e}") from None
    return Checkpoint(
        path=path, model=model, tokenizer=checked.tokenizer, step=checked.step,
        optimizer_state=checked.optimizer, train_config=checked.train_config,
        rng_state=checked.rng_state, history=checked.history, extra=checked.extra)


def _read_json(path):
    try:
        text = read_text(path, "checkpoint")
    except ValueError as e:
        raise CheckpointError(str(e)) from None
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float,
                          parse_int=_sized_int)
    except json.JSONDecodeError as e:
        # a whole checkpoint is one JSON object, so it ends with "}"
        hint = "" if text.rstrip().endswith("}") else " (the file looks truncated)"
        raise CheckpointError(f"{path}: corrupt checkpoint, invalid JSON at line {e.lineno} "
                              f"column {e.colno}{hint}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: corrupt checkpoint (nested too deeply)") from None
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None


def _reject_constant(name):
    # json accepts NaN / Infinity by default; a checkpoint never contains them
    raise CheckpointError(f"corrupt checkpoint: it contains {name}, which no number in a "
                          "checkpoint may be")


def _finite_float(text):
    # "1e999" is valid JSON, and Python reads it as inf
    x = float(text)
    if not math.isfinite(x):
        raise CheckpointError(f"corrupt checkpoint: the number {describe(text, 30)} is too "
                              "large for a float (every number must be finite)")
    return x


def _sized_int(text):
    if len(text) > 100:  # no count, step or seed has a hundred digits
        raise CheckpointError(f"corrupt checkpoint: an integer of {len(text):,} digits")
    return int(text)
