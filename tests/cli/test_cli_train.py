"""`micrograd-gpt train | sample | plot`: short runs in-process, one real subprocess, and
bad arguments (one clear message, exit code 2, no traceback)."""
import dataclasses
import os
import subprocess
import sys
import xml.dom.minidom
from pathlib import Path

import pytest

from micrograd_gpt.cli import build_parser, main
from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.training.resume import RESUMABLE_FIELDS
from micrograd_gpt.training.settings import TrainConfig

# a few steps of the default (tiny) preset
QUICK = ["--steps", "3", "--eval-interval", "2", "--eval-docs", "20", "--quiet"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short training run shared by the tests below: (checkpoint path, its stdout)."""
    path = tmp_path_factory.mktemp("run") / "names.json"
    import contextlib
    import io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["train", *QUICK, "--out", str(path), "--samples", "4"])
    assert code == 0
    return path, out.getvalue()


@pytest.mark.slow
def test_train_writes_a_checkpoint_and_prints_losses_and_samples(trained):
    path, stdout = trained
    assert "final: train loss" in stdout and "val loss" in stdout
    assert f"checkpoint: {path}" in stdout
    samples = stdout.split("samples (temperature 0.8):\n")[1].splitlines()[:4]
    assert len(samples) == 4 and all(s.startswith("  ") for s in samples)
    ckpt = load_checkpoint(path)
    assert ckpt.step == 3 and ckpt.train_config["preset"] == "tiny"
    assert [s for s, _ in ckpt.history["val"]] == [0, 2, 3]


@pytest.mark.slow
def test_resume_to_more_steps(trained, tmp_path, capsys):
    path, _ = trained
    resumed = tmp_path / "more.json"
    assert main(["train", "--resume", str(path), "--steps", "4", "--out", str(resumed),
                 "--samples", "0", "--quiet", "--eval-docs", "10"]) == 0
    assert load_checkpoint(resumed).step == 4
    assert load_checkpoint(path).step == 3      # --out kept the original as it was


@pytest.mark.slow
def test_sample_with_prompt_and_filters(trained, capsys):
    path, _ = trained
    args = ["sample", "--checkpoint", str(path), "--num", "5", "--temperature", "0.8",
            "--top-k", "10", "--top-p", "0.9", "--prompt", "ma", "--seed", "1"]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and all(line.startswith("ma") for line in lines)
    assert main(args) == 0
    assert capsys.readouterr().out.splitlines() == lines     # same seed, same names


def test_plot_writes_an_svg(trained, tmp_path, capsys):
    path, _ = trained
    svg = tmp_path / "loss.svg"
    assert main(["plot", "--checkpoint", str(path), "-o", str(svg)]) == 0
    doc = xml.dom.minidom.parse(str(svg))
    assert doc.documentElement.tagName == "svg"
    assert len(doc.getElementsByTagName("polyline")) >= 2     # train and validation


@pytest.mark.slow
def test_text_mode_on_a_file(tmp_path, capsys):
    text = tmp_path / "story.txt"
    text.write_text("the cat sat on the mat and the dog sat on the log. " * 4)
    assert main(["train", "--data", str(text), "--text", "--steps", "2", "--quiet",
                 "--eval-docs", "5", "--out", str(tmp_path / "story.json"),
                 "--samples", "1"]) == 0
    assert "---" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["train", "--steps", "0"], "--steps: must be >= 1"),
    (["train", "--lr", "-1"], "--lr: must be a finite number > 0"),
    (["train", "--preset", "huge"], "invalid choice"),
    (["train", "--data", "no/such/file.txt"], "does not exist"),
    (["sample", "--checkpoint", "no/such.json"], "does not exist"),
    (["sample"], "--checkpoint"),
    (["sample", "--checkpoint", "x.json", "--top-p", "1.5"], "--top-p: must be in (0, 1]"),
])
def test_bad_arguments_exit_2_with_one_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        code = main(argv)
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("micrograd-gpt")


def test_bad_file_contents_and_resume_options(trained, tmp_path, capsys):
    path, _ = trained
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"\x00\x01\x02abc")
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(path.read_text()[:1000])
    cases = [(["train", "--data", str(binary)], "not a text file"),
             (["sample", "--checkpoint", str(corrupt)], "truncated"),
             (["plot", "--checkpoint", str(corrupt)], "truncated"),
             (["sample", "--checkpoint", str(path), "--prompt", "Zed"], "not in the vocabulary"),
             (["train", "--resume", str(path), "--lr", "0.5"], "--lr cannot be given")]
    for argv, message in cases:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err


# a value for each train option that sets a TrainConfig field (None: a flag)
OPTION_VALUES = {"steps": "3", "eval_interval": "0", "eval_docs": "5", "record_health": None,
                 "batch_size": "2", "lr": "0.5", "seed": "3", "seq_len": "5", "data": "text",
                 "model": "rnn", "preset": "small"}


@pytest.mark.slow
def test_with_resume_exactly_the_resumable_settings_may_be_given(trained, tmp_path, capsys):
    """One list decides (resume.RESUMABLE_FIELDS): an option for a setting in it is taken
    with --resume, any other is refused, and the message names those that may change."""
    path, _ = trained
    parser = build_parser("train")._subparsers._group_actions[0].choices["train"]
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    options = {a.dest: a.option_strings[0] for a in parser._actions if a.dest in fields}
    assert set(options) == set(OPTION_VALUES)
    may_change = [options[name] for name in options if name in RESUMABLE_FIELDS]
    assert "--steps" in may_change and "--lr" not in may_change
    for name, option in options.items():
        value = [] if OPTION_VALUES[name] is None else [OPTION_VALUES[name]]
        code = main(["train", "--resume", str(path), option, *value, "--quiet",
                     "--samples", "0", "--out", str(tmp_path / f"{name}.json")])
        err = capsys.readouterr().err
        if name in RESUMABLE_FIELDS:
            assert code == 0, err
        else:
            assert code == 2 and f"{option} cannot be given with --resume" in err, err
            assert all(other in err.split("only ")[1] for other in may_change), err


@pytest.mark.slow
def test_real_subprocess(tmp_path):
    """The installed entry point's twin, `python -m micrograd_gpt`, as a user runs it."""
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(repo) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "micrograd_gpt", "train", "--steps", "3", "--eval-interval",
         "0", "--eval-docs", "20", "--samples", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "final: train loss" in proc.stdout
    assert "step 3/3" in proc.stderr            # the progress goes to stderr
    assert (tmp_path / "out" / "names_tiny.json").is_file()   # the default --out
