"""The graph of one training step, built for pictures: `training_step_graph`.

`micrograd-gpt graph --model KIND`, chapters 3 and 6 and docs/make_figures.py draw the
whole graph of one step of a small model: every number of the forward pass on a batch,
the loss, and (after `backward()`) every gradient. This builds that graph with exactly the
code `train` back-propagates (`engines.batch_loss`), on a fixed batch, inside
`record_scopes()`, so that every node knows the module that made it and a drawing can
show one box per module (`draw_dot(loss, collapse=True)`, `draw_modules`).
"""
from __future__ import annotations

from ..autograd.modes import record_scopes
from ..common.checks import check_int
from ..training.checkpoint import load_checkpoint
from ..training.data import prepare_data
from ..training.engines import batch_loss
from ..training.loop import new_model
from ..training.presets import DEFAULT_PRESET, PRESETS, needs_torch
from ..training.resume import resumed_config
from ..training.settings import TrainConfig

__all__ = ["training_step_graph"]


def training_step_graph(preset=DEFAULT_PRESET, batch_size=None, seed=0, checkpoint=None):
    """The graph of one training step of a preset's model, for pictures: (loss, model, batch).

    The batch is the first `batch_size` (default: the preset's) training documents of the
    names data, so the picture is the same every time; the loss is `batch_loss`, exactly
    what `train` back-propagates, and `backward()` has run. With `checkpoint` (a file
    written by `train`, with either engine) the model is the checkpoint's, trained weights
    and all, and the batch comes from the data it was trained on. The graph is built
    inside `record_scopes()`, so every node knows its module (for `collapse=True`).
    """
    saved = load_checkpoint(checkpoint) if checkpoint is not None else None
    if saved is not None:
        config = resumed_config(saved)
    else:
        config = TrainConfig.from_preset(preset, data="names", seed=seed)
    if config.preset in PRESETS and needs_torch(config.preset):
        raise ValueError(f"preset {config.preset!r} is a model for the torch engine: one "
                         "training step would make hundreds of millions of Value nodes, "
                         "too many to build and draw; draw a smaller preset")
    batch_size = check_int("batch_size", batch_size, 1, none_ok=True) or config.batch_size
    data = prepare_data(config)
    model = saved.model if saved is not None else new_model(config, data)
    batch = data.train[:batch_size]
    with record_scopes():  # every node tagged with its module, for the pictures
        loss = batch_loss(model, batch)
    loss.backward()
    return loss, model, batch
