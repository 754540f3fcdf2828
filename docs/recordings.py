"""What each benchmark recording runs, and how the chapters show its data.

docs/record.py is the command; this file is its catalogue:

* BENCHMARKS: each recording's commands, run as child processes from the project's root
  (each writes its results as JSON), and a line saying what it measures;
* RENDERERS: the tables the chapters show between `<!-- recorded NAME -->` and
  `<!-- end recorded -->`, made from the data files;
* sentences(chapter): the sentences of a chapter whose numbers come from a data file.

A renderer takes `read`, a function from a recording's name to its data file's contents
(see docs/record.py): {"command", "what", "runs": [{"date", "machine", "load", "seconds",
"results"}, ...]}. Numbers that come out the same in every run (losses, node counts) are
taken from the last run, after checking that every run agrees; times are shown as the
range over the runs.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Benchmark:
    """A recording made by running scripts: `commands` maps a key of the results to the
    script's arguments (the script gets `--json PATH` added and writes its results there)."""

    what: str
    commands: dict

    def run(self):
        results = {}
        env = dict(os.environ, PYTHONPATH=str(ROOT))   # this checkout, not an installed copy
        env.pop("MICROGRAD_GPT_QUICK", None)
        for key, arguments in self.commands.items():
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "results.json"
                print(f"---- {key}: python {' '.join(arguments)}", flush=True)
                subprocess.run([sys.executable, *arguments, "--json", str(out)], cwd=ROOT,
                               env=env, check=True)
                results[key] = json.loads(out.read_text(encoding="utf-8"))
        return results


LADDER_VARIANTS = ["rnn", "tiny", "tiny_4_heads", "tiny_relu", "tiny_untied", "tiny_rms_norms",
                   "tiny_untied_rms_norms", "microgpt_network"]

BENCHMARKS = {
    "ladder": Benchmark(
        "chapter 11: every rung of the ladder trained 1,000 steps on the names, and the "
        "neural bigram 3,000 steps",
        {"ladder": ["benchmarks/ladder.py"],
         "neural_bigram_3000": ["benchmarks/ladder.py", "--only", "neural_bigram",
                                "--steps", "3000"]}),
    "ladder_variants": Benchmark(
        "chapter 11: variants of the tiny GPT's network, each trained like tiny",
        {"variants": ["benchmarks/ladder.py", "--only", *LADDER_VARIANTS]}),
    "engines": Benchmark(
        "chapter 14: ms per training step of every preset, the Value engine against torch",
        {"engines": ["benchmarks/engines.py"]}),
    "speed": Benchmark(
        "chapter 12: a training step fused, plain and by hand, graph sizes, generation, the "
        "learner's loop, memory, the engine's ns per node",
        {"speed": ["benchmarks/speed.py"]}),
}


# ---- what every renderer uses ----------------------------------------------------------

def runs_of(read, name):
    """The recorded runs of `name`; a ValueError names the command when there are none."""
    data = read(name)
    if not data or not data.get("runs"):
        raise ValueError(f"docs/recorded/{name}.json is missing: run python docs/record.py "
                         f"{name}")
    return data["runs"]


def same_in_every_run(runs, pick, what):
    """`pick(run)` for the last run, after checking every run gives the same."""
    values = [pick(run) for run in runs]
    if any(v != values[-1] for v in values):
        raise ValueError(f"{what} differs between the recorded runs: {values}")
    return values[-1]


def span(values, spec):
    """'15.5' or, when the runs differ, the range '15.5–17.2', each formatted by `spec`."""
    low, high = format(min(values), spec), format(max(values), spec)
    return low if low == high else f"{low}–{high}"


def circumstances(runs):
    """One line on how the runs were made: how many, when, how busy the machine was."""
    cpus = sorted({run["machine"]["cpus"] for run in runs})
    loads = [run["load"]["before"][0] for run in runs if run["load"]["before"]]
    dates = sorted(run["date"][:10] for run in runs)
    when = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    busy = f", load {span(loads, '.1f')} at the start" if loads else ""
    count = "one run" if len(runs) == 1 else f"{len(runs)} runs"
    return (f"{count}, {when}, on {'/'.join(map(str, cpus))} cores{busy}; "
            f"Python {runs[-1]['machine']['python']}")


# ---- chapter 11: the ladder ------------------------------------------------------------

def _ladder_rows(runs, key):
    deterministic = ("preset", "sees", "parameters", "steps", "train", "val", "samples")
    same_in_every_run(runs, lambda r: [{k: row[k] for k in deterministic}
                                       for row in r["results"][key]], "the ladder's losses")
    return [run["results"][key] for run in runs]


