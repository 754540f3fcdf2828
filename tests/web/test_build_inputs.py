"""The site's inputs agree (quick: nothing is built): every chapter has a page, the npm
versions pinned in package.json are the lock file's, and a page's Markdown loses nothing
when its fences are cut to one word."""
import importlib.util
import json
import re
import sys

import pytest

from served_site import ROOT

sys.path.insert(0, str(ROOT / "docs"))
from run_chapter import parse_blocks  # noqa: E402


def load_build():
    spec = importlib.util.spec_from_file_location("site_build", ROOT / "web" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build = load_build()


def test_every_chapter_and_the_exercises_have_a_page():
    pages = build.pages()
    for chapter in sorted((ROOT / "docs").glob("[0-9][0-9]_*.md")):
        assert pages[chapter.name] == chapter
    assert pages["index.md"] == ROOT / "docs" / "README.md"
    assert pages["exercises.md"] == ROOT / "docs" / "exercises.md"
    assert pages["playground.md"].is_file()
    assert all(source.is_file() for source in pages.values())


def test_the_pinned_npm_versions_are_the_locked_ones():
    wanted = json.loads((ROOT / "web" / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == wanted
    for name, version in wanted.items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert {"pyodide", "@viz-js/viz", "@codemirror/view"} <= set(wanted)


def test_the_graphviz_wheel_satisfies_the_package_requirement():
    pyproject = (ROOT / "pyproject.toml").read_text()
    minimum = re.search(r'"graphviz>=([\d.]+)"', pyproject).group(1)
    pinned = build.GRAPHVIZ_PACKAGE.split("==")[1]
    as_tuple = lambda v: tuple(int(x) for x in v.split("."))  # noqa: E731
    assert as_tuple(pinned) >= as_tuple(minimum)


@pytest.mark.parametrize("name", list(build.pages()))
def test_one_word_fences_keep_every_block(name):
    text = build.pages()[name].read_text(encoding="utf-8")
    before = parse_blocks(text)
    after = parse_blocks(build.one_word_fences(text))
    assert [b.code for b in after] == [b.code for b in before]
    assert [b.line for b in after] == [b.line for b in before]
    assert [b["kind"] for b in build.page_blocks(text)] == [b.kind for b in before]
    for line in build.one_word_fences(text).split("\n"):
        assert not re.match(r"^```+\S+\s+\S", line), line


def test_the_out_folder_must_be_new_empty_or_a_site(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="other files"):
        build.check_out_folder(tmp_path)
    with pytest.raises(SystemExit, match="is a file"):
        build.check_out_folder(tmp_path / "notes.txt")
    with pytest.raises(SystemExit, match="replace the project"):
        build.check_out_folder(ROOT)
    assert build.check_out_folder(tmp_path / "new") == tmp_path / "new"
