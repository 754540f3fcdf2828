"""Milliseconds per training step: the Value engine against the torch engine, in one run.

    python benchmarks/engines.py            # the table (a few minutes on 2 cores)
    python benchmarks/engines.py --quick    # fewer steps, same table
    python benchmarks/engines.py --markdown # also print the table as Markdown (for docs/)
    python benchmarks/engines.py --json results.json   # also write the results as JSON
                                            # (what docs/record.py keeps in docs/recorded/)

For each preset (tiny and microgpt on the names, small and medium on the sonnets) it builds
the preset's model once, starts every engine from its weights, and times the steps `train`
would take (the preset's batch size, the same batches for every engine), the engines taking
turns step by step so that noise on a busy machine hits all of them alike. Engines: the Value
engine; the torch engine on the CPU in float64 and float32 (one thread, as the command
line's default; see engines.set_threads); and on a GPU in float32 and float64 when there is
one. Numbers are medians; ratios are of medians from the same run.

The medium preset is torch only: its Value column is the estimate that refuses it
(engines.estimate_values_step_seconds, from a timed tiny step). The last lines check that
estimate against a measured step: the small preset's estimated and measured Value step.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from micrograd_gpt.common.files import atomic_write_text  # noqa: E402
from micrograd_gpt.common.install import INSTALL_TORCH  # noqa: E402
from micrograd_gpt.training.engines import (  # noqa: E402
    ValuesEngine, estimate_values_step_seconds, make_engine)
from micrograd_gpt.models.registry import build_model  # noqa: E402
from micrograd_gpt.training.lr_schedules import make_schedule  # noqa: E402
from micrograd_gpt.training.data import prepare_data  # noqa: E402
from micrograd_gpt.training.settings import TrainConfig  # noqa: E402

# preset -> the data it is timed on
PRESETS = {"tiny": "names", "microgpt": "names", "small": "text", "medium": "text"}


def engines_to_time(torch):
    """(column name, engine name, options) for every engine this machine has."""
    columns = [("values", "values", {})]
    if torch is None:
        return columns
    columns += [("torch cpu f64", "torch", dict(device="cpu", dtype="float64")),
                ("torch cpu f32", "torch", dict(device="cpu", dtype="float32"))]
    if torch.cuda.is_available():
        columns += [("torch cuda f32", "torch", dict(device="cuda", dtype="float32")),
                    ("torch cuda f64", "torch", dict(device="cuda", dtype="float64"))]
    return columns


def time_preset(preset, columns, steps, warmup):
    """{column: median ms per step} for one preset, engines taking turns step by step."""
    config = TrainConfig.from_preset(preset, data=PRESETS[preset])
    data = prepare_data(config)
    model = build_model(config.model_kind, dict(config.model,
                                                vocab_size=data.tokenizer.vocab_size),
                        rng=random.Random(config.seed))
    # one model for all: a torch engine copies the weights into its twin when it is made,
    # before the Value engine's first step changes them
    engines = {name: (ValuesEngine(model, config) if kind == "values" else
                      make_engine(kind, model, config, **options))
               for name, kind, options in columns}
    schedule = make_schedule(config.lr_schedule, config.lr, config.steps, config.warmup_steps)
    rng = random.Random(f"batches:{config.seed}")
    times = {name: [] for name in engines}
    for step in range(warmup + steps):
        batch = [data.train[rng.randrange(len(data.train))] for _ in range(config.batch_size)]
        for name, engine in engines.items():
            started = time.perf_counter()
            engine.step(batch, schedule(step), config.grad_clip)
            if step >= warmup:
                times[name].append(time.perf_counter() - started)
    tokens = sum(len(doc) - 1 for doc in data.train[:200]) / min(200, len(data.train))
    return ({name: 1000 * statistics.median(t) for name, t in times.items()}, config,
            data, tokens)


def describe(preset, config, data, tokens):
    c = config.model
    return (f"{preset} ({PRESETS[preset]}): d {c['d_model']}, {c['num_layers']} layer(s), "
            f"context {c['max_seq_len']}, batch {config.batch_size} x ~{tokens:.0f} tokens, "
            f"V {data.tokenizer.vocab_size}")


def ms_text(ms):
    """1.5, 26.3, 1,234: a tenth of a millisecond only where it matters."""
    return f"{ms:,.1f}" if ms < 100 else f"{ms:,.0f}"


def print_table(rows, columns):
    names = [name for name, _, _ in columns]
    print(f"\n{'preset':<10}" + "".join(f"{n:>16}" for n in names)
          + "".join(f"{'values / ' + n[6:]:>22}" for n in names[1:]))
    for preset, ms, estimated in rows:
        cells = [f"{'~' if estimated and n == 'values' else ''}{ms_text(ms[n])}" for n in names]
        ratios = [f"{ms['values'] / ms[n]:,.0f}x" for n in names[1:]]
        print(f"{preset:<10}" + "".join(f"{c:>16}" for c in cells)
              + "".join(f"{r:>22}" for r in ratios))


def markdown_table(rows, columns, command):
    names = [name for name, _, _ in columns]
    lines = ["| preset | " + " | ".join(f"{n} (ms/step)" for n in names) + " | "
             + " | ".join(f"values ÷ {n[6:]}" for n in names[1:]) + " |",
             "|---" * (1 + 2 * len(names) - 1) + "|"]
    for preset, ms, estimated in rows:
        cells = [f"{'≈ ' if estimated and n == 'values' else ''}{ms_text(ms[n])}" for n in names]
        ratios = [f"{ms['values'] / ms[n]:,.0f}×" for n in names[1:]]
        lines.append(f"| {preset} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines) + f"\n\n(`{command}`; medians, ratios from the same run)"


def write_json(path, rows, columns, small_estimate_ms):
    """The results as JSON: every preset's median ms per step for each engine (the medium
    preset's Value column is the refusal's estimate), and the small preset's estimate."""
    results = {"columns": [name for name, _, _ in columns],
               "rows": [{"preset": preset, "ms": ms, "values_estimated": estimated}
                        for preset, ms, estimated in rows],
               "small_values_estimate_ms": small_estimate_ms}
    atomic_write_text(path, json.dumps(results, indent=1) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps, same table")
    parser.add_argument("--markdown", action="store_true", help="also print Markdown")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the table and the estimate's check as JSON")
    args = parser.parse_args()
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        torch = None
        print("torch is not installed: only the Value engine is timed "
              f"({INSTALL_TORCH})")
    columns = engines_to_time(torch)
    steps, warmup = (3, 1) if args.quick else (7, 2)
    rows, measured_small = [], None
    for preset in PRESETS:
        big = preset == "medium"
        timed = [c for c in columns if c[1] != "values"] if big else columns
        if big and not timed:
            continue
        ms, config, data, tokens = time_preset(preset, timed, 2 if big else steps,
                                               1 if big else warmup)
        print(describe(preset, config, data, tokens), flush=True)
        if big:
            ms["values"] = 1000 * estimate_values_step_seconds(config,
                                                               data.tokenizer.vocab_size)
        if preset == "small":
            measured_small = (ms["values"], config, data)
        rows.append((preset, ms, big))
    print_table(rows, columns)
    estimate = None
    if measured_small is not None:
        measured, config, data = measured_small
        estimate = 1000 * estimate_values_step_seconds(config, data.tokenizer.vocab_size)
        print(f"\nthe Value step estimate for small: {estimate:,.0f} ms, measured "
              f"{measured:,.0f} ms (estimate / measured = {estimate / measured:.2f})")
    if args.json:
        write_json(args.json, rows, columns, estimate)
    if args.markdown:
        command = "python benchmarks/engines.py" + (" --quick" if args.quick else "")
        print("\n" + markdown_table(rows, columns, command))


if __name__ == "__main__":
    main()