def ladder_table(rows_per_run):
    """The ladder as Markdown: losses and samples from the runs (all equal), ms/step and
    its ratio to the GPT's as the range over the runs (CPU time per step where every run
    measured it, else the median step's wall time)."""
    lines = ["| model | sees | parameters | steps | ms/step | × gpt | train loss | val loss | "
             "samples (temperature 1) |", "|---|---|--:|--:|--:|--:|--:|--:|---|"]
    key = "cpu_ms" if all("cpu_ms" in rows[0] for rows in rows_per_run) else "ms"
    for i, row in enumerate(rows_per_run[-1]):
        counted = row["steps"] == 0
        ms = [rows[i][key] for rows in rows_per_run]
        ratios = [rows[i][key] / next(r[key] for r in rows if r["kind"] == "gpt")
                  for rows in rows_per_run]
        lines.append(
            f"| `{row['preset']}` | {row['sees']} | {row['parameters']:,} | "
            f"{'1 pass' if counted else format(row['steps'], ',')} | "
            f"{'–' if counted else span(ms, '.1f')} | {'–' if counted else span(ratios, '.2f')} | "
            f"{row['train']:.3f} | {row['val']:.3f} | {', '.join(row['samples'])} |")
    return "\n".join(lines) + "\n"


def render_ladder(read):
    runs = runs_of(read, "ladder")
    minutes = span([run["seconds"] / 60 for run in runs], ".0f")
    return (ladder_table(_ladder_rows(runs, "ladder")) + "\n"
            f"(`tiny` is the GPT's preset. Recorded by `python docs/record.py ladder` "
            f"({circumstances(runs)}): {minutes} minutes a run, with the 3,000-step "
            "neural bigram of the text below.)\n")


def render_ladder_variants(read):
    runs = runs_of(read, "ladder_variants")
    minutes = span([run["seconds"] / 60 for run in runs], ".0f")
    return (ladder_table(_ladder_rows(runs, "variants")) + "\n"
            f"(Recorded by `python docs/record.py ladder_variants` ({circumstances(runs)}): "
            f"{minutes} minutes a run.)\n")


def ladder_numbers(read):
    """{row name: row} of the ladder and its variants, from the last runs."""
    rows = {r["preset"]: r for r in runs_of(read, "ladder")[-1]["results"]["ladder"]}
    longer = runs_of(read, "ladder")[-1]["results"]["neural_bigram_3000"][0]
    rows["neural_bigram_3000"] = longer
    variants = read("ladder_variants")
    if variants:
        rows |= {r["preset"]: r for r in variants["runs"][-1]["results"]["variants"]}
    return rows


def ladder_sentences(read):
    rows = ladder_numbers(read)
    val = {name: row["val"] for name, row in rows.items()}
    said = [
        f"**Counting → neural bigram ({val['bigram']:.3f} → {val['neural_bigram']:.3f})",
        f"{val['neural_bigram_3000']:.3f} after 3,000 steps",
        f"**Bigram → MLP ({val['bigram']:.3f} → {val['mlp']:.3f}): the big step.**",
        f"**MLP → RNN ({val['mlp']:.3f} → {val['rnn']:.3f}).**",
        f"**RNN → GRU ({val['rnn']:.3f} → {val['gru']:.3f})",
        f"The net's training loss ({rows['neural_bigram']['train']:.3f}) is close to the "
        f"counted one ({rows['bigram']['train']:.3f})",
        f"**The GPT ({val['tiny']:.3f}) comes last",
        f"Its training loss is also the highest ({rows['tiny']['train']:.3f})",
    ]
    presets = table_rows(printed(read, "08_training", "presets")[-1])
    microgpt = [presets[seed][0] for seed in ("0", "1", "2")]
    said.append(f"end {max(microgpt) - min(microgpt):.2f} apart ({min(microgpt):.3f} to "
                f"{max(microgpt):.3f})")
    if "tiny_untied_rms_norms" in val:
        def change(name):
            return f"{val[name] - val['tiny']:+.3f}".replace("-", "−")
        # the single changes added as the reader adds them: rounded as the table shows them
        singles = abs(sum(round(val[name] - val["tiny"], 3)
                          for name in ("tiny_untied", "tiny_rms_norms")))
        said += [f"Four heads instead of two ({change('tiny_4_heads')})",
                 f"ReLU instead of GELU ({change('tiny_relu')})",
                 f"A separate output layer gains a little ({change('tiny_untied')}",
                 f"microgpt.py's norms alone make it *worse* ({change('tiny_rms_norms')})",
                 f"microgpt.py's norms gains {val['tiny'] - val['tiny_untied_rms_norms']:.3f}, "
                 f"where the two single changes add up to {singles:.3f}",
                 f"({val['microgpt_network']:.3f} against {val['rnn']:.3f}"]
    return said


