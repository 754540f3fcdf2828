"""Sample names from a trained GPT: temperature, top-k, top-p, and seeds.

    python examples/06_sample.py [CHECKPOINT]

CHECKPOINT is a file from examples/05_train_names.py or `micrograd-gpt train`. Without
one, a small model is trained first (about 15 seconds; MICROGRAD_GPT_QUICK=1: a few steps).
"""
import os
import random
import sys

from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.training import TrainConfig, sample, train

QUICK = os.environ.get("MICROGRAD_GPT_QUICK") == "1"


def load_or_train(path):
    if path is not None:
        checkpoint = load_checkpoint(path)
        print(f"loaded {path} (step {checkpoint.step})")
        return checkpoint.model, checkpoint.tokenizer
    steps = 10 if QUICK else 120
    print(f"no checkpoint given: training the tiny preset for {steps} steps first")
    result = train(TrainConfig.from_preset("tiny", steps=steps, eval_interval=0, eval_docs=50),
                   quiet=True)
    return result.model, result.tokenizer


def shown(names):
    """The names as a list a reader can trust: quoted, so an empty sample (the model ended
    the name at once) shows as '' instead of vanishing between two commas."""
    return ", ".join(repr(name) for name in names)


def main(path):
    model, tokenizer = load_or_train(path)
    for temperature in (0.5, 1.0, 1.5):
        names = sample(model, tokenizer, num=6, rng=random.Random(0), temperature=temperature)
        print(f"temperature {temperature}: {shown(names)}")
    print("top-k 3:      ", shown(sample(model, tokenizer, 6, rng=random.Random(0), top_k=3)))
    print("top-p 0.5:    ", shown(sample(model, tokenizer, 6, rng=random.Random(0), top_p=0.5)))
    print("prompt 'ma':  ", shown(sample(model, tokenizer, 6, rng=random.Random(0),
                                         prompt="ma", temperature=0.8)))
    again = [sample(model, tokenizer, 6, rng=random.Random(0), top_k=3) for _ in range(2)]
    print("the same seed gives the same names:", again[0] == again[1])
    assert again[0] == again[1]


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
