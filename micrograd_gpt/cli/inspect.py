"""`micrograd-gpt inspect --checkpoint F TEXT`: look inside a trained model reading TEXT.

Prints the table of next-token predictions and writes one HTML page with the table, the
attention heatmaps, the loss curve (dashed: uniform guess and bigram counts) and the
training-health curves (when the run recorded them: `train` does by default with Values).
"""
from __future__ import annotations

from pathlib import Path

from ..training.checkpoint import load_checkpoint
from ..common.checks import check_text
from ..viz.inspection import MAX_TEXT_CHARS, inspect_text
from ..viz.report import save_inspection_page
from ..training.sampling import saved_text_mode
from .options import checkpoint_given, count, output_file, wrote
from .plot import bigram_line


def add_arguments(p):
    p.description = ("Run a trained model on TEXT and show what it does: the next-token "
                     "predictions at every position (printed here), and an HTML page with "
                     "them, the attention of every head, the loss curve and the training "
                     "health.")
    p.epilog = 'example: micrograd-gpt inspect --checkpoint out/names_tiny.json "emma"'
    p.add_argument("text", metavar="TEXT",
                   help="what the model reads (after BOS); for names, one name")
    p.add_argument("--checkpoint", metavar="PATH",
                   help="a file from `train` (a plain `micrograd-gpt train` writes "
                        "out/names_tiny.json)")
    p.add_argument("-o", "--output", default=None, metavar="PATH",
                   help="the HTML page (default: the checkpoint's name + _inspect.html)")
    p.add_argument("--top-k", type=count(1), default=5,
                   help="candidates shown per position (default 5)")


def run(args):
    args.checkpoint = checkpoint_given(args.checkpoint)
    # a text too long to inspect is refused before the checkpoint is read
    check_text("TEXT", args.text, MAX_TEXT_CHARS, ", the most a table of predictions shows")
    output, existed = output_file(_output_path(args), "--output", inputs=[args.checkpoint])
    checkpoint = load_checkpoint(args.checkpoint)
    model, tokenizer = checkpoint.model, checkpoint.tokenizer
    result = inspect_text(model, tokenizer, args.text,
                          whole_document=not saved_text_mode(checkpoint),
                          top_k=min(args.top_k, tokenizer.vocab_size))
    print(result.prediction_table())
    if result.loss is not None:
        print(f"mean loss over the {len(result.predictions)} predictions: {result.loss:.4f}")
    facts = (f"{type(model).__name__}({model.extra_repr()}); trained "
             f"{checkpoint.step} steps; checkpoint {args.checkpoint}")
    save_inspection_page(output, result, history=checkpoint.history,
                         title=f"Inside {Path(args.checkpoint).name}: reading {args.text!r}",
                         facts=facts, vocab_size=tokenizer.vocab_size,
                         bigram=bigram_line(checkpoint))
    print(wrote(output, existed))
    if not checkpoint.history.get("health"):
        print("training health: not recorded for this run; `micrograd-gpt train` records it "
              "with the Value engine unless given --no-health")
    return 0


def _output_path(args):
    if args.output is None:
        checkpoint = Path(args.checkpoint)
        return checkpoint.with_name(checkpoint.stem + "_inspect.html")
    output = Path(args.output)
    if output.suffix.lower() not in (".html", ".htm"):
        raise ValueError(f"--output: the page is HTML, so the name must end in .html, "
                         f"got {str(output)!r}")
    return output

