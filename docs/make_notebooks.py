"""Make a Jupyter notebook of every chapter of the course, with jupytext.

    python docs/make_notebooks.py                      # write docs/notebooks/NN_x.ipynb
    python docs/make_notebooks.py --check              # exit 1 if one is out of date
    python docs/make_notebooks.py docs/07_backprop_by_hand.md   # only some chapters

The Markdown chapter is the source and the notebook is made from it, so never edit a
notebook by hand (the next run would undo it): edit the chapter and run this again. The
tests fail when a committed notebook differs from what this script makes.

jupytext (`pip install jupytext`) turns the Markdown into cells: each ```python block a
code cell, the text between them Markdown cells. Then this script

* puts a setup cell first, which installs micrograd_gpt where it cannot be imported (a
  fresh Colab or Binder session) from INSTALL_SOURCE below, and does nothing elsewhere;
* gives each code cell the output the chapter shows for it (its ```text output block,
  which the tests check against a real run), so a notebook reads well before it is run;
* marks the ```python torch cells, which need PyTorch, with a first comment and the tag
  "torch";
* embeds the chapter's figures in their Markdown cells (attachments: the notebook needs
  no other file), and points links to other chapters at their notebooks.
"""
from __future__ import annotations

import argparse
import base64
import importlib.util
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
NOTEBOOKS = DOCS / "notebooks"

sys.path.insert(0, str(DOCS.parent))  # this checkout's package: the one install line for torch
from micrograd_gpt.common.install import INSTALL_TORCH  # noqa: E402

# Where the setup cell installs micrograd_gpt from. It is not on PyPI yet, so: the checkout
# the notebook sits in (docs/notebooks/ -> the project root, two folders up). Once the
# project has a public git URL, put it here ("git+https://<host>/<owner>/micrograd_gpt.git")
# and run this script again, so that a notebook opened in Colab installs it by itself.
INSTALL_SOURCE = "../.."

SETUP = '''\
# Setup: run this cell first. Where micrograd_gpt cannot be imported (a fresh Colab or
# Binder session), it installs it; everywhere else it does nothing.
# micrograd_gpt is not on PyPI yet, so it is installed from its source: SOURCE is either
# the project's folder (by default the checkout this notebook sits in, two folders up) or
# its git URL ("git+https://<host>/<owner>/micrograd_gpt.git"). In a hosted notebook,
# clone or upload the project and give its folder, or give the URL.
SOURCE = {source!r}

import importlib.util, os, subprocess, sys
if importlib.util.find_spec("micrograd_gpt") is None:
    if SOURCE.startswith(("git+", "https://")):
        requirement = "micrograd-gpt[viz] @ " + SOURCE
    elif os.path.isfile(os.path.join(SOURCE, "pyproject.toml")):
        requirement = os.path.abspath(SOURCE) + "[viz]"
    else:
        raise RuntimeError("micrograd_gpt is not installed and SOURCE is not its folder: "
                           "set SOURCE in this cell to the project's folder or git URL")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", requirement],
                   check=True)
# os.environ["MICROGRAD_GPT_QUICK"] = "1"   # uncomment for short training runs{torch}'''

