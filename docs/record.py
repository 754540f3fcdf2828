"""Record the results the chapters show from long runs, and check the chapters against them.

Some results take minutes to an hour to make (a full training run, the ladder of chapter
11, the benchmarks): too long for the tests to redo. Each comes from a named command that
writes a data file in docs/recorded/, with the machine, the date and the load it ran
under; the chapter shows what the file holds, and a quick test
(tests/project/test_recorded.py) fails when the two differ.

    python docs/record.py --list                      # the recordings and their commands
    python docs/record.py docs/10_looking_inside.md   # run a chapter's code in full, record
                                                      # each `text recorded NAME` block
    python docs/record.py ladder                      # run a benchmark, record its results
    python docs/record.py speed --append              # one more run: times become ranges
    python docs/record.py --write-docs                # write the recordings into the chapters
    python docs/record.py --check                     # exit 1 where a chapter and its data differ

A chapter shows a recording in one of three ways:

* a ```` ```text recorded NAME ```` block: exactly what the python block before it printed
  in a full run of the chapter (without MICROGRAD_GPT_QUICK). The chapter is its own
  command, and its recorded code must still be the chapter's code (imports aside);
* a table between the lines `<!-- recorded NAME -->` and `<!-- end recorded -->`, made by
  the renderer NAME of docs/recordings.py from a benchmark's data file. Times depend on
  the machine, so they are shown as the range over the recorded runs, and compared only
  as ratios of numbers from the same run;
* a sentence: docs/recordings.py lists, for each chapter, the sentences whose numbers come
  from a data file, and the check finds each one, made from the data, in the chapter.

Only the standard library; benchmarks run in a child process, as they would by hand.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
RECORDED = DOCS / "recorded"
TABLE = re.compile(r"^<!-- recorded (\w+) -->\n(.*?)^<!-- end recorded -->$",
                   re.MULTILINE | re.DOTALL)


def _load(name, filename):
    """A module of docs/ by file name (docs/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, DOCS / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


runner = _load("docs_run_chapter", "run_chapter.py")
recordings = _load("docs_recordings", "recordings.py")


# ---- the data files ------------------------------------------------------------------

def machine():
    """What a recording ran on, for the reader who wants to compare."""
    return {"platform": platform.platform(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "processor": platform.processor() or platform.machine()}


def load_average():
    """The 1-, 5- and 15-minute load averages (None where the system has none): a busy
    machine makes every time longer, so a recording says how busy it was."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def data_path(name):
    return RECORDED / f"{name}.json"


def read_data(name):
    """The data file of recording `name`, or None if it was never recorded."""
    path = data_path(name)
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_data(name, data):
    """Write a data file atomically: a run stopped half-way leaves the old file whole."""
    RECORDED.mkdir(exist_ok=True)
    path = data_path(name)
    fd, tmp = tempfile.mkstemp(dir=RECORDED, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def new_run(seconds, load_before, **more):
    """One run's circumstances: when, on what, how busy, how long."""
    return {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "machine": machine(), "load": {"before": load_before, "after": load_average()},
            "seconds": round(seconds, 1), **more}


# ---- chapters that record themselves ---------------------------------------------------

def recorded_blocks(text):
    """[(NAME, output block, the python block before it)] for every `text recorded NAME`
    block of a chapter's text."""
    found, last_python = [], None
    for block in runner.parse_blocks(text):
        if block.kind == "python":
            last_python = block
        elif block.kind == "other" and len(block.tags) == 3 and {"text", "recorded"} < block.tags:
            name = _recorded_name(block)
            if last_python is None:
                raise ValueError(f"line {block.line}: `text recorded {name}` must follow "
                                 "a python block")
            found.append((name, block, last_python))
    return found


def _recorded_name(block):
    return next(tag for tag in block.tags if tag not in ("text", "recorded"))


@contextlib.contextmanager
def working_directory(folder):
    """Run inside `folder`, then come back (contextlib.chdir is Python 3.11+)."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def chapter_name(path):
    return Path(path).stem


def record_chapter(path, append=False):
    """Run the chapter at `path` in full, from an empty temporary folder, and write what
    each `text recorded NAME` block's python block printed to docs/recorded/<chapter>.json."""
    path = Path(path).resolve()
    blocks = recorded_blocks(path.read_text(encoding="utf-8"))
    if not blocks:
        raise SystemExit(f"{path.name} has no `text recorded NAME` block to record")
    quick = os.environ.pop("MICROGRAD_GPT_QUICK", None)  # the full run is what is recorded
    load_before, started = load_average(), time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as folder, working_directory(folder):
            result = runner.run_chapter(path, echo=True, check_outputs=False)
    finally:
        if quick is not None:
            os.environ["MICROGRAD_GPT_QUICK"] = quick
    outputs = {name: result.printed[code.line].rstrip("\n") for name, _, code in blocks}
    code = {name: block.code for name, _, block in blocks}
    seconds = {name: round(result.seconds[block.line], 1) for name, _, block in blocks}
    old = read_data(chapter_name(path)) if append else None
    if old is not None and old["code"] != code:
        raise SystemExit(f"{path.name}: its code changed since the recorded runs; record "
                         "without --append to start over")
    run = new_run(time.perf_counter() - started, load_before, outputs=outputs,
                  block_seconds=seconds)
    data = {"command": f"python docs/record.py docs/{path.name}",
            "what": "the chapter's code run in full (without MICROGRAD_GPT_QUICK); in each "
                    "run, what the python block before each `text recorded NAME` block "
                    "printed (the chapter shows the last run's); under code, that block",
            "code": code, "runs": (old["runs"] if old else []) + [run]}
    _say_what_changed(data["runs"])
    return write_data(chapter_name(path), data)


def _say_what_changed(runs):
    """Outputs that differ between runs are times (or a bug): say which, so a reader of
    the terminal can tell."""
    if len(runs) > 1:
        changed = sorted(n for n, text in runs[-1]["outputs"].items()
                         if any(run["outputs"].get(n) != text for run in runs[:-1]))
        if changed:
            print(f"printed differently from the earlier runs: {', '.join(changed)}")


# ---- benchmarks ------------------------------------------------------------------------

def record_benchmark(name, append=False):
    """Run the benchmark recording `name` (docs/recordings.py) and write (or add a run
    to) docs/recorded/<name>.json."""
    recording = recordings.BENCHMARKS[name]
    load_before, started = load_average(), time.perf_counter()
    results = recording.run()
    run = new_run(time.perf_counter() - started, load_before, results=results)
    old = read_data(name) if append else None
    data = {"command": f"python docs/record.py {name}", "what": recording.what,
            "runs": (old["runs"] if old else []) + [run]}
    return write_data(name, data)


# ---- the chapters against the data -----------------------------------------------------

def chapters():
    return sorted(DOCS.glob("[0-9][0-9]_*.md"))


def expected_text(path, text=None, strict=True):
    """The chapter at `path` as its data files say it should read: every recorded block
    and table made from its data. Raises ValueError naming what is missing (unless not
    `strict`: then a table whose data is missing stays as it is)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if text is None else text
    lines = text.split("\n")
    data = None
    for name, block, _ in reversed(recorded_blocks(text)):
        data = data or read_data(chapter_name(path))
        if data is None or name not in data["runs"][-1]["outputs"]:
            missing = (f"{path.name}: `text recorded {name}` is not in "
                       f"docs/recorded/{chapter_name(path)}.json: run "
                       f"python docs/record.py docs/{path.name}")
            if strict:
                raise ValueError(missing)
            print(missing, file=sys.stderr)       # the block stays as it is
            continue
        lines[block.start:block.end] = data["runs"][-1]["outputs"][name].split("\n")
    return TABLE.sub(lambda m: _table(path, m, strict), "\n".join(lines))


def _table(path, match, strict):
    name = match.group(1)
    if name not in recordings.RENDERERS:
        raise ValueError(f"{path.name}: no renderer named {name!r} in docs/recordings.py")
    try:
        table = recordings.RENDERERS[name](read_data)
    except ValueError as missing:
        if strict:
            raise
        print(f"{path.name}: {missing}", file=sys.stderr)
        return match.group(0)
    return f"<!-- recorded {name} -->\n{table}<!-- end recorded -->"


def problems(path):
    """What in the chapter at `path` differs from its data files: [] when nothing."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        expected = expected_text(path, text)
    except (ValueError, KeyError) as error:
        return [str(error)]
    found = []
    if expected != text:
        found.append(f"{path.name}: a recorded block or table is not what its data file "
                     "holds (python docs/record.py --write-docs)")
    found += stale_code(path, text)
    flowing = " ".join(text.split())          # a sentence may be wrapped anywhere
    try:
        sentences = recordings.sentences(path.name, read_data)
    except (ValueError, KeyError) as missing:
        return found + [f"{path.name}: {missing}"]
    for sentence in sentences:
        if " ".join(sentence.split()) not in flowing:
            found.append(f"{path.name}: should say, from its data file: {sentence!r}")
    return found


def stale_code(path, text):
    """Recorded outputs whose code has changed since (imports aside: modules move)."""
    data = read_data(chapter_name(path))
    if data is None:
        return []
    return [f"{path.name}: the block before `text recorded {name}` is not the code that "
            f"was recorded (python docs/record.py docs/{path.name})"
            for name, _, block in recorded_blocks(text)
            if _without_imports(block.code) != _without_imports(data["code"].get(name, ""))]


def _without_imports(code):
    return [line for line in code.splitlines()
            if line.strip() and not re.match(r"\s*(import |from \S+ import )", line)]


def write_docs():
    """Rewrite every chapter's recorded blocks and tables from the data files."""
    changed = []
    for path in chapters():
        text = path.read_text(encoding="utf-8")
        try:
            expected = expected_text(path, text, strict=False)
        except ValueError as missing:          # write the others; say what is missing
            print(missing, file=sys.stderr)
            continue
        if expected != text:
            path.write_text(expected, encoding="utf-8")
            changed.append(path.name)
    return changed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="*",
                        help="chapters (docs/NN_x.md) or benchmark recordings: "
                             + ", ".join(recordings.BENCHMARKS))
    parser.add_argument("--append", action="store_true",
                        help="add a run to the recorded ones instead of starting over")
    parser.add_argument("--write-docs", action="store_true",
                        help="write the recorded blocks and tables into the chapters")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a chapter differs from its data files")
    parser.add_argument("--list", action="store_true", help="list the recordings")
    args = parser.parse_args(argv)
    if args.list:
        for name, recording in recordings.BENCHMARKS.items():
            print(f"python docs/record.py {name:<14} {recording.what}")
        for path in chapters():
            if recorded_blocks(path.read_text(encoding="utf-8")):
                print(f"python docs/record.py docs/{path.name}")
    for what in args.what:
        if what.endswith(".md"):
            print(f"wrote {record_chapter(what, args.append)}")
        elif what in recordings.BENCHMARKS:
            print(f"wrote {record_benchmark(what, args.append)}")
        else:
            parser.error(f"{what}: neither a chapter nor one of "
                         + ", ".join(recordings.BENCHMARKS))
    if args.write_docs:
        print("rewrote", ", ".join(write_docs()) or "nothing: the chapters were up to date")
    if args.check:
        found = [p for path in chapters() for p in problems(path)]
        print("\n".join(found) or "every recorded result in the chapters matches its data")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
