"""`micrograd-gpt plot --checkpoint F [-o loss.svg]`: a run's loss curves, as SVG."""
from __future__ import annotations

import sys
from pathlib import Path

from ..training.checkpoint import load_checkpoint
from ..viz.plots import write_loss_plot
from ..training.baselines import saved_reference_losses
from .options import checkpoint_given, output_file, wrote


def add_arguments(parser):
    parser.description = ("Write the training and validation loss of a run (kept in its "
                          "checkpoint) as an SVG line chart, with dashed lines at the loss "
                          "of guessing uniformly (ln |V|) and of bigram counts on the same "
                          "data.")
    parser.epilog = "example: micrograd-gpt plot --checkpoint out/names_tiny.json -o loss.svg"
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="a file from `train` (a plain `micrograd-gpt train` writes "
                             "out/names_tiny.json)")
    parser.add_argument("-o", "--output", default=None, metavar="PATH",
                        help="the SVG file (default: the checkpoint's name with .svg)")


def run(args):
    args.checkpoint = checkpoint_given(args.checkpoint)
    output = Path(args.output) if args.output else Path(args.checkpoint).with_suffix(".svg")
    if output.suffix.lower() != ".svg":
        raise ValueError(f"--output: the picture is SVG, so the name must end in .svg, "
                         f"got {str(output)!r}")
    output, existed = output_file(output, "--output", inputs=[args.checkpoint])
    checkpoint = load_checkpoint(args.checkpoint)
    title = f"{Path(args.checkpoint).name}: loss after {checkpoint.step} steps"
    write_loss_plot(checkpoint.history, output, title,
                    vocab_size=checkpoint.tokenizer.vocab_size, bigram=bigram_line(checkpoint))
    print(wrote(output, existed))
    return 0


def bigram_line(checkpoint):
    """The bigram loss for a loss curve's dashed line (also used by `inspect`), or None,
    with a note on stderr, when the checkpoint's data cannot be read again."""
    try:
        return saved_reference_losses(checkpoint)["bigram"]
    except ValueError as error:
        print(f"note: the loss curve has no bigram line: {error}", file=sys.stderr)
        return None
