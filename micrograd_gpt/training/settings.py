"""The settings of a training run: `TrainConfig`, and what follows from them alone.

A `TrainConfig` is everything that defines a run: the model (its kind and sizes), the data,
the optimizer and its schedule, how often to evaluate and save, and the seed. It is saved
in every checkpoint, so a run can be continued or reproduced from the file alone. Start
from a preset (presets.py) and change what you like:

    TrainConfig.from_preset("microgpt", steps=200, seed=3)

Two things are computed from the settings alone, and live here beside them: how many
tokens a model reads per document (`sequence_length`) and the learning rate at each step
(`learning_rate_schedule`).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..common.checks import check_bool, check_choice, check_int, check_number
from ..models.registry import DEFAULT_KIND, MODELS
from .lr_schedules import SCHEDULES, make_schedule
from .optim import OPTIMIZERS
from .presets import DEFAULT_PRESET, PRESETS, default_preset, preset_kind, presets_of

__all__ = ["TrainConfig", "DEFAULT_SEQ_LEN", "sequence_length", "learning_rate_schedule"]

DEFAULT_SEQ_LEN = 16  # seq_len of a model with no context limit, when not given


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint).

    Start from a preset and change what you like:
    `TrainConfig.from_preset("microgpt", steps=200, seed=3)`.
    """

    model: dict | None = None
    """The model's config fields except vocab_size (which comes from the data); None: those
    of the kind's default preset (`MODELS[model_kind].default_preset`)."""
    model_kind: str = DEFAULT_KIND  # which model (models/registry.py): "gpt", "rnn", "mlp", ...
    data: str = "names"            # "names", "text" (the sonnets) or a path to a UTF-8 file
    text_mode: bool | None = None  # True: cut a continuous text into max_seq_len pieces;
    #                                False: one document per line; None: True for "text" only
    seq_len: int | None = None     # tokens a document may have (longer ones are cropped) and
    #                                the length of text pieces; None: the model's max_seq_len,
    #                                or 16 for a model with no context limit (bigram, mlp, rnn)
    val_fraction: float = 0.1      # share of the documents held out for validation
    steps: int = 500               # optimizer steps in the whole run
    batch_size: int = 8            # documents per step
    lr: float = 0.01               # peak learning rate
    lr_schedule: str = "linear"    # "constant", "linear" (decay to 0) or "cosine" (to 0)
    warmup_steps: int = 0          # linear warm-up steps (capped at steps - 1)
    optimizer: str = "adam"        # "sgd", "adam" or "adamw"
    betas: tuple = (0.9, 0.99)     # Adam's averaging factors for m and v
    eps: float = 1e-8              # Adam's guard against dividing by ~0
    weight_decay: float = 0.0      # L2 (sgd, adam) or decoupled (adamw) weight decay
    momentum: float = 0.0          # SGD only
    grad_clip: float | None = 1.0  # clip the gradient's length to this (None: never)
    eval_interval: int = 100       # validation loss (and checkpoint) every N steps; 0: at the end
    eval_docs: int = 200           # evaluate on at most this many documents (a fixed subset)
    checkpoint_interval: int | None = None  # None: same as eval_interval; 0: only at the end
    seed: int = 0                  # one number fixes the init, the split and the batches
    record_health: bool = False    # activation and gradient statistics (health.py) at the
    #                                first step, every eval_interval steps and the last one
    preset: str | None = None      # the preset this came from (for the record only)

    def __post_init__(self):
        if isinstance(self.betas, list):  # JSON gives back a list
            self.betas = tuple(self.betas)
        check_choice("model_kind", self.model_kind, tuple(MODELS))
        if self.model is None:
            self.model = dict(PRESETS[default_preset(self.model_kind)]["model"])
        self._check_model_and_data()
        for name, low in (("steps", 1), ("batch_size", 1), ("warmup_steps", 0),
                          ("eval_interval", 0), ("eval_docs", 1), ("seed", None)):
            check_int(name, getattr(self, name), low)
        check_int("checkpoint_interval", self.checkpoint_interval, 0, none_ok=True)
        check_int("seq_len", self.seq_len, 1, none_ok=True)
        if not MODELS[self.model_kind].trained_by_gradient and self.steps != 1:
            raise ValueError(
                f"steps: model_kind {self.model_kind!r} is fit in one pass over the data "
                f"(counted, not trained by gradient), so steps must be 1, got {self.steps}")
        self._check_optimizer()
        check_number("val_fraction", self.val_fraction, 0, 1, low_open=True, high_open=True)
        if self.text_mode is not None:
            check_bool("text_mode", self.text_mode)
        check_bool("record_health", self.record_health)

    def _check_model_and_data(self):
        if not isinstance(self.model, dict):
            raise ValueError(f"model: must be a dict of model config fields, got {self.model!r}")
        if "vocab_size" in self.model:
            raise ValueError("model: leave out vocab_size; it comes from the data")
        if not isinstance(self.data, str) or not self.data:
            raise ValueError(f"data: must be 'names', 'text' or a file path, got {self.data!r}")

    def _check_optimizer(self):
        check_number("lr", self.lr, 0, low_open=True)
        check_number("eps", self.eps, 0, low_open=True)
        check_number("weight_decay", self.weight_decay, 0)
        check_number("momentum", self.momentum, 0, 1, high_open=True)
        check_number("grad_clip", self.grad_clip, 0, low_open=True, none_ok=True)
        check_choice("lr_schedule", self.lr_schedule, SCHEDULES)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        if not isinstance(self.betas, tuple) or len(self.betas) != 2:
            raise ValueError(f"betas: must be a pair (beta1, beta2), got {self.betas!r}")
        for i, b in enumerate(self.betas):
            check_number(f"betas[{i}]", b, 0, 1, high_open=True)

    @classmethod
    def from_preset(cls, name=DEFAULT_PRESET, model=None, **overrides):
        """The settings of preset `name` (see presets.py), with `overrides` applied; `model`
        (a dict) changes single model fields, e.g. `model={"d_model": 32}`."""
        kind = preset_kind(name)
        asked = overrides.pop("model_kind", kind)
        if asked != kind:
            raise ValueError(f"preset: {name!r} is a preset for model {kind!r}, not {asked!r}; "
                             f"presets for {asked!r}: {', '.join(presets_of(asked)) or 'none'}")
        preset = PRESETS[name]
        settings = dict(preset["train"], preset=name, model_kind=kind, **overrides)
        return cls(model=dict(preset["model"], **(model or {})), **settings)

    @property
    def effective_checkpoint_interval(self):
        return self.eval_interval if self.checkpoint_interval is None else self.checkpoint_interval

    def uses_text_mode(self):
        """Whether the data is cut into pieces (True) or read one document per line."""
        return self.data == "text" if self.text_mode is None else self.text_mode


def sequence_length(config):
    """How many tokens a model reads per document in the run `config` describes (see
    TrainConfig.seq_len): never more than a GPT's max_seq_len."""
    limit = config.model.get("max_seq_len")  # a GPT's context; other kinds have none
    if limit is not None:
        check_int("model['max_seq_len']", limit, 1)
        if config.seq_len is not None and config.seq_len > limit:
            raise ValueError(f"seq_len: {config.seq_len} is longer than the model's "
                             f"max_seq_len={limit}; give at most {limit}")
    return config.seq_len or limit or DEFAULT_SEQ_LEN


def learning_rate_schedule(config):
    """The learning-rate schedule of the run `config` describes: step index -> rate (the
    warm-up is capped at steps - 1, so the last step always decays)."""
    return make_schedule(config.lr_schedule, config.lr, config.steps,
                         min(config.warmup_steps, config.steps - 1))
