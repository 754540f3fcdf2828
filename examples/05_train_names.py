"""Train a small GPT on first names, save a checkpoint, print a few made-up names.

    python examples/05_train_names.py [CHECKPOINT]

CHECKPOINT is where the model is saved (default: names.json in a new temporary folder);
give it to examples/06_sample.py. About 15 seconds; MICROGRAD_GPT_QUICK=1 trains only a
few steps. For the full run use the command line: `micrograd-gpt train`.
"""
import math
import os
import random
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

from micrograd_gpt.training import TrainConfig, prepare_data, sample, train

QUICK = os.environ.get("MICROGRAD_GPT_QUICK") == "1"


def bigram_loss(config):
    """The loss of counting letter pairs (chapter 8's baseline): pairs counted in the run's
    training names, scored on the same validation names as its validation loss, with +1
    smoothing. A model that beats it uses more than the previous letter."""
    data = prepare_data(config)
    vocab = data.tokenizer.vocab_size
    follows = defaultdict(Counter)
    for ids in data.train:
        for a, b in zip(ids, ids[1:]):
            follows[a][b] += 1
    pairs = [(a, b) for ids in data.val[:config.eval_docs] for a, b in zip(ids, ids[1:])]
    return -sum(math.log((follows[a][b] + 1) / (sum(follows[a].values()) + vocab))
                for a, b in pairs) / len(pairs)


def main(checkpoint):
    steps = 10 if QUICK else 120
    # the `tiny` preset (d=16, 2 heads, 1 block, context 16, Adam), shortened
    config = TrainConfig.from_preset("tiny", steps=steps, eval_interval=max(1, steps // 3),
                                     eval_docs=30 if QUICK else 100)
    result = train(config, out=checkpoint, stream=sys.stdout)
    vocab = result.model.config.vocab_size
    print(f"\nvalidation loss {result.val_loss:.3f} (a uniform guess: ln {vocab} = "
          f"{math.log(vocab):.3f}; counting letter pairs: {bigram_loss(config):.3f})")
    names = sample(result.model, result.tokenizer, num=8, rng=random.Random(0), temperature=0.8)
    print("made-up names:", ", ".join(map(repr, names)))  # quoted: an empty one shows as ''
    print(f"checkpoint: {result.checkpoint}")
    print(f"next: python examples/06_sample.py {result.checkpoint}")
    assert result.val_loss < math.log(vocab)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1
         else Path(tempfile.mkdtemp(prefix="names-")) / "names.json")