# ---- numbers read from a chapter's recorded outputs --------------------------------------

def printed(read, chapter, name):
    """What the block before `text recorded NAME` printed, in each recorded run of the
    chapter (a file stem such as "13_scalars_to_tensors")."""
    return [run["outputs"][name] for run in runs_of(read, chapter)]


def found(pattern, text):
    """The number(s) `pattern` captures in `text` (a ValueError if it is not there)."""
    match = re.search(pattern, text, re.MULTILINE)
    if match is None:
        raise ValueError(f"the recorded output no longer matches {pattern!r}:\n{text}")
    numbers = [float(g.replace(",", "")) for g in match.groups()]
    return numbers[0] if len(numbers) == 1 else numbers


# ---- chapter 13: what a tensor node costs -----------------------------------------------

def tensor_sentences(read):
    chapter = "13_scalars_to_tensors"
    costs = printed(read, chapter, "cost")
    nodes = [found(r"^tensor nodes .* ([\d.]+)x the Values", text) for text in costs]
    said = [f"In the recorded runs ({_runs_phrase(costs)} of `python docs/record.py "
            "docs/13_scalars_to_tensors.md`",
            f"the two tensor nodes were {span(nodes, '.1f')} times as fast as the Values"]
    torch_costs = printed(read, chapter, "cost_torch")
    if all("PyTorch" in text for text in torch_costs):
        torch_speed = [found(r"^PyTorch .* ([\d.]+)x the Values", text) for text in torch_costs]
        said.append(f"and PyTorch {span(torch_speed, '.0f')} times")
    modes = [found(r"\((\d+)x\)", text) for text in printed(read, chapter, "modes")]
    said.append(f"forward mode took {span(modes, '.0f')} times as long as reverse mode")
    return said


def _runs_phrase(outputs):
    return "one run" if len(outputs) == 1 else f"{len(outputs)} runs"


# ---- chapter 8: training on names ------------------------------------------------------

def training_sentences(read):
    minutes = [run["block_seconds"]["cli_run"] / 60 for run in runs_of(read, "08_training")]
    same = [run["block_seconds"]["run"] / 60 for run in runs_of(read, "10_looking_inside")]
    return [f"The recorded run took {span(minutes, '.0f')} minutes",
            f"chapter 10's recording of the same run took {span(same, '.0f')}."]


# ---- chapter 10: the default run, looked inside ------------------------------------------

def table_rows(text):
    """{first cell: [the other cells as numbers]} of a printed table (its header skipped);
    "19.6x" reads as 19.6."""
    rows = {}
    for line in text.splitlines()[1:]:
        cells = line.split()
        rows[cells[0]] = [float(c.rstrip("x")) for c in cells[1:] if c != "to"]
    return rows


def looking_inside_sentences(read):
    outputs = runs_of(read, "10_looking_inside")[-1]["outputs"]
    emma = {line.split()[0]: line.split() for line in outputs["emma"].splitlines()}
    guesses = dict(zip(emma["emm"][4::2], map(float, emma["emm"][5::2])))
    vowels = guesses["i"] + guesses["e"] + guesses["[a]"]
    val_loss = found(r"validation loss ([\d.]+)", outputs["run"])
    spread = {name: row for name, row in _named_rows(outputs["by_distance"]).items()}
    head0, head1, uniform = spread["layer 0 head 0"], spread["layer 0 head 1"], spread["uniform"]
    likes = found(r"head 0 looks most at: y ([\d.]+) i ([\d.]+) n ([\d.]+)", outputs["likings"])
    health = table_rows(outputs["health"])
    starts = table_rows(outputs["starts"])
    mean_loss = found(r"losses: ([\d.]+)", outputs["emma"])
    one_sided = found(r"(\d+)% of", outputs["one_sided"])
    return [
        f"`a` together {vowels:.2f}",
        f"`n` ({float(emma['emma'][5]):.2f}, as in Emmanuel) ahead of the end of the name "
        f"({float(emma['emma'][9]):.2f})",
        f"The mean of the five losses, {mean_loss:.2f}, is "
        f"above the model's validation loss of {val_loss:.2f}",
        f"It puts {head0[1]:.2f} of its weight on the position itself (even attention would "
        f"give {uniform[1]:.2f}) and little on anything more than two back ({head0[4]:.2f} "
        f"against {uniform[4]:.2f})",
        f"it looks at it {likes[0]:.2f}, {likes[1]:.2f} and {likes[2]:.2f} times",
        f"with a little more on BOS ({head1[0]:.2f})",
        f"grows from {health['1'][0]:.2f} to about {health['500'][0]:.1f}",
        f"start {health['1'][2]:.1f} times shorter",
        f"within a factor of two of it ({health['100'][2]:.1f}x) by step 100",
        f"The first loss is {starts['1.0'][0]:.0f}, three times",
        f"spread is {starts['1.0'][3]:.0f} instead of {starts['0.08'][3]:.2f}; "
        f"{starts['1.0'][4]:.0%} of the GELU inputs",
        f"in {one_sided:.0f}% of the rows",
        f"only 10^{starts['1.0'][5]:.1f} of their size".replace("-", "−"),
        f"after 150 steps the loss is {starts['1.0'][2]:.2f}",
        f"(update ratio 10^{starts['0.001'][5]:.1f})".replace("-", "−"),
        f"shrink their outputs to a spread of {starts['0.001'][7]:.1f}",
        f"{starts['0.001'][1]:.2f} after 25 steps against {starts['0.08'][1]:.2f}, and "
        f"{starts['0.001'][2]:.2f} at the end against {starts['0.08'][2]:.2f}",
    ]


