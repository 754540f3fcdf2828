"""`micrograd-gpt plot --checkpoint F [-o loss.svg]`: a run's loss curves, as SVG."""
from __future__ import annotations

from pathlib import Path

from ..checkpoint import load_checkpoint
from ..plots import write_loss_plot
from .options import output_file, wrote


def add_arguments(parser):
    parser.description = ("Write the training and validation loss of a run (kept in its "
                          "checkpoint) as an SVG line chart.")
    parser.epilog = "example: micrograd-gpt plot --checkpoint out/names_tiny.json -o loss.svg"
    parser.add_argument("--checkpoint", required=True, metavar="PATH",
                        help="a file from `train`")
    parser.add_argument("-o", "--output", default=None, metavar="PATH",
                        help="the SVG file (default: the checkpoint's name with .svg)")


def run(args):
    output = Path(args.output) if args.output else Path(args.checkpoint).with_suffix(".svg")
    if output.suffix.lower() != ".svg":
        raise ValueError(f"--output: the picture is SVG, so the name must end in .svg, "
                         f"got {str(output)!r}")
    output, existed = output_file(output, "--output", inputs=[args.checkpoint])
    checkpoint = load_checkpoint(args.checkpoint)
    title = f"{Path(args.checkpoint).name}: loss after {checkpoint.step} steps"
    write_loss_plot(checkpoint.history, output, title)
    print(wrote(output, existed))
    return 0
