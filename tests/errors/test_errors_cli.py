"""Command-line edges: nonsense counts refused by argparse, expressions that start with a
minus, a closed pipe (`| head`), the hint after training, and Ctrl-C: one clear message,
the documented exit status, never a traceback."""
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_main as run  # micrograd-gpt in this process
from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.viz.expression import build_expression

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
QUICK = ["--steps", "2", "--eval-interval", "0", "--eval-docs", "5", "--quiet"]


def assert_one_clear_error(code, err, fragment, status=2):
    assert code == status, err
    assert "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("micrograd-gpt") and "error:" in last and fragment in last, err


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "names.json"
    assert run(["train", *QUICK, "--samples", "0", "--out", str(path)])[0] == 0
    return path


# ---- counts and numbers that make no sense --------------------------------------------------

@pytest.mark.parametrize("argv, fragment", [
    (["graph", "--gpt", "--depth", "0"], "--depth: must be >= 1, got 0"),
    (["graph", "--gpt", "--depth", "-1"], "--depth: must be >= 1"),
    (["graph", "--gpt", "--depth", "1.5"], "--depth: expected an integer"),
    (["graph", "--gpt", "--batch-size", "0"], "--batch-size: must be >= 1"),
    (["graph", "a", "--max-nodes", "0"], "--max-nodes: must be >= 1"),
    (["trace", "a", "--max-rows", "0"], "--max-rows: must be >= 2, got 0"),
    (["trace", "a", "--max-rows", "1"], "--max-rows: must be >= 2"),
    (["trace", "a", "--max-rows", "-3"], "--max-rows"),
    (["trace", "a", "--max-rows", "many"], "--max-rows: expected an integer"),
    (["train", "--steps", "0"], "--steps: must be >= 1"),
    (["train", "--steps", "1e3"], "--steps: expected an integer"),
    (["train", "--batch-size", "-2"], "--batch-size: must be >= 1"),
    (["train", "--lr", "nan"], "--lr: must be a finite number > 0"),
    (["train", "--lr", "inf"], "--lr: must be a finite number > 0"),
    (["train", "--lr", "0"], "--lr: must be a finite number > 0"),
    (["train", "--temperature", "-0.5"], "--temperature"),
    (["train", "--samples", "-1"], "--samples: must be >= 0"),
    (["sample", "--checkpoint", "x.json", "--num", "0"], "--num: must be >= 1"),
    (["sample", "--checkpoint", "x.json", "--top-k", "0"], "--top-k: must be >= 1"),
    (["sample", "--checkpoint", "x.json", "--top-p", "0"], "--top-p: must be in (0, 1]"),
    (["sample", "--checkpoint", "x.json", "--top-p", "nan"], "--top-p"),
    (["sample", "--checkpoint", "x.json", "--temperature", "0"], "--temperature"),
    (["sample", "--checkpoint", "x.json", "--temperature", "inf"], "--temperature"),
    (["sample", "--checkpoint", "x.json", "--max-new-tokens", "0"], "--max-new-tokens"),
])
def test_nonsense_numbers_are_usage_errors(argv, fragment):
    code, _, err = run(argv)
    assert_one_clear_error(code, err, fragment)


@pytest.mark.slow
def test_a_vanishing_temperature_samples_greedily(checkpoint):
    code, out, err = run(["sample", "--checkpoint", str(checkpoint), "--num", "4",
                          "--temperature", "1e-320", "--prompt", "a", "--max-new-tokens", "6"])
    assert code == 0, err
    names = out.splitlines()
    assert len(names) == 4 and len(set(names)) == 1        # greedy: one answer
    _, again, _ = run(["sample", "--checkpoint", str(checkpoint), "--num", "2",
                       "--temperature", "1e-300", "--prompt", "a", "--max-new-tokens", "6",
                       "--seed", "9"])
    assert again.splitlines() == names[:2]                # whatever the seed


# ---- an expression that starts with a minus ------------------------------------------------------

@pytest.mark.parametrize("expression", ["-a*b", "-a*b*a", "-(a+b)*a", "-2*a*b", "-a**2*b",
                                        "-tanh(a)*b",
                                        "- a*b"])
@pytest.mark.parametrize("where", ["first", "last"])
def test_an_expression_may_start_with_a_minus(expression, where, tmp_path):
    values = ["--values", "a=2,b=-3"]
    argv = ["trace", expression, *values] if where == "first" else ["trace", *values, expression]
    code, out, err = run(argv)
    assert code == 0, err
    root, leaves = build_expression(expression, {"a": 2.0, "b": -3.0})
    root.backward()
    final = out.split("Gradients at the end")[1]
    assert f"{leaves['a'].grad:.6g}" in final
    gv = tmp_path / "g.gv"
    code, out, err = run(["graph", *([expression, "-o", str(gv)] if where == "first" else
                                     ["-o", str(gv), expression]), *values])
    assert code == 0 and gv.exists(), err