def _named_rows(text):
    """{row name: numbers} for a table whose row names have spaces ("layer 0 head 1")."""
    rows = {}
    for line in text.splitlines()[1:]:
        name = re.match(r"(.*?)\s{2,}", line).group(1)
        rows[name] = [float(x) for x in line[len(name):].split()]
    return rows


# ---- chapter 12: speed ------------------------------------------------------------------

def render_speed(read):
    """Chapter 12's tables from benchmarks/speed.py's results: node counts from the last
    run (the same in every run), times and ratios as ranges over the runs."""
    runs = runs_of(read, "speed")
    results = [run["results"]["speed"] for run in runs]
    return "\n".join([f"Recorded by `python docs/record.py speed` ({circumstances(runs)}; "
                      "the process's CPU time, medians; each ratio from numbers of the same "
                      "run).", "", *_step_rows(results), "", *_size_rows(results), "",
                      *_other_rows(results)]) + "\n"


def _step_rows(results):
    lines = ["| training step, one name | fused | plain | float floor | plain / fused | "
             "fused / floor |", "|---|---:|---:|---:|---:|---:|"]
    for key, label in (("micro", "microgpt (d 16, 1 layer, context 16)"),
                       ("larger", "larger (d 64, 4 layers, context 64)")):
        ms = [r[key]["ms"] for r in results]
        lines.append(f"| {label} | {span([m['fused'] for m in ms], '.1f')} ms | "
                     f"{span([m['plain'] for m in ms], '.1f')} ms | "
                     f"{span([m['float floor'] for m in ms], '.1f')} ms | "
                     f"{span([m['plain / fused'] for m in ms], '.1f')}x | "
                     f"{span([m['fused'] / m['float floor'] for m in ms], '.2f')}x |")
    return lines


def _size_rows(results):
    lines = ["| graph of one step (longest name of the sample) | fused | plain | plain / fused |",
             "|---|---:|---:|---:|"]
    for key, label in (("micro", "microgpt"), ("larger", "larger")):
        size = same_in_every_run(results, lambda r: r[key]["size"], f"{label}'s graph size")
        for i, what in enumerate(("nodes", "edges")):
            fused, plain = size["fused"][i], size["plain"][i]
            lines.append(f"| {label}: {what} | {fused:,} | {plain:,} | {plain / fused:.1f}x |")
    return lines


def _other_rows(results):
    g = [r["generation"] for r in results]
    loop = [r["loop_ms"] for r in results]
    engine = [r["engine_ns"] for r in results]
    return ["| other measurements | result |", "|---|---:|",
            f"| generation, Value graph recorded | {span([x['graph'] for x in g], ',.0f')} "
            "tokens/s |",
            f"| generation, Value nodes under no_grad | {span([x['no_grad'] for x in g], ',.0f')} "
            "tokens/s |",
            f"| generation, `GPT.generate` (float path) | "
            f"{span([x['generate()'] for x in g], ',.0f')} tokens/s "
            f"({span([x['generate()'] / x['graph'] for x in g], '.1f')}x the graph) |",
            f"| a learner's loop / the trainer's step | "
            f"{span([x['learner loop'] / x['trainer step'] for x in loop], '.2f')}x |",
            f"| the same loop with a backward that searches the graph / the trainer's step | "
            f"{span([x['loop, searching'] / x['trainer step'] for x in loop], '.2f')}x |",
            f"| the trainer's step with the cyclic collector running / paused | "
            f"{span([x['step, gc running'] / x['trainer step'] for x in loop], '.2f')}x |",
            f"| peak memory of one microgpt step's graph | "
            f"{span([r['peak_bytes'] / 2 ** 20 for r in results], '.1f')} MiB |",
            f"| engine, 200,000-node chain: build / backward per node | "
            f"{span([e[0] for e in engine], '.0f')} / {span([e[1] for e in engine], '.0f')} ns |",
            f"| the same, Value / the simplest Value (benchmarks/engine.py) | "
            f"{span([e[2][0] for e in engine], '.2f')}x / {span([e[2][1] for e in engine], '.2f')}x |"]


