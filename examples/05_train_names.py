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
from pathlib import Path

from micrograd_gpt.train import TrainConfig, sample, train

QUICK = os.environ.get("MICROGRAD_GPT_QUICK") == "1"


def main(checkpoint):
    steps = 10 if QUICK else 120
    # the `tiny` preset (d=16, 2 heads, 1 block, context 16, Adam), shortened
    config = TrainConfig.from_preset("tiny", steps=steps, eval_interval=max(1, steps // 3),
                                     eval_docs=30 if QUICK else 100)
    result = train(config, out=checkpoint, stream=sys.stdout)
    vocab = result.model.config.vocab_size
    print(f"\nvalidation loss {result.val_loss:.3f} (a uniform guess: ln {vocab} = "
          f"{math.log(vocab):.3f})")
    print("made-up names:", ", ".join(sample(result.model, result.tokenizer, num=8,
                                             rng=random.Random(0), temperature=0.8)))
    print(f"checkpoint: {result.checkpoint}")
    print(f"next: python examples/06_sample.py {result.checkpoint}")
    assert result.val_loss < math.log(vocab)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1
         else Path(tempfile.mkdtemp(prefix="names-")) / "names.json")
