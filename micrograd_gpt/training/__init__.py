"""The training layer: optimizers, data, the training loop, checkpoints, and the engines that
run a step (Values by default, PyTorch when asked).

`optim` (SGD, Adam, AdamW, schedules), `data` (tokenizer, embedded datasets, splits),
`presets` (named model sizes), `loop` (train: the loop, written once for every engine),
`engines` and `torch_engine` (who computes a step), `checkpoint` (one file format for every
model kind and engine), `history`, `health` and `progress` (what a run records and shows),
`interop` (a model's weights to PyTorch and back).
"""
from ..common.lazy import lazy_exports

_EXPORTS = {
    "SGD": ".optim", "Adam": ".optim", "AdamW": ".optim", "clip_grad_norm": ".optim",
    "CharTokenizer": ".data", "load_dataset": ".data",
    "train": ".loop", "TrainConfig": ".loop", "TrainResult": ".loop",
    "save_checkpoint": ".checkpoint", "load_checkpoint": ".checkpoint",
    "CheckpointError": ".checkpoint",
    "to_torch": ".interop", "from_torch": ".interop",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
