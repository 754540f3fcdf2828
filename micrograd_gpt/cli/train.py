"""`micrograd-gpt train`: train a model (a GPT, the tiny preset on names by default; `--model`
picks another rung of the ladder), then print the final losses, a few samples, and the
commands to go on with."""
from __future__ import annotations

import dataclasses
import random
import shlex
import sys
from pathlib import Path

from ..common.files import same_file
from ..models.registry import DEFAULT_KIND, MODELS
from ..training.checkpoint import load_checkpoint
from ..training.data import DATASETS, prepare_data
from ..training.engines import check_engine_options, set_threads
from ..training.interrupt import TrainingInterrupted
from ..training.loop import train
from ..training.presets import PRESETS, default_preset, preset_kind
from ..training.resume import RESUMABLE_FIELDS, resumed_config, schedule_change
from ..training.sampling import default_text_length, sample
from ..training.settings import TrainConfig
from .options import add_engine_arguments, count, output_file, positive_float

# train options (as parsed) -> TrainConfig fields; None means "not given: keep the preset's"
_OVERRIDES = ("steps", "batch_size", "lr", "eval_interval", "eval_docs", "seed", "data",
              "seq_len", "record_health")
# of those, the ones a resumed run may change (the rule is resume.RESUMABLE_FIELDS)
_RESUMABLE = tuple(name for name in _OVERRIDES if name in RESUMABLE_FIELDS)
# options that mean nothing for a model fit in one pass (the counting bigram)
_GRADIENT_ONLY = ("steps", "batch_size", "lr", "eval_interval")

_EXAMPLES = ("examples: micrograd-gpt train | micrograd-gpt train --preset microgpt | "
             "micrograd-gpt train --model rnn | micrograd-gpt train --model bigram | "
             "micrograd-gpt train --data text --preset small | "
             "micrograd-gpt train --data my_lines.txt --steps 2000 | "
             "micrograd-gpt train --engine torch --data text --preset small | "
             "torchrun --nproc_per_node 2 -m micrograd_gpt train --engine torch")


def add_arguments(p):
    p.description = ("Train a model on characters. With no options: a GPT, the `tiny` preset "
                     "on the embedded names (about a minute), then the final losses and 10 "
                     "sampled names. --model picks another rung of the ladder (chapter 11) "
                     "with its own preset; options override the preset. A checkpoint is "
                     "written every eval interval, at the end, and on Ctrl-C (after the step "
                     "in progress). --resume continues a run: to its planned --steps exactly, "
                     "bit for bit; with more (or fewer) --steps the learning-rate schedule is "
                     "re-planned for the new total, and a line says so.")
    p.epilog = _EXAMPLES
    p.add_argument("--model", default=None, choices=list(MODELS),
                   help="bigram (counted in one pass), neural_bigram, mlp, rnn (also a GRU: "
                        "--preset gru) or gpt (default); each starts from its own preset")
    p.add_argument("--data", default=None, metavar="names|text|PATH",
                   help="'names' (embedded first names, default), 'text' (Shakespeare's "
                        "sonnets) or a UTF-8 text file with one document per line")
    p.add_argument("--text", action="store_true",
                   help="treat the data as one continuous text cut into context-sized pieces")
    p.add_argument("--seq-len", type=count(1), default=None,
                   help="longest document and length of text pieces, in tokens (default: "
                        "the GPT's context; 16 for the other models)")
    p.add_argument("--preset", default=None, choices=list(PRESETS),
                   help="model size and training settings (default: the model's own: "
                        + ", ".join(f"{kind} {cls.default_preset}" for kind, cls in MODELS.items())
                        + ")")
    p.add_argument("--steps", type=count(1), default=None,
                   help="training steps in total (with --resume: the run's planned total "
                        "continues it exactly; another total re-plans the schedule)")
    p.add_argument("--batch-size", type=count(1), default=None, help="documents per step")
    p.add_argument("--lr", type=positive_float, default=None, help="peak learning rate")
    p.add_argument("--eval-interval", type=count(0), default=None,
                   help="validation loss and checkpoint every N steps (0: at the end only)")
    p.add_argument("--eval-docs", type=count(1), default=None,
                   help="documents each loss evaluation uses (default 200; fewer is faster)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--health", dest="record_health", action="store_true", default=None,
                   help="also record activation and gradient statistics at every eval "
                        "interval (see `micrograd-gpt inspect`)")
    _add_output_arguments(p)
    add_engine_arguments(p, "train with")


