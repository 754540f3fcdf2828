"""Recorded results: every table and number a chapter shows from a long run is what its data
file in docs/recorded/ holds, and each data file says how, where and when it was made.

The long runs themselves are not repeated here (minutes to an hour each); docs/record.py
makes them. These tests read the files, so they are quick.
"""
import json
from pathlib import Path

import pytest

from helpers import load_script

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


record = load_script("docs_record", DOCS / "record.py")
CHAPTERS = [p.name for p in record.chapters()]
DATA_FILES = sorted(p.name for p in (DOCS / "recorded").glob("*.json"))


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_chapter_shows_what_its_data_files_hold(chapter):
    assert record.problems(DOCS / chapter) == []


@pytest.mark.parametrize("name", DATA_FILES)
def test_a_data_file_says_how_where_and_when_it_was_made(name):
    data = json.loads((DOCS / "recorded" / name).read_text(encoding="utf-8"))
    assert data["command"].startswith("python docs/record.py ")
    assert data["runs"], f"{name} holds no run"
    for run in data["runs"]:
        assert {"date", "machine", "load", "seconds"} <= set(run)
        assert {"python", "cpus", "platform"} <= set(run["machine"])
        assert set(run["load"]) == {"before", "after"}


def test_every_data_file_is_shown_by_a_chapter():
    chapters = "".join((DOCS / c).read_text(encoding="utf-8") for c in CHAPTERS)
    shown = {record.chapter_name(DOCS / c) for c in CHAPTERS
             if record.recorded_blocks((DOCS / c).read_text(encoding="utf-8"))}
    shown |= {name for name in record.recordings.BENCHMARKS if f"record.py {name}" in chapters}
    unused = sorted(set(DATA_FILES) - {f"{name}.json" for name in shown})
    assert unused == [], f"data files no chapter shows: {unused}"


def test_the_chapters_with_long_runs_have_recorded_results():
    for chapter in ("08_training.md", "10_looking_inside.md", "11_bigram_to_gpt.md",
                    "12_speed.md", "13_scalars_to_tensors.md", "14_growing_up.md"):
        text = (DOCS / chapter).read_text(encoding="utf-8")
        assert record.recorded_blocks(text) or record.TABLE.search(text), chapter


# ---- the checks must be able to fail ------------------------------------------------------

CHAPTER = """# 99. A chapter

```python
import os
print("full" if os.environ.get("MICROGRAD_GPT_QUICK") != "1" else "quick", 6 * 7)
```

```text recorded answer
```
"""


@pytest.fixture
def sample(tmp_path, monkeypatch):
    """A chapter of one recorded block, recorded into a data folder of its own."""
    monkeypatch.setattr(record, "RECORDED", tmp_path / "recorded")
    monkeypatch.setenv("MICROGRAD_GPT_QUICK", "1")        # the recording must unset it
    path = tmp_path / "99_sample.md"
    path.write_text(CHAPTER, encoding="utf-8")
    record.record_chapter(path)
    path.write_text(record.expected_text(path), encoding="utf-8")
    return path


def test_a_chapter_is_recorded_in_full_and_then_matches(sample):
    assert "```text recorded answer\nfull 42\n```" in sample.read_text(encoding="utf-8")
    assert record.problems(sample) == []
    data = record.read_data("99_sample")
    assert data["runs"][0]["outputs"] == {"answer": "full 42"}
    assert data["command"] == "python docs/record.py docs/99_sample.md"


def test_a_recorded_block_edited_by_hand_is_caught(sample):
    sample.write_text(sample.read_text(encoding="utf-8").replace("full 42", "full 43"),
                      encoding="utf-8")
    assert any("not what its data file holds" in p for p in record.problems(sample))


def test_changed_code_under_a_recorded_block_is_caught(sample):
    sample.write_text(sample.read_text(encoding="utf-8").replace("6 * 7", "6 * 8"),
                      encoding="utf-8")
    assert any("not the code that was recorded" in p for p in record.problems(sample))
    moved = sample.read_text(encoding="utf-8").replace("6 * 8", "6 * 7").replace(
        "import os", "from os import environ\nimport os")
    sample.write_text(moved, encoding="utf-8")           # an import added: still the code
    assert record.problems(sample) == []


def test_a_block_never_recorded_is_caught(sample):
    sample.write_text(sample.read_text(encoding="utf-8")
                      + "\n```python\nprint(1)\n```\n\n```text recorded other\n1\n```\n",
                      encoding="utf-8")
    assert any("is not in" in p and "python docs/record.py" in p
               for p in record.problems(sample))


def test_a_sentence_that_no_longer_matches_its_data_is_caught(sample, monkeypatch):
    monkeypatch.setitem(record.recordings.SENTENCES, "99_sample.md",
                        [lambda read: [f"the answer is {read('99_sample')['runs'][-1]['outputs']['answer'][5:]}"]])
    text = sample.read_text(encoding="utf-8")
    sample.write_text(text + "\nSo the answer is\n42.\n", encoding="utf-8")   # wrapped: fine
    assert record.problems(sample) == []
    sample.write_text(text + "\nSo the answer is 41.\n", encoding="utf-8")
    assert record.problems(sample) == [
        "99_sample.md: should say, from its data file: 'the answer is 42'"]


def test_a_table_is_made_from_its_data_and_times_become_ranges(tmp_path, monkeypatch):
    monkeypatch.setattr(record, "RECORDED", tmp_path)
    runs = [{"date": "2026-01-0%d" % i, "machine": {"cpus": 2, "python": "3.11"},
             "load": {"before": [load], "after": [load]}, "seconds": 60.0 * i,
             "results": {"ladder": [dict(preset="tiny", kind="gpt", sees="all", parameters=3856,
                                         steps=1000, ms=ms, train=2.1, val=2.2,
                                         samples=["emma"])],
                         "neural_bigram_3000": []}}
            for i, (ms, load) in enumerate(((100.0, 1.0), (130.0, 3.5)), 1)]
    record.write_data("ladder", {"command": "python docs/record.py ladder", "runs": runs})
    path = tmp_path / "99_table.md"
    path.write_text("<!-- recorded ladder -->\nold\n<!-- end recorded -->\n", encoding="utf-8")
    made = record.expected_text(path)
    assert "| 100.0–130.0 | 1.00 |" in made and "2 runs, 2026-01-01 to 2026-01-02" in made
    assert "load 1.0–3.5" in made
    assert record.problems(path)                          # "old" is not the table
    path.write_text(made, encoding="utf-8")
    assert record.problems(path) == []
    runs[1]["results"]["ladder"][0]["val"] = 2.3                        # not repeatable
    record.write_data("ladder", {"command": "python docs/record.py ladder", "runs": runs})
    assert any("differs between the recorded runs" in p for p in record.problems(path))
