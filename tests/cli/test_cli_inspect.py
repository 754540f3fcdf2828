"""`micrograd-gpt inspect` and the dashed lines of `micrograd-gpt plot`: a short run with
health statistics, the terminal table, the page, the defaults, and bad input."""
import json
import math
import re
import xml.etree.ElementTree as ET

import pytest

from helpers import run_main as run  # micrograd-gpt in this process
from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.viz.inspection import inspect_text
from micrograd_gpt.training.baselines import reference_losses
from micrograd_gpt.training.settings import TrainConfig

pytestmark = pytest.mark.slow  # whole (short) training runs

QUICK = ["--steps", "3", "--eval-interval", "2", "--eval-docs", "20", "--quiet",
         "--samples", "0"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("inspect") / "names.json"
    code, out, _ = run(["train", *QUICK, "--health", "--out", str(path)])
    assert code == 0
    assert f"micrograd-gpt inspect --checkpoint {path} emma" in out  # the hint after training
    return path


def test_inspect_prints_the_table_and_writes_the_page(checkpoint, tmp_path):
    page = tmp_path / "emma.html"
    code, out, err = run(["inspect", "--checkpoint", str(checkpoint), "emma", "-o", str(page)])
    assert code == 0, err
    saved = load_checkpoint(checkpoint)
    result = inspect_text(saved.model, saved.tokenizer, "emma")
    lines = out.splitlines()
    assert lines[:6] == str(result.prediction_table()).splitlines()
    assert f"{result.loss:.4f}" in lines[6] and lines[-1] == f"wrote {page}"
    text = page.read_text(encoding="utf-8")
    assert text.count('class="attention-map"') == 2                  # 1 layer x 2 heads
    assert text.count('class="cell"') == 2 * (5 * 6 // 2)            # B e m m a: triangles
    assert "ln 27 = 3.30" in text and "bigram counts:" in text
    assert "update / data ratio" in text                             # the health curves
    data = re.search(r'<script type="application/json" id="inspection-data">(.*?)</script>',
                     text, re.S).group(1)
    assert json.loads(data) == json.loads(json.dumps(result.to_dict()))
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # nothing fetched


def test_the_page_says_when_health_was_not_recorded(tmp_path):
    path = tmp_path / "plain.json"
    assert run(["train", *QUICK, "--no-health", "--out", str(path)])[0] == 0
    code, out, _ = run(["inspect", "--checkpoint", str(path), "ava"])
    assert code == 0
    page = tmp_path / "plain_inspect.html"                           # the default name
    assert out.splitlines()[-2] == f"wrote {page}"
    assert "records it with the Value engine unless given --no-health" in out.splitlines()[-1]
    assert ("Not recorded for this run. `micrograd-gpt train` records it with the Value "
            "engine unless given --no-health") in page.read_text(encoding="utf-8")


def test_train_records_health_by_default_with_the_value_engine(tmp_path):
    path = tmp_path / "default.json"
    assert run(["train", *QUICK, "--out", str(path)])[0] == 0
    records = load_checkpoint(path).history["health"]
    assert [r["step"] for r in records][0] == 1 and records[-1]["step"] == int(QUICK[1])


def test_a_text_model_leaves_the_last_next_token_open(tmp_path):
    path = tmp_path / "sonnets.json"
    assert run(["train", *QUICK, "--data", "text", "--out", str(path)])[0] == 0
    code, out, _ = run(["inspect", "--checkpoint", str(path), "Shall I", "-o",
                        str(tmp_path / "s.html")])
    assert code == 0
    table = out.splitlines()
    assert table[-3].startswith("Shall I ") and " ? " in table[-3]


@pytest.mark.parametrize("argv, message", [
    (["emma!"], "not in the vocabulary"),
    (["abcdefghijklmnopq"], "at most 16 tokens"),
    (["emma", "-o", "page.svg"], "--output: the page is HTML"),
])
def test_bad_input_is_one_line_and_exit_2(checkpoint, tmp_path, argv, message):
    code, _, err = run(["inspect", "--checkpoint", str(checkpoint), *argv])
    assert code == 2
    assert err.startswith("micrograd-gpt inspect: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_a_model_without_attention_gets_a_page_too(tmp_path):
    path = tmp_path / "rnn.json"
    assert run(["train", *QUICK, "--model", "rnn", "--health", "--out", str(path)])[0] == 0
    code, out, _ = run(["inspect", "--checkpoint", str(path), "emma", "-o",
                        str(tmp_path / "rnn.html")])
    assert code == 0 and out.splitlines()[0].startswith("after")
    page = (tmp_path / "rnn.html").read_text(encoding="utf-8")
    assert "This model has no attention" in page and 'class="cell"' not in page
    assert "cell saturated" in page                     # the RNN cell's tanh, in the health


def test_the_page_never_overwrites_the_checkpoint_it_reads(checkpoint, tmp_path):
    alias = tmp_path / "alias.html"
    alias.symlink_to(checkpoint)
    before = checkpoint.read_bytes()
    code, _, err = run(["inspect", "--checkpoint", str(checkpoint), "emma", "-o", str(alias)])
    assert code == 2 and "same file as the input" in err
    assert checkpoint.read_bytes() == before


def test_a_missing_checkpoint_is_a_clear_error(tmp_path):
    code, _, err = run(["inspect", "--checkpoint", str(tmp_path / "none.json"), "emma"])
    assert code == 2 and "does not exist" in err


def test_plot_draws_the_uniform_and_bigram_lines(checkpoint, tmp_path):
    svg = tmp_path / "loss.svg"
    assert run(["plot", "--checkpoint", str(checkpoint), "-o", str(svg)])[0] == 0
    root = ET.parse(svg).getroot()
    labels = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    bigram = reference_losses(TrainConfig(**load_checkpoint(checkpoint).train_config))["bigram"]
    assert "uniform guess:" in labels and f"ln 27 = {math.log(27):.2f}" in labels
    assert "bigram counts:" in labels and f"{bigram:.2f}" in labels


def test_plot_without_the_data_draws_no_bigram_line_and_says_why(checkpoint, tmp_path):
    payload = json.loads(checkpoint.read_text())
    payload["train_config"]["data"] = str(tmp_path / "gone.txt")
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(payload))
    code, _, err = run(["plot", "--checkpoint", str(moved), "-o", str(tmp_path / "l.svg")])
    assert code == 0 and "no bigram line" in err and "does not exist" in err
    assert "bigram counts" not in (tmp_path / "l.svg").read_text()
    assert "uniform guess" in (tmp_path / "l.svg").read_text()