def _add_output_arguments(p):
    """Where the run goes and what is printed at its end."""
    p.add_argument("--out", default=None, metavar="PATH",
                   help="checkpoint file (default out/<data>_<preset>.json; with --resume, "
                        "the resumed file); an existing file is replaced only with --force")
    p.add_argument("--force", action="store_true",
                   help="replace the file at --out even if it is not this run's checkpoint")
    p.add_argument("--resume", default=None, metavar="CHECKPOINT",
                   help="continue the run saved in CHECKPOINT (to --steps in total)")
    p.add_argument("--samples", type=count(0), default=10,
                   help="texts to sample at the end (default 10)")
    p.add_argument("--temperature", type=positive_float, default=0.8,
                   help="sampling temperature for those samples (default 0.8)")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def run(args):
    # a wrong engine option (or no torch) fails at once, before any file is read
    check_engine_options(args.engine, args.device, args.dtype, args.threads)
    set_threads(args.engine, args.threads)
    if args.resume is not None:
        config = _resume_config(args)
        out = Path(args.out) if args.out else Path(args.resume)
    else:
        config = _config(args)
        out = Path(args.out) if args.out else _default_out(config)
    _check_out(out, config, args)  # before any training
    try:
        result = train(config, out=out, resume=args.resume, quiet=args.quiet,
                       engine=args.engine, device=args.device, dtype=args.dtype)
    except TrainingInterrupted as stopped:
        return _report_interruption(stopped)
    if not result.engine.is_main:
        return 0  # under torchrun the first process alone reports
    how = (f"{result.step} steps in {result.seconds:.1f} s ({result.ms_per_step:.1f} ms/step "
           "median)" if result.model.trained_by_gradient else
           f"fit in one pass, {result.seconds:.1f} s in all")
    print(f"final: train loss {result.train_loss:.4f} | val loss {result.val_loss:.4f} | {how}")
    print(f"checkpoint: {result.checkpoint}")
    if args.samples:
        _print_samples(result, args, args.samples)
    print("next:")
    print(f"  micrograd-gpt sample --checkpoint {result.checkpoint}")
    print(f"  micrograd-gpt plot --checkpoint {result.checkpoint}")
    print(f"  micrograd-gpt inspect --checkpoint {result.checkpoint} "
          f"{_example_text(result)}")
    return 0


def _check_out(out, config, args):
    """--out is checked before training: a path that can be written, not the data file,
    and no file of another run (or anything else) replaced without --force."""
    data = [] if config.data in DATASETS else [config.data]
    out, existed = output_file(out, "--out", inputs=data)
    same_run = args.resume is not None and same_file(out, args.resume)
    if existed and not same_run and not args.force:
        raise ValueError(
            f"--out {str(out)!r} already exists; replacing it would lose it (if it is a "
            f"checkpoint, its run). Give --force to replace it, --resume {shlex.quote(str(out))}"
            " to continue its run, or another --out")


def _report_interruption(stopped):
    """After Ctrl-C: which step the checkpoint holds and the command that continues."""
    if stopped.checkpoint is None:
        print("micrograd-gpt train: interrupted before a checkpoint was written",
              file=sys.stderr)
    else:
        print(f"micrograd-gpt train: interrupted; {stopped.checkpoint} holds step "
              f"{stopped.step} of {stopped.planned}. Continue the run with:\n"
              f"  micrograd-gpt train --resume {shlex.quote(str(stopped.checkpoint))}",
              file=sys.stderr)
    return 130


def _print_samples(result, args, num):
    """`num` texts from the trained model, run by the engine that trained it."""
    print(f"samples (temperature {args.temperature:g}):")
    text_mode = result.text_mode
    texts = sample(result.model, result.tokenizer, num, rng=random.Random(result.config.seed),
                   temperature=args.temperature, engine=args.engine, device=args.device,
                   dtype=args.dtype,
                   max_new_tokens=default_text_length(result.model) if text_mode else None,
                   stop_at_bos=not text_mode)
    for text in texts:
        print(text + "\n---" if text_mode else f"  {text}")


def _example_text(result):
    """Something for `inspect` to read, ready to paste: a name for the names data, else the
    start of a line of the first validation document (at most 8 characters)."""
    if result.config.data == "names":
        return "emma"
    text = result.tokenizer.decode(prepare_data(result.config).val[0])
    line = next((line for line in text.split("\n") if line.strip()), "")  # one line pastes
    return shlex.quote(line[:8])


def _default_out(config):
    stem = config.data if config.data in DATASETS else Path(config.data).stem or "data"
    return Path("out") / f"{stem}_{config.preset or 'custom'}.json"


def _config(args):
    """A TrainConfig from the parsed options: the preset first, then the options."""
    overrides = {name: getattr(args, name) for name in _OVERRIDES
                 if getattr(args, name) is not None}
    if args.text:
        overrides["text_mode"] = True
    preset = args.preset or default_preset(args.model or DEFAULT_KIND)
    kind = preset_kind(preset)
    if args.model is not None and args.model != kind:
        raise ValueError(f"--preset {preset} is for --model {kind}, not {args.model}; leave "
                         f"out --preset for the {args.model} model's own")
    if not MODELS[kind].trained_by_gradient:
        given = [_option(o) for o in _GRADIENT_ONLY if getattr(args, o) is not None]
        if given:
            raise ValueError(f"{', '.join(given)} does not apply to --model {kind}: it is "
                             "counted in one pass over the data, not trained by gradient "
                             "steps")
    return TrainConfig.from_preset(preset, **overrides)


def _resume_config(args):
    """For `--resume`: the checkpoint's settings; only options that a resumed run may
    change are allowed."""
    fixed = [_option(o) for o in ("model", "preset", *_OVERRIDES)
             if o not in _RESUMABLE and getattr(args, o) is not None]
    fixed += ["--text"] if args.text else []
    if fixed:
        raise ValueError(f"{', '.join(fixed)} cannot be given with --resume: the run "
                         "continues with the checkpoint's settings (only "
                         f"{', '.join(map(_option, _RESUMABLE))} may change)")
    checkpoint = load_checkpoint(args.resume)
    changes = {name: getattr(args, name) for name in _RESUMABLE
               if getattr(args, name) is not None}
    config = dataclasses.replace(resumed_config(checkpoint), **changes)
    note = schedule_change(checkpoint, config)
    if note and args.quiet:  # train() prints it unless quiet; it matters either way
        print(note, file=sys.stderr)
    return config


def _option(name):
    """The command-line option of a setting: "eval_docs" -> "--eval-docs"."""
    return "--health" if name == "record_health" else f"--{name.replace('_', '-')}"
