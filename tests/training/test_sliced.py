"""TrainingRun: `train` cut into slices gives the very run `train` gives."""
import pytest

from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.training import TrainConfig, train
from micrograd_gpt.training.sliced import TrainingRun


def small_config(**changes):
    settings = dict(steps=12, eval_interval=5, eval_docs=20, batch_size=4, seed=3)
    settings.update(changes)
    return TrainConfig.from_preset("microgpt", **settings)


@pytest.mark.slow
def test_slices_give_trains_history_bit_for_bit():
    whole = train(small_config(), quiet=True)
    run = TrainingRun(small_config(), quiet=True)
    slices = 0
    while not run.done:
        assert run.advance(0.0) >= 1   # a slice of no time still takes one step
        slices += 1
    result = run.finish()
    assert slices == 12
    assert result.history["train"] == whole.history["train"]
    assert result.history["val"] == whole.history["val"]
    assert (result.train_loss, result.val_loss) == (whole.train_loss, whole.val_loss)
    assert len(result.step_times) == 12
    assert run.advance(1.0) == 0 and run.finish() is result


@pytest.mark.slow
def test_stopping_early_and_saving_a_checkpoint_that_resumes(tmp_path):
    run = TrainingRun(small_config(), quiet=True)
    run.advance(0.0)
    run.advance(0.0)
    assert run.step == 2 and not run.done
    path = run.save(tmp_path / "two.json")
    saved = load_checkpoint(path)
    assert saved.step == 2
    resumed = train(resume=path, quiet=True)
    whole = train(small_config(), quiet=True)
    assert resumed.history["train"] == whole.history["train"]
    result = run.finish()   # a Stop: the run ends at step 2
    assert result.step == 2 and len(result.history["train"]) == 2


def test_bad_slice_length_is_refused():
    run = TrainingRun(small_config(), quiet=True)
    with pytest.raises(ValueError, match="seconds"):
        run.advance(float("nan"))
