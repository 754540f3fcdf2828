"""The course as notebooks: every chapter has one, made by docs/make_notebooks.py with
jupytext and committed up to date; notebooks run top to bottom (nbclient, quick mode); and
what a notebook shows of a trace, a training run and a graph is a picture or a table."""
import os
import time
from pathlib import Path

import pytest

from micrograd_gpt.common.install import INSTALL_TORCH

from helpers import load_script

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


maker = load_script("docs_make_notebooks", DOCS / "make_notebooks.py")
CHAPTERS = [p.name for p in maker.chapters()]


@pytest.fixture(scope="module")
def nbformat():
    pytest.importorskip("jupytext", reason="making notebooks needs jupytext")
    return pytest.importorskip("nbformat")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_committed_notebook_is_made_from_the_chapter(nbformat, chapter):
    path = maker.notebook_path(DOCS / chapter)
    assert path.exists(), f"{path.name} is missing: run python docs/make_notebooks.py"
    assert path.read_text(encoding="utf-8") == maker.notebook_text(DOCS / chapter), (
        f"{path.name} is out of date with {chapter}: run python docs/make_notebooks.py")


def test_no_notebook_without_its_chapter():
    assert maker.orphan_notebooks() == []


CHAPTER = """# 99. A chapter

Some text, a [link to chapter 1](01_value.md#by-hand-first), [the code](../micrograd_gpt/autograd/value.py)
and a picture:

![a graph](figures/expr_graph.svg)

```python
x = 6 * 7
print(x)
```

```text output
42
```

```bash
micrograd-gpt demo
```

```python torch
import torch
```

```python
y = x + 1
```

Next: [2. The chain rule](02_chain_rule.md).
"""


def test_the_generator_turns_each_part_of_a_chapter_into_the_right_cell(nbformat, tmp_path):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "expr_graph.svg").write_text("<svg/>")
    chapter = tmp_path / "99_a_chapter.md"
    chapter.write_text(CHAPTER)
    notebook = maker.make_notebook(chapter, source="git+https://example.org/x.git")
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds == ["code", "markdown", "code", "markdown", "code", "code", "markdown"]
    setup, intro, first, reading, torch_cell, last, end = notebook.cells
    assert "SOURCE = 'git+https://example.org/x.git'" in setup.source
    assert 'find_spec("micrograd_gpt") is None' in setup.source
    assert INSTALL_TORCH in setup.source          # the chapter has a torch cell
    assert "(01_value.ipynb#by-hand-first)" in intro.source
    assert "(../../micrograd_gpt/autograd/value.py)" in intro.source
    assert "![a graph](attachment:expr_graph.svg)" in intro.source
    assert "image/svg+xml" in intro.attachments["expr_graph.svg"]
    assert first.outputs[0]["text"] == "42\n" and first.source == "x = 6 * 7\nprint(x)"
    assert "```bash\nmicrograd-gpt demo\n```" in reading.source   # for reading, not a cell
    assert torch_cell.metadata["tags"] == ["torch"]
    assert torch_cell.source.startswith("# needs PyTorch")
    assert last.outputs == [] and "```text output" not in "".join(c.source for c in notebook.cells)
    assert "(02_chain_rule.ipynb)" in end.source
    assert [cell.id for cell in notebook.cells] == [f"cell-{i}" for i in range(7)]
    nbformat.validate(notebook)
    assert maker.notebook_text(chapter) == maker.notebook_text(chapter)   # the same bytes


def test_check_mode_reports_a_stale_notebook(nbformat, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(maker, "NOTEBOOKS", tmp_path)
    first = DOCS / CHAPTERS[0]
    assert maker.main(["--check", str(first)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert maker.main([str(first)]) == 0
    assert maker.main(["--check", str(first)]) == 0


# ---- running notebooks ----------------------------------------------------------------------

RUN = ["01_value.md", "03_graph.md", "07_backprop_by_hand.md"]


@pytest.mark.slow
@pytest.mark.parametrize("chapter", RUN)
def test_a_notebook_runs_top_to_bottom(nbformat, chapter, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("MICROGRAD_GPT_QUICK", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(  # the kernel imports this checkout
        [str(ROOT), os.environ.get("PYTHONPATH", "")]))
    notebook = nbformat.read(maker.notebook_path(DOCS / chapter), as_version=4)
    shown = {i: cell.outputs[0]["text"] for i, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" and cell.outputs}
    started = time.perf_counter()
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    seconds = time.perf_counter() - started
    for i, text in shown.items():  # the outputs the chapter shows are what the cells print
        printed = "".join(o.get("text", "") for o in notebook.cells[i].outputs
                          if o.get("output_type") == "stream")
        assert printed.rstrip("\n") == text.rstrip("\n"), f"cell {i} of {chapter} differs"
    assert list(tmp_path.iterdir()) == [], f"{chapter} wrote into its working folder"
    if chapter == "03_graph.md":  # a graph is shown as a picture
        pictures = [o for cell in notebook.cells for o in cell.get("outputs", [])
                    if "image/svg+xml" in o.get("data", {})]
        assert pictures, "no graph was displayed"
    print(f"{chapter}: ran in {seconds:.1f} s")


# ---- what a notebook shows ------------------------------------------------------------------

def test_a_trace_shows_its_tables():
    from micrograd_gpt import Value
    from micrograd_gpt.viz.tracing import format_trace, trace
    a = Value(2.0, label="a")
    t = trace((a * a + a).tanh())
    assert repr(t) == format_trace(t, max_rows=40)
    page = t._repr_html_()
    assert page.count("<table>") == 3 and "grad(child) += local × grad(node)" in page
    assert "<td>n1 = a * a</td>" in page and "Trace(" not in page
    big = Value(0.0)
    for i in range(100):
        big = big + i * 0.5
    assert "more rows" in repr(trace(big)) and "more rows" in trace(big)._repr_html_()


def test_a_training_run_shows_its_losses_as_a_table():
    from micrograd_gpt.training.history import History
    from micrograd_gpt.training.loop import train
    from micrograd_gpt.training.settings import TrainConfig
    result = train(TrainConfig.from_preset("tiny", steps=6, batch_size=1, eval_interval=3,
                                           eval_docs=2), quiet=True)
    assert isinstance(result.history, History) and set(result.history) == {"train", "val"}
    text = repr(result)
    assert text.startswith("TrainResult: 6 steps") and "GPT(" not in text
    lines = text.split("\n")[2:]
    assert [line.split()[0] for line in lines[1:]] == ["0", "3", "6"]
    mean_3_to_6 = sum(loss for step, loss in result.history["train"] if step > 3) / 3
    assert f"{mean_3_to_6:.4f}" in lines[-1]
    assert f"{result.history['val'][-1][1]:.4f}" in lines[-1]
    page = result._repr_html_()
    assert "<table>" in page and page.count("<tr>") == 4


def test_a_history_without_validation_shows_a_dozen_rows():
    from micrograd_gpt.training.history import History, history_rows
    history = History(train=[[s, 3.0 - s / 1000] for s in range(1, 1001)], val=[])
    rows = history_rows(history)
    assert len(rows) <= 12 and rows[-1][0] == 1000 and all(v is None for *_, v in rows)
    assert abs(rows[0][1] - sum(3.0 - s / 1000 for s in range(1, rows[0][0] + 1))
               / rows[0][0]) < 1e-12
    assert repr(History(train=[], val=[])) == "History(no steps yet)"