@pytest.mark.parametrize("argv, fragment", [
    (["trace", "a", "--bogus"], "unrecognized arguments: --bogus"),
    (["trace", "-a*b", "--bogus"], "unrecognized arguments"),
    (["trace", "--bogus", "-a*b"], "unrecognized arguments"),
    (["trace", "-a*b", "-b"], "unrecognized arguments"),
    (["trace", "--a"], "unrecognized arguments"),
    (["trace", "-a*"], "unrecognized arguments"),
    (["sample", "--checkpoint", "x.json", "-a"], "unrecognized arguments: -a"),
    (["trace"], "give an expression"),
])
def test_what_is_not_an_expression_is_still_an_error(argv, fragment):
    code, _, err = run(argv)
    assert_one_clear_error(code, err, fragment)


# ---- a closed pipe ------------------------------------------------------------------------------

def piped_into_head(argv, lines=2):
    """`python -m micrograd_gpt ARGV | head -LINES`, with real pipes."""
    producer = subprocess.Popen([sys.executable, "-m", "micrograd_gpt", *argv], env=ENV,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", f"-{lines}"], stdin=producer.stdout,
                            stdout=subprocess.PIPE)
    producer.stdout.close()            # only head reads it now: when head exits, the pipe breaks
    shown = head.communicate(timeout=120)[0].decode()
    err = producer.stderr.read().decode()
    producer.stderr.close()
    return producer.wait(timeout=120), shown, err


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs `head` and Unix pipes")
@pytest.mark.parametrize("argv", [
    ["trace", " + ".join(f"a*b*{i}" for i in range(400)), "--values", "a=2,b=3"],
    ["demo"],
    ["--help"],
    ["trace", "--help"],
])
def test_a_closed_pipe_ends_the_command_quietly(argv):
    code, shown, err = piped_into_head(argv)
    assert code == 0, err
    assert len(shown.splitlines()) <= 2
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception" not in err


# ---- after training: two commands to paste -------------------------------------------------------

@pytest.mark.slow
def test_the_hint_after_training_is_three_commands(tmp_path):
    path = tmp_path / "run.json"
    code, out, _ = run(["train", *QUICK, "--samples", "0", "--out", str(path)])
    assert code == 0
    hint = out.split("next:\n")[1].splitlines()
    assert [line.split()[:2] for line in hint] == [["micrograd-gpt", "sample"],
                                                  ["micrograd-gpt", "plot"],
                                                  ["micrograd-gpt", "inspect"]]
    assert all("|" not in line and f"--checkpoint {path}" in line for line in hint)
    for line in hint:          # each pastes and runs as it is
        argv = shlex.split(line)[1:]
        if argv[0] == "plot":
            argv += ["-o", str(tmp_path / "loss.svg")]
        assert run(argv)[0] == 0


# ---- Ctrl-C -----------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_ctrl_c_during_training_says_which_step_is_saved_and_how_to_go_on(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "micrograd_gpt", "train", "--steps", "60", "--eval-interval",
         "0", "--eval-docs", "5", "--samples", "0"],
        cwd=tmp_path, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "/60 |" not in seen:          # the first progress line: training is under way
        char = proc.stderr.read(1)
        assert char, seen
        seen += char
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines[-2].startswith("micrograd-gpt train: interrupted; out/names_tiny.json holds "
                                "step ")
    step = int(lines[-2].split("holds step ")[1].split()[0])
    assert lines[-1].strip() == "micrograd-gpt train --resume out/names_tiny.json"
    saved = load_checkpoint(tmp_path / "out" / "names_tiny.json")
    assert saved.step == step >= 1 and saved.train_config["steps"] == 60
    done = subprocess.run([sys.executable, "-m", "micrograd_gpt", *lines[-1].split()[1:],
                           "--quiet", "--samples", "0", "--eval-docs", "5"],
                          cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert load_checkpoint(tmp_path / "out" / "names_tiny.json").step == 60


def test_ctrl_c_elsewhere_exits_130_with_one_line(monkeypatch):
    import micrograd_gpt.cli.demo as demo_cli

    def interrupted(**kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(demo_cli, "demo", interrupted)
    code, out, err = run(["demo"])
    assert code == 130 and err.strip() == "micrograd-gpt demo: interrupted" and out == ""


def test_ctrl_c_in_train_before_any_checkpoint(tmp_path, monkeypatch):
    import micrograd_gpt.training.engines as engines_module  # the Value engine's step

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(engines_module, "train_step", interrupted)
    code, _, err = run(["train", *QUICK, "--out", str(tmp_path / "r.json")])
    assert code == 130 and "Traceback" not in err
    assert "interrupted before a checkpoint was written" in err
    assert not (tmp_path / "r.json").exists()