TORCH_NOTE = f"# needs PyTorch ({INSTALL_TORCH}); without it, skip this cell"
LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def _load_runner():
    """docs/run_chapter.py, whose parse_blocks reads a chapter the way the tests do."""
    spec = importlib.util.spec_from_file_location("docs_run_chapter", DOCS / "run_chapter.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("docs_run_chapter", module)
    spec.loader.exec_module(module)
    return module


def split_outputs(text):
    """The chapter without its ```text output blocks, and those outputs: a dict from the
    number of the python block (0, 1, ...) to the text it shows."""
    runner = _load_runner()
    lines = text.split("\n")
    outputs, drop, python_blocks = {}, [], -1
    for block in runner.parse_blocks(text):
        if block.kind == "python":
            python_blocks += 1
        elif block.kind == "output" and python_blocks >= 0:
            outputs[python_blocks] = block.code.rstrip("\n")
            end = block.end + 1   # the closing fence; a blank line after it goes too
            if end < len(lines) and not lines[end].strip():
                end += 1
            drop.append((block.start - 1, end))
    for start, end in reversed(drop):
        del lines[start:end]
    return "\n".join(lines), outputs


def make_notebook(chapter, source=INSTALL_SOURCE):
    """The notebook of the chapter at `chapter` (a Path), as an nbformat NotebookNode."""
    import jupytext
    import nbformat

    chapter = Path(chapter)
    text, outputs = split_outputs(chapter.read_text(encoding="utf-8"))
    notebook = _reading_blocks_as_text(jupytext.reads(text, fmt="md"), nbformat)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    expected = sum(block.kind == "python" for block in _load_runner().parse_blocks(text))
    if len(code_cells) != expected:
        raise ValueError(f"{chapter.name}: jupytext made {len(code_cells)} code cells from "
                         f"{expected} python blocks; check the chapter's fences")
    for number, cell in enumerate(code_cells):
        _finish_code_cell(cell, outputs.get(number), nbformat)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            _finish_markdown_cell(cell, chapter.parent)
    uses_torch = any("torch" in cell.metadata.get("tags", []) for cell in code_cells)
    torch_line = (f"\n# this chapter's cells marked \"needs PyTorch\" need: {INSTALL_TORCH}"
                  if uses_torch else "")
    setup = nbformat.v4.new_code_cell(SETUP.format(source=source, torch=torch_line))
    notebook.cells.insert(0, setup)
    return _tidy(notebook)


def _reading_blocks_as_text(notebook, nbformat):
    """jupytext makes a ```bash block a `%%bash` code cell; in the chapters such blocks
    are for reading (commands to type in a terminal), so they go back into the text."""
    cells = []
    for cell in notebook.cells:
        magic = re.match(r"%%(\w+)\n", cell.source) if cell.cell_type == "code" else None
        if magic:
            fenced = f"```{magic.group(1)}\n{cell.source[magic.end():]}\n```"
            cell = nbformat.v4.new_markdown_cell(fenced)
        if cells and cell.cell_type == cells[-1].cell_type == "markdown":
            cells[-1].source += "\n\n" + cell.source
        else:
            cells.append(cell)
    notebook.cells = cells
    return notebook


def _finish_code_cell(cell, output, nbformat):
    if "torch" in cell.metadata:
        cell.source = f"{TORCH_NOTE}\n{cell.source}"
        cell.metadata = {"tags": ["torch"]}
    else:
        cell.metadata = {}
    cell.execution_count = None
    cell.outputs = ([nbformat.v4.new_output("stream", name="stdout", text=output + "\n")]
                    if output is not None else [])


def _finish_markdown_cell(cell, folder):
    """Figures become attachments; links to chapters point at their notebooks; other
    relative links step out of docs/notebooks/."""
    attachments = {}

    def relink(match):
        bang, label, target = match.groups()
        if re.match(r"[a-z]+://|#|mailto:", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        anchor = f"#{anchor}" if anchor else ""
        if bang and path.endswith(".svg") and (folder / path).is_file():
            name = Path(path).name
            data = base64.b64encode((folder / path).read_bytes()).decode("ascii")
            attachments[name] = {"image/svg+xml": data}
            return f"![{label}](attachment:{name})"
        if re.fullmatch(r"\d\d_[a-z0-9_]+\.md", path):
            return f"[{label}]({path[:-3]}.ipynb{anchor})"
        return f"{bang}[{label}](../{path}{anchor})"
    cell.source = LINK.sub(relink, cell.source)
    cell.metadata = {}
    if attachments:
        cell.attachments = attachments


def _tidy(notebook):
    """Fixed ids and metadata, so the same chapter always gives the same file."""
    for i, cell in enumerate(notebook.cells):
        cell.id = f"cell-{i}"
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    return notebook


def notebook_text(chapter, source=INSTALL_SOURCE):
    """The file contents of the chapter's notebook (what is committed)."""
    import nbformat
    return nbformat.writes(make_notebook(chapter, source)) + "\n"


def notebook_path(chapter):
    return NOTEBOOKS / f"{Path(chapter).stem}.ipynb"


def chapters():
    """Every chapter of the course, in order."""
    return sorted(DOCS.glob("[0-9][0-9]_*.md"))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Make the course's notebooks with jupytext.")
    parser.add_argument("chapters", nargs="*", help="chapters (default: all of docs/NN_*.md)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook is missing or out of date")
    args = parser.parse_args(argv)
    stale = []
    for chapter in [Path(c) for c in args.chapters] or chapters():
        path, text = notebook_path(chapter), notebook_text(chapter)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path.name)
        if not args.check:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    orphans = [] if args.chapters else orphan_notebooks()
    for path in orphans:
        print(f"{path.name} has no chapter any more: delete it", file=sys.stderr)
    if args.check and stale:
        print(f"out of date: {', '.join(stale)}; run python docs/make_notebooks.py",
              file=sys.stderr)
    return 1 if orphans or (args.check and stale) else 0


def orphan_notebooks():
    """Notebooks in docs/notebooks/ whose chapter no longer exists."""
    made = {notebook_path(c).name for c in chapters()}
    return sorted(p for p in NOTEBOOKS.glob("*.ipynb") if p.name not in made)


if __name__ == "__main__":
    sys.exit(main())
