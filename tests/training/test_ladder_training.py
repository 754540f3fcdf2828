"""Every rung of the ladder through the whole tool chain: presets, `train --model X`, its
checkpoint, `sample`, `plot`, `graph --model X`, resuming, and clear errors where an
option does not apply to a kind."""
import contextlib
import io
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.cli import main
from micrograd_gpt.models.registry import DEFAULT_KIND, MODEL_CLASSES, MODELS
from micrograd_gpt.training.presets import PRESETS, preset_kind, presets_of
from micrograd_gpt.training.data import prepare_data
from micrograd_gpt.training.loop import train
from micrograd_gpt.training.settings import TrainConfig, sequence_length

FEW = ["--steps", "2", "--eval-interval", "1", "--eval-docs", "10", "--quiet"]


def run_cli(argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """`micrograd-gpt train --model KIND` for every kind (and the GRU preset): kind ->
    (checkpoint path, stdout)."""
    folder = tmp_path_factory.mktemp("ladder")
    runs = {}
    for kind in MODELS:
        extra = ["--quiet", "--eval-docs", "10"] if kind == "bigram" else FEW
        path = folder / f"{kind}.json"
        code, stdout = run_cli(["train", "--model", kind, *extra, "--out", str(path),
                                "--samples", "3"])
        assert code == 0
        runs[kind] = path, stdout
    path = folder / "gru.json"
    assert run_cli(["train", "--preset", "gru", *FEW, "--out", str(path), "--samples", "0"])[0] == 0
    runs["gru"] = path, ""
    return runs


@pytest.mark.slow
def test_every_kind_trains_saves_its_kind_and_samples(checkpoints, capsys):
    for kind in [*MODELS, "gru"]:
        path, stdout = checkpoints[kind]
        ckpt = load_checkpoint(path)
        expected_kind = "rnn" if kind == "gru" else kind
        assert type(ckpt.model) is MODELS[expected_kind]
        assert ckpt.train_config["model_kind"] == expected_kind
        assert ckpt.train_config["preset"] == (kind if kind == "gru" else
                                               MODELS[kind].default_preset)
        assert main(["sample", "--checkpoint", str(path), "--num", "4", "--seed", "2"]) == 0
        names = capsys.readouterr().out.splitlines()
        assert len(names) == 4
        assert all(set(name) <= set(ckpt.tokenizer.chars) for name in names)
    assert load_checkpoint(checkpoints["gru"][0]).model.config.cell == "gru"


@pytest.mark.slow
def test_the_counting_bigram_is_fit_in_one_pass(checkpoints):
    path, stdout = checkpoints["bigram"]
    ckpt = load_checkpoint(path)
    assert ckpt.step == 1 and "fit in one pass" in stdout
    assert [step for step, _ in ckpt.history["val"]] == [1]
    # its table holds the smoothed frequencies of the training data: every row sums to 1
    for row in ckpt.model.log_probs:
        assert sum(math.exp(p.data) for p in row) == pytest.approx(1.0, abs=1e-12)
    # resuming it has nothing left to do, and changes nothing
    result = train(resume=path, quiet=True)
    assert result.step == 1 and result.model.state_dict() == ckpt.model.state_dict()


@pytest.mark.slow
def test_plot_and_graph_work_for_every_kind(checkpoints, tmp_path, capsys):
    for kind in MODELS:
        svg = tmp_path / f"{kind}.svg"
        assert main(["plot", "--checkpoint", str(checkpoints[kind][0]), "-o", str(svg)]) == 0
        assert svg.read_text().lstrip().startswith("<")
    gv = tmp_path / "rnn.gv"  # the DOT text: no renderer needed
    assert main(["graph", "--model", "rnn", "--batch-size", "1", "-o", str(gv)]) == 0
    dot = gv.read_text()
    assert "cell.xh" in dot and "lm_head" in dot and "RNN" in dot


@pytest.mark.slow
def test_resuming_continues_a_rung(checkpoints, tmp_path):
    path = checkpoints["mlp"][0]
    out = tmp_path / "more.json"
    code, _ = run_cli(["train", "--resume", str(path), "--steps", "3", "--out", str(out),
                       "--quiet", "--samples", "0", "--eval-docs", "5"])
    assert code == 0 and load_checkpoint(out).step == 3


@pytest.mark.parametrize("argv, message", [
    (["train", "--model", "bigram", "--steps", "5"], "--steps does not apply to --model bigram"),
    (["train", "--model", "bigram", "--lr", "0.1"], "--lr does not apply"),
    (["train", "--model", "rnn", "--preset", "tiny"], "--preset tiny is for --model gpt"),
    (["train", "--model", "gpt", "--preset", "mlp"], "--preset mlp is for --model mlp"),
    (["train", "--model", "lstm"], "invalid choice"),
    (["graph", "--model", "rnn", "--preset", "small"], "--preset small is for --model gpt"),
    (["graph", "--gpt", "--model", "mlp"], "two different models"),
    (["graph", "a*b", "--model", "mlp"], "not both"),
])
def test_options_that_do_not_apply_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(argv))
    assert exit_info.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]  # (argparse: usage above)
    assert last_line.startswith("micrograd-gpt") and message in last_line, last_line


# ---- the library side: presets and TrainConfig know the kinds -----------------------------

