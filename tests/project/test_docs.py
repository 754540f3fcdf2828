"""The docs course runs: every python block of every chapter, in order, one test per chapter.

The block runner is docs/run_chapter.py (also usable by hand); see its docstring for the
rules. Chapters run with MICROGRAD_GPT_QUICK=1 (long training runs shortened, never skipped)
from a temporary working directory, so no block may depend on where it is run from.
"""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
README = ROOT / "README.md"

EXPECTED_CHAPTERS = [
    "01_value.md", "02_chain_rule.md", "03_graph.md", "04_modules.md", "05_attention.md",
    "06_gpt.md", "07_backprop_by_hand.md", "08_training.md", "09_sampling.md",
    "10_looking_inside.md", "11_bigram_to_gpt.md", "12_speed.md", "13_scalars_to_tensors.md",
    "14_growing_up.md",
]
CHAPTERS = sorted(p.name for p in DOCS.glob("[0-9][0-9]_*.md"))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


runner = _load("docs_run_chapter", DOCS / "run_chapter.py")


def test_the_course_has_its_chapters_in_reading_order():
    assert CHAPTERS == EXPECTED_CHAPTERS


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_runs(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("MICROGRAD_GPT_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    threads = _torch_threads()
    try:
        result = runner.run_chapter(DOCS / chapter)
    except runner.ChapterError as error:
        pytest.fail(str(error), pytrace=False)
    finally:
        _restore_torch_threads(threads)
    assert result.ran > 0, f"{chapter} has no python blocks"
    assert list(tmp_path.iterdir()) == [], f"{chapter} wrote into the working directory"
    if result.skipped:  # the torch-free blocks ran above; say what did not
        lines = ", ".join(f"line {line}" for line, _ in result.skipped)
        pytest.skip(f"{chapter}: ran {result.ran} blocks; skipped the blocks at {lines}: "
                    f"{result.skipped[0][1]}")


def _torch_threads():
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def _restore_torch_threads(threads):
    torch = sys.modules.get("torch")
    if torch is not None and threads is not None:
        torch.set_num_threads(threads)


@pytest.mark.slow
def test_growing_up_runs_its_torch_free_blocks_without_torch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.run_chapter(DOCS / "14_growing_up.md", with_torch=False)
    assert result.ran >= 1 and len(result.skipped) >= 3


def test_the_readme_tour_runs(tmp_path, monkeypatch):
    from micrograd_gpt.viz.graph import renderer_available
    if not renderer_available():
        pytest.skip("the README's tour draws a picture: needs Graphviz's dot or graphviz-pure")
    monkeypatch.chdir(tmp_path)
    try:
        result = runner.run_chapter(README)
    except runner.ChapterError as error:
        pytest.fail(str(error), pytrace=False)
    assert result.ran > 0
    assert (tmp_path / "graph.svg").exists()


def test_a_chapter_runs_as_a_plain_script_from_another_folder(tmp_path):
    env = dict(os.environ, MICROGRAD_GPT_QUICK="1")
    done = subprocess.run([sys.executable, str(DOCS / "run_chapter.py"),
                           str(DOCS / "02_chain_rule.md")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "grad(child) += local × grad(node)" in done.stdout
    assert "02_chain_rule.md: ran" in done.stdout
    assert list(tmp_path.iterdir()) == []


# ---- the runner itself: it must be able to fail ------------------------------------------

def _chapter(tmp_path, text):
    path = tmp_path / "99_sample.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_runner_names_the_chapter_and_line_of_a_failing_block(tmp_path):
    path = _chapter(tmp_path, "# t\n\n```python\nx = 1\n```\n\ntext\n\n"
                              "```python\nassert x == 2\n```\n")
    with pytest.raises(runner.ChapterError, match=r"99_sample\.md: the block at line 9 failed"):
        runner.run_chapter(path)


def test_runner_shares_one_namespace_and_ignores_other_blocks(tmp_path):
    path = _chapter(tmp_path, "```python\nx = 41\n```\n```bash\nexit 1\n```\n"
                              "```python\nx += 1\nprint(x)\n```\n```text output\n42\n```\n")
    result = runner.run_chapter(path)
    assert (result.ran, result.outputs_checked) == (2, 1)


def test_runner_fails_when_a_shown_output_differs(tmp_path):
    path = _chapter(tmp_path, "```python\nprint(6 * 7)\n```\n\n```text output\n41\n```\n")
    with pytest.raises(runner.ChapterError, match="line 5 is not what the block at line 1"):
        runner.run_chapter(path)


def test_update_rewrites_shown_outputs(tmp_path):
    code = "```python\nprint('a')\nprint('b')\n```\n\n"
    path = _chapter(tmp_path, code + "```text output\nold\n```\nend\n")
    assert runner.update_outputs(path) == 1
    assert path.read_text() == code + "```text output\na\nb\n```\nend\n"
    assert runner.run_chapter(path).outputs_checked == 1


def test_torch_blocks_are_skipped_visibly_without_torch(tmp_path):
    path = _chapter(tmp_path, "```python\nx = 1\n```\n```python torch\nimport torch\nx = 2\n```\n"
                              "```text output\n```\n```python\nassert x == 1\n```\n")
    result = runner.run_chapter(path, with_torch=False)
    assert result.ran == 2
    assert result.skipped == [(4, "needs PyTorch, which is not installed")]


def test_an_unclosed_block_is_an_error(tmp_path):
    path = _chapter(tmp_path, "```python\nx = 1\n")
    with pytest.raises(runner.ChapterError, match="never closed"):
        runner.run_chapter(path)


# ---- links, pictures, the README ---------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)|<img [^>]*src=\"([^\"]+)\"")


def _local_links(path):
    text = path.read_text(encoding="utf-8")
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        if not re.match(r"[a-z]+://|#|mailto:", target):
            yield target.split("#")[0]


PAGES = ["README.md", "docs/README.md", "docs/exercises.md"] + [f"docs/{c}" for c in CHAPTERS]


@pytest.mark.parametrize("page", PAGES)
def test_links_and_pictures_exist(page):
    path = ROOT / page
    missing = [t for t in _local_links(path) if not (path.parent / t).exists()]
    assert missing == [], f"{page} links to missing files: {missing}"


def test_readme_starts_with_the_two_commands_and_links_every_chapter():
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert 'pip install -e ".[viz]" && micrograd-gpt train' in first_block
    assert 'pip install -e ".[dev]" && python -m pytest' in first_block
    assert text.index('pip install -e ".[viz]" && micrograd-gpt train') < text.index("## ")
    for chapter in CHAPTERS:
        assert f"docs/{chapter}" in text, f"the README does not link {chapter}"
    assert re.search(r"!\[[^\]]*\]\(docs/figures/[a-z_]+\.svg\)", text), "no graph picture"


def test_speed_chapter_has_the_measured_section_with_its_markers():
    text = (DOCS / "12_speed.md").read_text(encoding="utf-8")
    measured = text.split("\n## Measured\n", 1)
    assert len(measured) == 2, "12_speed.md needs a '## Measured' section"
    section = measured[1].split("\n## ", 1)[0]
    start = section.index("<!-- recorded speed -->")       # made by docs/record.py speed
    assert section.index("<!-- end recorded -->") > start


@pytest.mark.slow
def test_figures_are_drawn_by_make_figures(tmp_path):
    from micrograd_gpt.viz.graph import renderer_available
    if not renderer_available():
        pytest.skip("drawing the figures needs Graphviz's dot or graphviz-pure")
    env = dict(os.environ, MICROGRAD_GPT_QUICK="1")
    done = subprocess.run([sys.executable, str(DOCS / "make_figures.py"), "--out",
                           str(tmp_path / "figures")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    drawn = sorted(p.name for p in (tmp_path / "figures").iterdir())
    committed = sorted(p.name for p in (DOCS / "figures").iterdir())
    assert drawn == committed, "docs/figures/ must hold exactly what make_figures.py draws"
    for name in drawn:
        head = (tmp_path / "figures" / name).read_text(encoding="utf-8")[:400]
        assert "<svg" in head, f"{name} is not an SVG picture"


def test_every_figure_is_shown_somewhere():
    pages = "".join((ROOT / page).read_text(encoding="utf-8") for page in PAGES)
    unused = [p.name for p in (DOCS / "figures").iterdir() if f"figures/{p.name}" not in pages]
    assert unused == [], f"figures no page shows: {unused}"
