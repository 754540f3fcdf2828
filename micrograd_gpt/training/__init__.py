"""The training layer: optimizers, data, the training loop, checkpoints, and the engines that
run a step (Values by default, PyTorch when asked).

One file per concern: `settings` (TrainConfig), `presets` (named model sizes and training
settings), `data` (tokenizer, embedded datasets, splits, a run's documents), `optim` (SGD,
Adam, AdamW), `lr_schedules`, `clip_grad`, `loop` (`train`: the loop, written once for every engine),
`result` (TrainResult), `resume` (what a resumed run may change), `interrupt` (Ctrl-C),
`engines` and `torch_engine` (who computes a step), `checkpoint` (one file format for every
model kind and engine), `history`, `health` and `progress` (what a run records and shows),
`baselines` (the losses of guessing and of counting: what a loss means), `sampling`
(`sample`: texts from a trained model), `interop` (a model's weights to PyTorch and back),
`sliced` (`TrainingRun`: `train` a slice at a time, for a page that must answer clicks).
"""
from ..common.lazy import lazy_exports

_EXPORTS = {
    "SGD": ".optim", "Adam": ".optim", "AdamW": ".optim", "clip_grad_norm": ".clip_grad",
    "CharTokenizer": ".data", "load_dataset": ".data", "prepare_data": ".data",
    "TrainConfig": ".settings", "train": ".loop", "TrainResult": ".result",
    "TrainingInterrupted": ".interrupt",
    "batch_loss": ".engines", "train_step": ".engines", "evaluate": ".engines",
    "reference_losses": ".baselines", "sample": ".sampling",
    "PRESETS": ".presets",
    "save_checkpoint": ".checkpoint", "load_checkpoint": ".checkpoint",
    "CheckpointError": ".checkpoint",
    "to_torch": ".interop", "from_torch": ".interop",
    "TrainingRun": ".sliced",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