# ---- chapter 14: the Value engine against the torch engine ------------------------------

def _engine_ms(runs):
    """[{preset: {column: ms}}] per run, and the columns of the last run."""
    per_run = [{row["preset"]: row["ms"] for row in run["results"]["engines"]["rows"]}
               for run in runs]
    return per_run, runs[-1]["results"]["engines"]["columns"]


def _ms_span(values):
    spec = ".1f" if max(values) < 100 else ",.0f"
    return span(values, spec)


def render_engines(read):
    runs = runs_of(read, "engines")
    per_run, columns = _engine_ms(runs)
    torch_columns = [c for c in columns if c != "values"]
    lines = ["| preset | " + " | ".join(f"{c} (ms/step)" for c in columns) + " | "
             + " | ".join(f"values ÷ {c[6:]}" for c in torch_columns) + " |",
             "|---" * (1 + len(columns) + len(torch_columns)) + "|"]
    for preset in per_run[-1]:
        estimated = preset == "medium"
        cells = [("≈ " if estimated and c == "values" else "")
                 + _ms_span([ms[preset][c] for ms in per_run]) for c in columns]
        ratios = [span([ms[preset]["values"] / ms[preset][c] for ms in per_run], ",.0f") + "×"
                  for c in torch_columns]
        lines.append(f"| {preset} | " + " | ".join(cells + ratios) + " |")
    return ("\n".join(lines) + "\n\n(Recorded by `python docs/record.py engines` "
            f"({circumstances(runs)}); tiny and microgpt on the names, small and medium on "
            "the sonnets; torch on one CPU thread. The medium preset's Value column is the "
            "estimate that refuses it.)\n")


def engines_sentences(read):
    per_run, columns = _engine_ms(runs_of(read, "engines"))
    def ratios(presets, column):
        return [ms[p]["values"] / ms[p][column] for ms in per_run for p in presets]
    def slower(preset):
        return [ms[preset]["torch cpu f64"] / ms[preset]["torch cpu f32"] for ms in per_run]
    smallest = ratios(("tiny", "microgpt"), "torch cpu f64") + ratios(("tiny", "microgpt"),
                                                                     "torch cpu f32")
    hours = [ms["medium"]["values"] / 3.6e6 for ms in per_run]
    small_hours = [ms["small"]["values"] * 2000 / 3.6e6 for ms in per_run]
    return [f"the torch engine wins only {span(smallest, '.0f')} times",
            f"{span(ratios(['small'], 'torch cpu f32'), ',.0f')} times for `small`",
            f"{span(ratios(['medium'], 'torch cpu f32'), ',.0f')} times for `medium`",
            f"float64 costs {span(slower('small'), '.1f')} times float32's time for `small`, "
            f"and {span(slower('medium'), '.1f')} for `medium`",
            f"the rest of the message said {span(hours, '.0f')} hours a step",
            "the torch engine took "
            f"{span([ms['medium']['torch cpu f32'] / 1000 for ms in per_run], '.1f')} seconds "
            "a step",
            f"would take {span(small_hours, '.1f')} hours at the measured speed"]


def growing_up_sentences(read):
    minutes = [run["seconds"] / 60 for run in runs_of(read, "14_growing_up")]
    return [f"the full runs take {span(minutes, '.0f')} minutes"]


RENDERERS = {"ladder": render_ladder, "ladder_variants": render_ladder_variants,
             "engines": render_engines, "speed": render_speed}

SENTENCES = {"08_training.md": [training_sentences],
             "10_looking_inside.md": [looking_inside_sentences],
             "11_bigram_to_gpt.md": [ladder_sentences],
             "13_scalars_to_tensors.md": [tensor_sentences],
             "14_growing_up.md": [engines_sentences, growing_up_sentences]}


def sentences(chapter, read):
    """Every sentence chapter `chapter` (a file name) must contain, made from the data."""
    return [s for make in SENTENCES.get(chapter, []) for s in make(read)]
