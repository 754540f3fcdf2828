"""The training loop: it learns, it is deterministic, it resumes exactly, and its parts."""
import io
import math
import random
from collections import Counter

import pytest

from micrograd_gpt import functional as F
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.training.data import prepare_data
from micrograd_gpt.training.engines import batch_loss, evaluate
from micrograd_gpt.training.loop import train
from micrograd_gpt.training.progress import ProgressLine
from micrograd_gpt.training.sampling import sample
from micrograd_gpt.training.settings import TrainConfig

# A model small enough to train in seconds (d=8: ~1,000 parameters).
TINY_MODEL = dict(d_model=8, num_heads=2, num_layers=1, max_seq_len=12)


def tiny_config(**overrides):
    settings = dict(steps=6, batch_size=3, lr=0.02, warmup_steps=0, eval_interval=0,
                    eval_docs=20)
    settings.update(overrides)
    return TrainConfig.from_preset("tiny", model=dict(TINY_MODEL), **settings)


def weights(model):
    return [p.data for p in model.parameters()]


def unigram_loss(train_docs, val_docs):
    """Cross-entropy on val of a model that ignores context: p(token) = its frequency."""
    counts = Counter(t for doc in train_docs for t in doc[1:])
    total = sum(counts.values())
    targets = [t for doc in val_docs for t in doc[1:]]
    return -sum(math.log(counts[t] / total) for t in targets) / len(targets)


@pytest.mark.slow
def test_training_learns_names_beyond_single_letter_frequencies():
    config = tiny_config(steps=120, batch_size=4, eval_docs=100)
    result = train(config, quiet=True)
    data = prepare_data(config)
    uniform = math.log(result.tokenizer.vocab_size)
    assert result.val_loss < uniform - 0.5
    # below the best context-free model too: it uses the previous letters
    assert result.val_loss < unigram_loss(data.train, data.val[:100])
    assert len(result.history["train"]) == 120 and result.step == 120
    assert result.history["val"][-1] == [120, result.val_loss]
    first = sum(loss for _, loss in result.history["train"][:10]) / 10
    last = sum(loss for _, loss in result.history["train"][-10:]) / 10
    assert last < first - 0.4


@pytest.mark.slow
def test_same_seed_same_model_other_seed_other_model():
    a = train(tiny_config(steps=3), quiet=True)
    b = train(tiny_config(steps=3), quiet=True)
    c = train(tiny_config(steps=3, seed=1), quiet=True)
    assert weights(a.model) == weights(b.model)
    assert a.history == b.history
    assert weights(a.model) != weights(c.model)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["adamw", "sgd"])
def test_resume_continues_bit_for_bit(tmp_path, optimizer):
    # a decaying schedule with warm-up, weight decay and clipping: all state must survive
    settings = dict(steps=7, optimizer=optimizer, lr_schedule="cosine", warmup_steps=2,
                    weight_decay=0.05, grad_clip=0.5, eval_interval=2, momentum=0.9)
    if optimizer == "adamw":
        settings.pop("momentum")
    whole = train(tiny_config(**settings), quiet=True)

    path = tmp_path / "run.json"
    first = train(tiny_config(**settings), out=path, quiet=True, stop_at_step=3)
    assert first.step == 3
    second = train(None, resume=path, quiet=True)
    assert second.step == 7
    assert weights(second.model) == weights(whole.model)     # every bit of every weight
    assert second.history["train"] == whole.history["train"]
    # and the checkpoint it wrote at the end holds the same weights
    third = train(None, resume=path, quiet=True)             # nothing left to do
    assert third.step == 7 and weights(third.model) == weights(whole.model)


def test_resume_refuses_changed_settings_or_data(tmp_path):
    path = tmp_path / "run.json"
    data = tmp_path / "words.txt"
    data.write_text("alpha\nbeta\ngamma\ndelta\nepsilon\n")
    train(tiny_config(steps=2, data=str(data)), out=path, quiet=True)
    with pytest.raises(ValueError, match="lr"):
        train(tiny_config(steps=4, data=str(data), lr=0.5), resume=path, quiet=True)
    longer = train(tiny_config(steps=4, data=str(data), eval_interval=1), resume=path,
                   quiet=True)
    assert longer.step == 4
    data.write_text("alpha\nbeta\ngamma\ndelta\nzeta\n")
    with pytest.raises(ValueError, match="data has changed"):
        train(None, resume=path, quiet=True)


