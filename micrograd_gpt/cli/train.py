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
from ..common.install import INSTALL_TORCH
from ..models.registry import DEFAULT_KIND, MODELS
from ..training.checkpoint import load_checkpoint
from ..training.data import DATASETS, prepare_data
from ..training.engines import check_engine_options, estimate_step_seconds, set_threads
from ..training.interrupt import TrainingInterrupted
from ..training.loop import train
from ..training.presets import PRESETS, default_preset, needs_torch, preset_kind
from ..training.resume import RESUMABLE_FIELDS, resumed_config, schedule_change
from ..training.sampling import default_text_length, sample
from ..training.settings import TrainConfig, sequence_length
from . import is_first_process
from .options import (ExamplesFormatter, add_engine_arguments, count, output_file,
                      positive_float)

# train options (as parsed) -> TrainConfig fields; None means "not given: keep the preset's"
_OVERRIDES = ("steps", "batch_size", "lr", "eval_interval", "eval_docs", "seed", "data",
              "seq_len", "record_health")
# of those, the ones a resumed run may change (the rule is resume.RESUMABLE_FIELDS)
_RESUMABLE = tuple(name for name in _OVERRIDES if name in RESUMABLE_FIELDS)
# options that mean nothing for a model fit in one pass (the counting bigram)
_GRADIENT_ONLY = ("steps", "batch_size", "lr", "eval_interval", "record_health")

_EXAMPLES = """examples:
  micrograd-gpt train
  micrograd-gpt train --preset microgpt
  micrograd-gpt train --model rnn
  micrograd-gpt train --model bigram
  micrograd-gpt train --data text --preset small
  micrograd-gpt train --data my_lines.txt --steps 2000
  micrograd-gpt train --engine torch --data text --preset small
  torchrun --nproc_per_node 2 -m micrograd_gpt train --engine torch
run a line again: --force starts that run over, --resume CHECKPOINT --steps N goes on"""
# a Value-engine run expected to take longer than this gets a line with the estimate first
LONG_RUN_SECONDS = 5 * 60


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
    p.formatter_class = ExamplesFormatter  # the examples, one a line
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
                   help="record activation and gradient statistics at every eval interval "
                        "(see `micrograd-gpt inspect`); the default with the Value engine, "
                        "whose runs it does not slow down measurably")
    p.add_argument("--no-health", dest="record_health", action="store_false",
                   help="do not record them (a checkpoint about 6%% smaller)")
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
        config, first_step = _resume_config(args)
        out = Path(args.out) if args.out else Path(args.resume)
    else:
        config, first_step = _config(args), 0
        out = Path(args.out) if args.out else default_out(config)
    _check_out(out, config, args)  # before any training
    if not args.quiet:
        _say_if_long(config, config.steps - first_step, args.engine)
        if first_step == 0:
            _say_if_all_warm_up(config)
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
    """After Ctrl-C: which step the checkpoint holds and the command that continues (under
    torchrun, from the first process alone: it is the one that writes the checkpoint)."""
    if not is_first_process():
        return 130
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
    """`num` texts from the trained model, run by the engine that trained it, each printed
    as soon as it is drawn (a long text takes a while)."""
    print(f"samples (temperature {args.temperature:g}):", flush=True)
    text_mode = result.text_mode
    rng = random.Random(result.config.seed)
    for _ in range(num):  # one at a time from one rng: the same texts as all at once
        text, = sample(result.model, result.tokenizer, 1, rng=rng,
                       temperature=args.temperature, engine=args.engine, device=args.device,
                       dtype=args.dtype, stop_at_bos=not text_mode,
                       max_new_tokens=default_text_length(result.model) if text_mode else None)
        print(text + "\n---" if text_mode else f"  {text}", flush=True)


