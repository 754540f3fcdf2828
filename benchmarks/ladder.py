"""The makemore ladder: every kind of model on the same names, with the same budget, one table.

    python benchmarks/ladder.py             # the table of chapter 11 (about 8 minutes on
                                            # 2 idle cores; much longer on a busy machine)
    python benchmarks/ladder.py --quick     # a few steps each: the same table, for a try
    python benchmarks/ladder.py --markdown  # also print the table as Markdown
    python benchmarks/ladder.py --only rnn tiny microgpt_network
                                            # is it attention, or the GPT's other choices?
    python benchmarks/ladder.py --json rows.json   # also write the rows as JSON (what
                                            # docs/record.py keeps in docs/recorded/)

Each rung is its preset (presets.py: a few thousand parameters each, except the bigrams'
729), trained on the embedded names with the same budget: the same number of steps of 8
names, Adam with the same schedule, the same seed and split. The counting bigram takes
no steps: it is counted in one pass. Losses are measured on every training and every
validation name (not a sample of them), so the columns compare exactly; ms/step is the
median training step (forward, backward, Adam) of this run, and "x gpt" its ratio to the
GPT's, both from this one run. With --json each row also has cpu_ms: the process's CPU
time for the whole run divided by its steps, which other programs on a busy machine do
not inflate (docs/record.py shows that one). Samples are drawn at temperature 1 (the model's own
distribution, nothing sharpened), the same seed for every rung.

More GPTs can be asked for by name with --only, outside the ladder: variants of `tiny`'s
network, each trained exactly like `tiny`, so that a row differs from `tiny` in the network
alone. `microgpt_network` is the network of the `microgpt` preset (microgpt.py's choices:
4 heads, a norm right after the embeddings, norms without a gain, no final norm, ReLU, an
untied output layer); the others change one of those choices at a time.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from micrograd_gpt.common.files import atomic_write_text  # noqa: E402
from micrograd_gpt.training.presets import PRESETS, preset_kind  # noqa: E402
from micrograd_gpt.training.data import prepare_data  # noqa: E402
from micrograd_gpt.training.engines import evaluate  # noqa: E402
from micrograd_gpt.training.loop import train  # noqa: E402
from micrograd_gpt.training.sampling import sample  # noqa: E402
from micrograd_gpt.training.settings import TrainConfig  # noqa: E402

# from the least context to the most: (preset, what it sees)
LADDER = [
    ("bigram", "the last character (counted)"),
    ("neural_bigram", "the last character (trained)"),
    ("mlp", "the last 3 characters"),
    ("rnn", "all before, through 40 numbers"),
    ("gru", "all before, through 24 gated numbers"),
    ("tiny", "all before, by attention"),
]

# microgpt.py's norms: RMSNorm without a gain, one right after the embeddings, none at the end
MICROGPT_NORMS = dict(norm="rmsnorm", elementwise_affine=False, embedding_norm=True,
                      final_norm=False)


def _tiny_with(**changes):
    return dict(PRESETS["tiny"]["model"], **changes)


# GPT rows run only when named with --only: (row name, preset trained, network, what it sees)
EXTRA_RUNGS = [
    ("tiny_4_heads", "tiny", _tiny_with(num_heads=4), "as tiny, 4 heads of 4 numbers"),
    ("tiny_relu", "tiny", _tiny_with(activation="relu"), "as tiny, ReLU for GELU"),
    ("tiny_untied", "tiny", _tiny_with(tie_weights=False), "as tiny, its own output layer"),
    ("tiny_rms_norms", "tiny", _tiny_with(**MICROGPT_NORMS), "as tiny, microgpt.py's norms"),
    ("tiny_untied_rms_norms", "tiny", _tiny_with(tie_weights=False, **MICROGPT_NORMS),
     "as tiny, both of the two above"),
    ("microgpt_network", "tiny", PRESETS["microgpt"]["model"], "as tiny, microgpt.py's network"),
]
STEPS, QUICK_STEPS = 1000, 20


def run_rung(preset, steps, seed=0, name=None, model=None):
    """Train (or count) one rung; returns a dict of its row's numbers. `model`, if given,
    replaces the preset's network (its config fields); `name` is then the row's name."""
    kind = preset_kind(preset)
    counted = PRESETS[preset]["train"].get("steps") == 1
    overrides = {} if counted else {"steps": steps}
    if model is not None:
        overrides["model"] = dict(model)
    config = TrainConfig.from_preset(preset, eval_interval=0, eval_docs=20, seed=seed,
                                     **overrides)
    started, cpu_started = time.perf_counter(), time.process_time()
    result = train(config, quiet=True)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    data = prepare_data(config)
    texts = sample(result.model, data.tokenizer, 5, rng=random.Random(seed), temperature=1.0)
    return dict(preset=name or preset, kind=kind, parameters=len(result.model.parameters()),
                steps=0 if counted else result.step, ms=1000 * statistics.median(result.step_times),
                cpu_ms=1000 * cpu_seconds / max(1, result.step), seconds=seconds,
                train=evaluate(result.model, data.train), val=evaluate(result.model, data.val),
                samples=texts)


def text_table(rows, sees):
    gpt_ms = next((r["ms"] for r in rows if r["kind"] == "gpt"), None)
    lines = [f"{'model':<22} {'sees':<37} {'params':>6} {'steps':>6} {'ms/step':>8} "
             f"{'x gpt':>6} {'train':>6} {'val':>6}  samples (temperature 1)"]
    for r in rows:
        steps = "1 pass" if r["steps"] == 0 else f"{r['steps']:,}"
        ratio = f"{r['ms'] / gpt_ms:.2g}" if gpt_ms and r["steps"] else "-"
        ms = f"{r['ms']:.1f}" if r["steps"] else "-"
        lines.append(f"{r['preset']:<22} {sees[r['preset']]:<37} {r['parameters']:>6,} "
                     f"{steps:>6} {ms:>8} {ratio:>6} {r['train']:>6.3f} {r['val']:>6.3f}  "
                     + ", ".join(r["samples"]))
    return "\n".join(lines)


def markdown_table(rows, sees):
    gpt_ms = next((r["ms"] for r in rows if r["kind"] == "gpt"), None)
    lines = ["| model | sees | parameters | steps | ms/step | × gpt | train loss | val loss | "
             "samples (temperature 1) |", "|---|---|--:|--:|--:|--:|--:|--:|---|"]
    for r in rows:
        counted = r["steps"] == 0
        lines.append(
            f"| `{r['preset']}` | {sees[r['preset']]} | {r['parameters']:,} | "
            f"{'1 pass' if counted else format(r['steps'], ',')} | "
            f"{'–' if counted else format(r['ms'], '.1f')} | "
            f"{'–' if counted or not gpt_ms else format(r['ms'] / gpt_ms, '.2g')} | "
            f"{r['train']:.3f} | {r['val']:.3f} | {', '.join(r['samples'])} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_STEPS} steps per rung (also MICROGRAD_GPT_QUICK=1)")
    parser.add_argument("--steps", type=int, default=None,
                        help=f"steps per trained rung (default {STEPS})")
    parser.add_argument("--markdown", action="store_true", help="also print Markdown")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the rows, with what each row's model sees, as JSON")
    parser.add_argument("--only", nargs="+", default=None,
                        choices=[p for p, _ in LADDER] + [r[0] for r in EXTRA_RUNGS],
                        help="run only these rungs (and " + ", ".join(
                            r[0] for r in EXTRA_RUNGS) + ": only when named)")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("MICROGRAD_GPT_QUICK") == "1"
    steps = args.steps or (QUICK_STEPS if quick else STEPS)
    sees = dict(LADDER) | {name: seen for name, _, _, seen in EXTRA_RUNGS}
    runs = [(preset, preset, None) for preset, _ in LADDER]
    runs += [(name, preset, model) for name, preset, model, _ in EXTRA_RUNGS]
    rows, started = [], time.perf_counter()
    for name, preset, model in runs:
        if (args.only and name not in args.only) or (model and not args.only):
            continue
        rows.append(run_rung(preset, steps, name=name, model=model))
        r = rows[-1]
        print(f"  {name}: val {r['val']:.3f} after {r['seconds']:.0f} s", flush=True)
    print(text_table(rows, sees))
    if args.markdown:
        print()
        print(markdown_table(rows, sees))
    print(f"\n{len(rows)} rungs in {time.perf_counter() - started:.0f} s; names data, seed 0, "
          f"{steps} steps of 8 names for each trained rung")
    if args.json:
        for row in rows:
            row["sees"] = sees[row["preset"]]
        atomic_write_text(args.json, json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()