@pytest.mark.slow
def test_checkpoints_are_written_periodically(tmp_path, monkeypatch):
    import micrograd_gpt.training.loop as train_module
    saved_steps = []
    real_save = train_module.save_checkpoint
    monkeypatch.setattr(train_module, "save_checkpoint",
                        lambda path, **kw: saved_steps.append(kw["step"]) or real_save(path, **kw))
    train(tiny_config(steps=5, eval_interval=2), out=tmp_path / "c.json", quiet=True)
    assert saved_steps == [2, 4, 5]


# ---- data preparation ---------------------------------------------------------------------
def test_long_documents_are_cropped_and_text_mode_chunks(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("short\n" + "x" * 40 + "\nabc\nde\n")
    data = prepare_data(tiny_config(data=str(path), val_fraction=0.25))
    limit = TINY_MODEL["max_seq_len"] + 1
    assert data.num_cropped == 1
    assert all(len(doc) <= limit for doc in data.train + data.val)
    assert all(doc[0] == data.tokenizer.bos for doc in data.train + data.val)

    text = tmp_path / "story.txt"
    text.write_text("It was a dark and stormy night; the rain fell in torrents. " * 3)
    data = prepare_data(tiny_config(data=str(text), text_mode=True))
    assert data.text_mode and data.num_cropped == 0
    pieces = data.train + data.val
    assert all(len(p) <= limit for p in pieces)
    # a piece of running text starts with BOS but does not end with one
    assert all(p[0] == data.tokenizer.bos and data.tokenizer.bos not in p[1:] for p in pieces)
    assert " " in data.tokenizer.chars


def test_split_depends_on_seed_only():
    a, b = prepare_data(tiny_config(seed=5)), prepare_data(tiny_config(seed=5, steps=99))
    assert a.val == b.val and a.train == b.train
    assert prepare_data(tiny_config(seed=6)).val != a.val


# ---- the pieces of a step -----------------------------------------------------------------
def test_batch_loss_averages_over_predicted_tokens():
    model = GPT(GPTConfig(vocab_size=5, **TINY_MODEL), rng=random.Random(0))
    batch = [[4, 1, 2, 4], [4, 3, 4], [4, 0, 1, 2, 3, 4]]
    per_token = [F.cross_entropy(logits, target).data
                 for doc in batch for logits, target in zip(model(doc[:-1]), doc[1:])]
    assert len(per_token) == 3 + 2 + 5
    assert batch_loss(model, batch).data == pytest.approx(sum(per_token) / 10, rel=1e-12)
    assert evaluate(model, batch) == pytest.approx(sum(per_token) / 10, rel=1e-12)


def test_config_validation():
    for overrides, field in [(dict(steps=0), "steps"), (dict(lr=-1.0), "lr"),
                             (dict(optimizer="rmsprop"), "optimizer"),
                             (dict(lr_schedule="step"), "lr_schedule"),
                             (dict(grad_clip=0.0), "grad_clip"),
                             (dict(val_fraction=1.0), "val_fraction"),
                             (dict(betas=(0.9, 1.5)), r"betas\[1\]")]:
        with pytest.raises(ValueError, match=field):
            tiny_config(**overrides)
    with pytest.raises(ValueError, match="preset"):
        TrainConfig.from_preset("huge")
    with pytest.raises(ValueError, match="vocab_size"):
        TrainConfig(model=dict(TINY_MODEL, vocab_size=3))


# ---- progress and sampling ----------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_line_plain_lines_or_redrawn_line():
    log = io.StringIO()
    progress = ProgressLine(total_steps=10, stream=log, every=5)
    for step in range(1, 11):
        progress.update(step, 2.0, num_tokens=50, seconds=0.01, lr=0.01)
    progress.message("step 10: val loss 1.9")
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in log.getvalue()
    assert lines[0].startswith("step  5/10 | loss 2.0000") and "5,000 tok/s" in lines[0]
    assert "ETA 0:00" in lines[1] and lines[2] == "step 10: val loss 1.9"

    screen = FakeTerminal()
    progress = ProgressLine(total_steps=3, stream=screen)
    for step in (1, 2, 3):
        progress.update(step, 2.0, 10, 0.2, 0.01)
    progress.close()
    assert screen.getvalue().startswith("\r") and screen.getvalue().endswith("\n")
    assert "step 3/3" in screen.getvalue()


def test_sample_stops_at_bos_and_keeps_the_prompt():
    result = train(tiny_config(steps=2), quiet=True)
    texts = sample(result.model, result.tokenizer, 5, rng=random.Random(1), prompt="ma")
    assert len(texts) == 5 and all(t.startswith("ma") for t in texts)
    assert texts == sample(result.model, result.tokenizer, 5, rng=random.Random(1),
                           prompt="ma")
    assert all(set(t) <= set(result.tokenizer.chars) for t in texts)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        sample(result.model, result.tokenizer, 1, prompt="MA")