def _say_if_long(config, steps, engine):
    """Before a Value-engine run expected to take more than LONG_RUN_SECONDS: one line on
    stderr with the estimate, and the torch engine's (timed too when PyTorch is there)."""
    if (engine != "values" or steps < 1 or not MODELS[config.model_kind].trained_by_gradient
            or (config.preset is not None and needs_torch(config.preset))):
        return  # another engine, nothing to train, or a preset the Value engine refuses
    vocab_size, length = prepare_data(config).tokenizer.vocab_size, sequence_length(config)
    step = estimate_step_seconds("values", config, vocab_size, length)
    if step * steps < LONG_RUN_SECONDS:
        return
    try:
        fast = estimate_step_seconds("torch", config, vocab_size, length)
        torch = (f"with --engine torch about {_about(fast * steps)} (a step "
                 f"{fast * 1000:,.0f} ms, timed just now)")
    except ValueError:  # no PyTorch here
        torch = f"--engine torch takes a fraction of that, with PyTorch ({INSTALL_TORCH})"
    print(f"estimate: {steps:,} steps with Values take about {_about(step * steps)} here (a "
          f"step about {step:,.1f} s, estimated from a step timed just now); {torch}. Ctrl-C "
          "stops after the current step with a checkpoint to --resume.", file=sys.stderr,
          flush=True)


def _about(seconds):
    """ "45 seconds", "12 minutes", "1 hour 40 minutes", "3 days": a rough duration."""
    minutes = round(seconds / 60)
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if minutes < 90:
        return f"{minutes} minutes"
    if seconds < 2 * 86400:
        hours, minutes = divmod(minutes, 60)
        return f"{hours} hour{'s' if hours > 1 else ''} {minutes} minutes"
    return f"{seconds / 86400:,.0f} days"


def _say_if_all_warm_up(config):
    """A run that ends before its preset's warm-up does (`--steps 50` on `small`, whose
    learning rate climbs for 100 steps) never trains at the planned rate: say so."""
    warmup = config.warmup_steps
    if not warmup or config.steps > warmup or config.steps < 2:
        return
    preset = f"the {config.preset} preset's" if config.preset else "the run's"
    print(f"note: --steps {config.steps} is not longer than {preset} warm-up ({warmup} "
          f"steps, in which the learning rate climbs from 0 to {config.lr:g}): this run is "
          f"warm-up until its last step (warm-up {config.steps - 1} below). Give more than "
          f"{warmup} steps for a run that trains at the full rate.", file=sys.stderr,
          flush=True)


def _example_text(result):
    """Something for `inspect` to read, ready to paste: a name for the names data, else the
    start of a line of the first validation document (at most 8 characters)."""
    if result.config.data == "names":
        return "emma"
    text = result.tokenizer.decode(prepare_data(result.config).val[0])
    line = next((line for line in text.split("\n") if line.strip()), "")  # one line pastes
    return shlex.quote(line[:8])


def default_out(config):
    """Where a run writes its checkpoint without --out: out/<data>_<preset>.json."""
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
    _refuse_gradient_options(args, kind)
    if (args.record_health is None and args.engine == "values"
            and MODELS[kind].trained_by_gradient):
        # the default: health costs a Value run next to nothing (the tiny run: 61.9 s with
        # it, 63.1 s without), and `inspect` shows it; the torch engine cannot record it
        overrides["record_health"] = True
    return TrainConfig.from_preset(preset, **overrides)


def _refuse_gradient_options(args, kind):
    """Options of gradient training (steps, learning rate, health statistics of the
    steps...) given for a model fit in one pass: refused, not silently ignored."""
    if MODELS[kind].trained_by_gradient:
        return
    given = [_option(name, getattr(args, name)) for name in _GRADIENT_ONLY
             if getattr(args, name) is not None]
    if given:
        raise ValueError(f"{', '.join(given)} does not apply to --model {kind}: it is "
                         "counted in one pass over the data, not trained by gradient steps")


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
    _refuse_gradient_options(args, checkpoint.model.kind)
    changes = {name: getattr(args, name) for name in _RESUMABLE
               if getattr(args, name) is not None}
    config = dataclasses.replace(resumed_config(checkpoint), **changes)
    note = schedule_change(checkpoint, config)
    if note and args.quiet:  # train() prints it unless quiet; it matters either way
        print(note, file=sys.stderr)
    return config, checkpoint.step


def _option(name, value=None):
    """The command-line option of a setting: "eval_docs" -> "--eval-docs"; the health
    setting has two, named by the `value` given (both when it is None)."""
    if name == "record_health":
        return {True: "--health", False: "--no-health"}.get(value, "--health/--no-health")
    return f"--{name.replace('_', '-')}"
