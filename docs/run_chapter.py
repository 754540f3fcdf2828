"""Run the code of a docs chapter, block after block, the way a reader would.

    python docs/run_chapter.py docs/01_value.md            # one chapter
    python docs/run_chapter.py docs/*.md                   # the whole course
    python docs/run_chapter.py --update docs/01_value.md   # refresh the shown outputs

The rules for a chapter (a Markdown file):

* Every fenced block whose info string starts with `python` is run, in order, in one
  namespace: a later block sees the names an earlier one defined, as in a notebook.
* `python torch` marks a block that needs PyTorch. Without torch it is skipped, and the
  runner says so; the chapter's other blocks still run.
* A block whose info string is `text output` shows what the python block just before it
  prints. The runner compares the two and fails if they differ, so a shown output can
  never drift from the code; `--update` rewrites these blocks from a fresh run.
* A block whose info string is `text recorded NAME` shows what the python block just
  before it printed in a full run (without MICROGRAD_GPT_QUICK), as recorded by
  `python docs/record.py docs/NN_chapter.md` in docs/recorded/NN_chapter.json under NAME.
  This runner does not check it (a full run can take many minutes); the quick tests
  compare it with its data file (tests/project/test_recorded.py).
* Any other block (`bash`, `text`, ...) is for reading only.

The tests (tests/project/test_docs.py) run every chapter with this file, with the environment
variable MICROGRAD_GPT_QUICK=1, which the chapters read to shorten their long runs.
Nothing here needs more than the standard library.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^(```+)\s*(.*?)\s*$")


@dataclass
class Block:
    """One fenced block of a chapter: `kind` is "python", "output" or "other"; `tags` are
    the words after `python` (e.g. {"torch"}); `line` is the 1-based line of the fence;
    `start` and `end` index the block's lines (the fences excluded) in the file."""

    kind: str
    tags: set
    line: int
    code: str
    start: int
    end: int


@dataclass
class ChapterResult:
    """What running a chapter did: blocks run, blocks skipped (with why), outputs checked."""

    path: Path
    ran: int = 0
    skipped: list = field(default_factory=list)     # (line, reason)
    outputs_checked: int = 0
    printed: dict = field(default_factory=dict)     # python block line -> its stdout
    seconds: dict = field(default_factory=dict)     # python block line -> its wall time


class ChapterError(AssertionError):
    """A block of a chapter failed, or printed something else than the chapter shows."""


def parse_blocks(text):
    """The fenced blocks of a Markdown text, in order (see the module docstring)."""
    lines = text.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, info = opening.group(1), opening.group(2)
        j = i + 1
        while j < len(lines) and lines[j].strip() != fence:
            j += 1
        if j == len(lines):
            raise ChapterError(f"line {i + 1}: the block opened here is never closed")
        words = info.split()
        if words[:1] == ["python"]:
            kind, tags = "python", set(words[1:])
        elif words == ["text", "output"]:
            kind, tags = "output", set()
        else:
            kind, tags = "other", set(words)
        blocks.append(Block(kind, tags, i + 1, "\n".join(lines[i + 1:j]) + "\n", i + 1, j))
        i = j + 1
    return blocks


def torch_installed():
    return importlib.util.find_spec("torch") is not None


class _Tee(io.TextIOBase):
    """Collects what a block prints, and also passes it on when `echo` is set."""

    def __init__(self, echo_to=None):
        self.parts = []
        self.echo_to = echo_to

    def write(self, text):
        self.parts.append(text)
        if self.echo_to is not None:
            self.echo_to.write(text)
        return len(text)

    def getvalue(self):
        return "".join(self.parts)


def run_chapter(path, *, echo=False, with_torch=None, check_outputs=True):
    """Run every python block of the chapter at `path`; returns a ChapterResult.

    Raises ChapterError naming the chapter and the line of the failing block, or of the
    output block that does not match. `echo` also prints what the blocks print.
    """
    path = Path(path).resolve()
    if with_torch is None:
        with_torch = torch_installed()
    blocks = parse_blocks(path.read_text(encoding="utf-8"))
    result = ChapterResult(path)
    namespace = {"__name__": "__chapter__", "__file__": str(path)}
    last_python = None
    for block in blocks:
        if block.kind == "output":
            if last_python is None:
                raise ChapterError(f"{path.name}, line {block.line}: an output block must "
                                   "follow a python block")
            if check_outputs and last_python.line in result.printed:
                _compare(path, last_python, block, result.printed[last_python.line])
                result.outputs_checked += 1
            continue
        if block.kind != "python":
            continue
        last_python = block
        if "torch" in block.tags and not with_torch:
            result.skipped.append((block.line, "needs PyTorch, which is not installed"))
            if echo:
                print(f"[skipped the block at line {block.line}: it needs PyTorch]")
            continue
        code = compile(block.code, f"{path.name}, block at line {block.line}", "exec")
        tee = _Tee(sys.stdout if echo else None)
        started = time.perf_counter()
        try:
            with contextlib.redirect_stdout(tee):
                exec(code, namespace)
        except BaseException as error:  # noqa: BLE001 - any failure fails the chapter
            if isinstance(error, KeyboardInterrupt):
                raise
            details = "".join(traceback.format_exception(type(error), error,
                                                         error.__traceback__))
            raise ChapterError(
                f"{path.name}: the block at line {block.line} failed: "
                f"{type(error).__name__}: {error}\n{details}") from error
        result.printed[block.line] = tee.getvalue()
        result.seconds[block.line] = time.perf_counter() - started
        result.ran += 1
    return result


def _compare(path, code_block, output_block, printed):
    shown = output_block.code.rstrip("\n")
    got = printed.rstrip("\n")
    if shown != got:
        raise ChapterError(
            f"{path.name}: the output shown at line {output_block.line} is not what the block "
            f"at line {code_block.line} prints (run `python docs/run_chapter.py --update "
            f"{path.name}` after checking the change).\n--- shown:\n{shown}\n--- printed:\n{got}")


def update_outputs(path):
    """Rewrite every `text output` block of the chapter with what its block prints now."""
    path = Path(path).resolve()
    text = path.read_text(encoding="utf-8")
    result = run_chapter(path, check_outputs=False)
    lines = text.split("\n")
    blocks = parse_blocks(text)
    replacements = []
    last_python = None
    for block in blocks:
        if block.kind == "python":
            last_python = block
        elif block.kind == "output" and last_python is not None:
            printed = result.printed.get(last_python.line)
            if printed is not None:
                replacements.append((block.start, block.end, printed.rstrip("\n").split("\n")))
    for start, end, new in reversed(replacements):
        lines[start:end] = new
    path.write_text("\n".join(lines), encoding="utf-8")
    return len(replacements)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the code blocks of docs chapters.")
    parser.add_argument("chapters", nargs="+", help="Markdown files, e.g. docs/01_value.md")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the `text output` blocks from a fresh run")
    args = parser.parse_args(argv)
    for chapter in args.chapters:
        if args.update:
            print(f"{chapter}: updated {update_outputs(chapter)} output block(s)")
            continue
        print(f"==== {chapter}")
        try:
            result = run_chapter(chapter, echo=True)
        except ChapterError as error:
            print(error, file=sys.stderr)
            return 1
        skipped = f", skipped {len(result.skipped)}" if result.skipped else ""
        print(f"==== {chapter}: ran {result.ran} block(s){skipped}, "
              f"{result.outputs_checked} shown output(s) match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