def test_every_kind_has_a_default_preset_of_its_own():
    for kind, cls in MODELS.items():
        name = cls.default_preset
        assert preset_kind(name) == kind and name in presets_of(kind)
    assert preset_kind("microgpt") == "gpt" and presets_of("rnn") == ["rnn", "gru"]
    for name in PRESETS:  # every preset builds a valid config
        assert TrainConfig.from_preset(name).model_kind == preset_kind(name)


def test_train_config_defaults_follow_the_kind():
    config = TrainConfig(model_kind="rnn")
    assert config.model == PRESETS["rnn"]["model"]
    assert TrainConfig().model == PRESETS["tiny"]["model"]
    with pytest.raises(ValueError, match="steps must be 1"):
        TrainConfig(model_kind="bigram")
    assert TrainConfig(model_kind="bigram", steps=1).model == {"smoothing": 1.0}
    with pytest.raises(ValueError, match="preset for model 'gpt', not 'rnn'; presets for "
                                         "'rnn': rnn, gru"):
        TrainConfig.from_preset("tiny", model_kind="rnn")


def test_the_sequence_length_of_the_data():
    assert sequence_length(TrainConfig.from_preset("tiny")) == 16
    assert sequence_length(TrainConfig.from_preset("rnn")) == 16  # no context limit: 16
    assert sequence_length(TrainConfig.from_preset("rnn", seq_len=5)) == 5
    assert sequence_length(TrainConfig.from_preset("tiny", seq_len=5)) == 5
    with pytest.raises(ValueError, match="seq_len: 20 is longer than the model's max_seq_len"):
        sequence_length(TrainConfig.from_preset("tiny", seq_len=20))
    data = prepare_data(TrainConfig.from_preset("mlp", seq_len=3))
    assert max(map(len, data.train)) == 4 and data.num_cropped > 0


@pytest.mark.slow
def test_an_rnn_reads_text_in_pieces_of_seq_len(tmp_path):
    text = tmp_path / "story.txt"
    text.write_text("the cat sat on the mat and the dog sat on the log. " * 6)
    path = tmp_path / "story.json"
    code, stdout = run_cli(["train", "--model", "rnn", "--data", str(text), "--text",
                            "--seq-len", "24", "--steps", "1", "--eval-interval", "0",
                            "--eval-docs", "3", "--quiet", "--out", str(path),
                            "--samples", "1"])
    assert code == 0 and "---" in stdout    # a text sample
    ckpt = load_checkpoint(path)
    assert ckpt.train_config["seq_len"] == 24 and ckpt.train_config["text_mode"] is True
    assert max(map(len, prepare_data(TrainConfig(**ckpt.train_config)).train)) == 25


@pytest.mark.slow
def test_a_fresh_process_trains_then_samples_each_rung(tmp_path):
    """`python -m micrograd_gpt train --model X`, then `sample`, as a user runs them."""
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for kind in (cls.kind for cls in MODEL_CLASSES if cls.kind != DEFAULT_KIND):
        steps = [] if kind == "bigram" else ["--steps", "2", "--eval-interval", "0"]
        command = [sys.executable, "-m", "micrograd_gpt", "train", "--model", kind, *steps,
                   "--eval-docs", "10", "--samples", "2"]
        proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        # the default --out: out/<data>_<preset>.json
        checkpoint = tmp_path / "out" / f"names_{MODELS[kind].default_preset}.json"
        assert checkpoint.is_file() and "final: train loss" in proc.stdout
        proc = subprocess.run([sys.executable, "-m", "micrograd_gpt", "sample", "--checkpoint",
                               str(checkpoint), "--num", "3"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and len(proc.stdout.splitlines()) == 3, proc.stderr


@pytest.mark.slow
def test_the_ladder_benchmark_prints_one_table(capsys):
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "ladder.py"
    spec = importlib.util.spec_from_file_location("ladder_benchmark", path)
    ladder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ladder)
    rows = ladder.main(["--steps", "2", "--only", "bigram", "rnn", "microgpt_network",
                        "--markdown"])
    printed = capsys.readouterr().out
    assert [r["preset"] for r in rows] == ["bigram", "rnn", "microgpt_network"]
    assert rows[0]["steps"] == 0 and rows[1]["steps"] == rows[2]["steps"] == 2
    assert rows[0]["val"] < rows[1]["val"] < math.log(27) + 0.1   # 2 steps: barely trained
    assert all(len(r["samples"]) == 5 for r in rows)
    # the extra row is microgpt.py's network (4,192 weights), trained like tiny
    assert rows[2]["kind"] == "gpt" and rows[2]["parameters"] == 4192
    table = printed.split("| model |")[1]
    assert "| `bigram` |" in table and "| `rnn` |" in table and "1 pass" in table
    assert "| `microgpt_network` |" in table


@pytest.mark.slow
def test_the_ladder_runs_its_extra_rows_only_when_named(capsys, monkeypatch):
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "ladder.py"
    spec = importlib.util.spec_from_file_location("ladder_benchmark", path)
    ladder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ladder)
    ran = []
    monkeypatch.setattr(ladder, "run_rung", lambda preset, steps, name=None, model=None: ran.append(
        name) or dict(preset=name, kind="gpt", parameters=1, steps=steps, ms=1.0, seconds=0.0,
                      train=1.0, val=1.0, samples=[""] * 5))
    ladder.main(["--steps", "2"])
    assert ran == [preset for preset, _ in ladder.LADDER]
