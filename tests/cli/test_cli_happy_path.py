"""The happy path as a newcomer walks it: README lines that can be run again, one error
line under torchrun, an estimate before a long run, a note on a run that is all warm-up,
help examples one a line, a checkpoint suggested when it is left out, `exercise start`
pointing at the next exercise, and a `demo` that says what it shows."""
import io
import random
import re
import shlex
import shutil
from pathlib import Path

import pytest

from micrograd_gpt.cli import build_parser, main
from micrograd_gpt.cli import train as train_command
from micrograd_gpt.teaching import exercises
from micrograd_gpt.training.checkpoint import load_checkpoint
from micrograd_gpt.training.sampling import sample
from micrograd_gpt.training.settings import TrainConfig
from micrograd_gpt.training.progress import ProgressLine

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUICK = ["--eval-interval", "0", "--eval-docs", "10"]


# ---- the README's train lines can be run in order, and again --------------------------

def readme_train_lines():
    """Every `train` command in the README's bash blocks, as argument lists."""
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if "train" not in words or not any("micrograd" in w for w in words):
                continue
            lines.append(words[words.index("train"):])
    return lines


def test_no_two_readme_train_lines_write_the_same_checkpoint():
    """Two different lines never meet in one file (the same line again is what the README's
    note on running a line again is for)."""
    outputs, seen = {}, set()
    for words in readme_train_lines():
        if tuple(words) in seen:
            continue
        seen.add(tuple(words))
        args = build_parser("train").parse_args(words)
        if args.resume is not None:
            continue  # continues its own run, in its own file
        out = args.out or str(train_command.default_out(train_command._config(args)))
        outputs.setdefault(out, []).append(" ".join(words))
    assert len(outputs) >= 10
    shared = {out: lines for out, lines in outputs.items() if len(lines) > 1}
    assert not shared, shared
    resumed = [w[w.index("--resume") + 1] for w in readme_train_lines() if "--resume" in w]
    assert resumed and all(path in outputs for path in resumed)  # each from a line above


def test_the_readme_says_what_to_add_to_run_a_line_again():
    note = README.split("**Running a line again.**", 1)[1].split("\n\n", 1)[0]
    for flag in ("--force", "--resume", "--out"):
        assert flag in note
    assert "already exists" in note


def test_running_the_default_line_twice_stops_before_any_work(tmp_path, monkeypatch,
                                                                 capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "names_tiny.json").write_text("{}")
    assert main(["train"]) == 2
    error = capsys.readouterr().err
    assert "already exists" in error and "--force" in error and "--resume" in error


# ---- under torchrun: the first process alone reports an error ---------------------------

def test_under_torchrun_only_the_first_process_reports_an_error(tmp_path, monkeypatch,
                                                                 capsys):
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    argv = ["train", "--engine", "torch", "--out", str(taken)]
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    assert main(argv) == 2
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("RANK", "0")
    assert main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and "already exists" in lines[0]
    assert lines[0].endswith("(all 2 processes stop with exit status 2)")


@pytest.mark.slow
def test_torchrun_prints_one_error_line_of_ours(tmp_path, torch):
    from tests.training.test_engines import torchrun
    taken = tmp_path / "taken.json"
    taken.write_text("{}")
    done = torchrun(2, ["train", "--engine", "torch", "--out", str(taken)], tmp_path,
                    timeout=180)
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if "micrograd-gpt train: error" in line]
    assert len(ours) == 1 and "already exists" in ours[0], done.stderr[-3000:]
    assert "micrograd_gpt/cli" not in done.stderr  # no traceback through our code


# ---- a long Value run says so first; a run shorter than its warm-up too -----------------

def test_a_long_value_run_gets_one_line_with_both_estimates(monkeypatch, capsys):
    times = {"values": 3.0, "torch": 0.02}
    monkeypatch.setattr(train_command, "estimate_step_seconds",
                        lambda engine, *args: times[engine])
    config = TrainConfig.from_preset("small", data="text")
    train_command._say_if_long(config, 2000, "values")
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("estimate: 2,000 steps with Values take about 1 hour 40 "
                               "minutes here (a step about 3.0 s")
    assert "with --engine torch about 40 seconds (a step 20 ms, timed just now)" in lines[0]
    # a short run, another engine, a model counted in one pass: nothing to say
    train_command._say_if_long(config, 50, "values")
    train_command._say_if_long(config, 2000, "torch")
    train_command._say_if_long(TrainConfig.from_preset("bigram"), 1, "values")
    assert capsys.readouterr().err == ""


def test_without_torch_the_estimate_says_how_to_get_it(monkeypatch, capsys):
    def no_torch(engine, *args):
        if engine == "torch":
            raise ValueError("engine: 'torch' needs PyTorch")
        return 10.0
    monkeypatch.setattr(train_command, "estimate_step_seconds", no_torch)
    train_command._say_if_long(TrainConfig.from_preset("tiny"), 500, "values")
    line = capsys.readouterr().err
    assert "about 83 minutes" in line and "--engine torch takes a fraction" in line
    assert "pip install torch==" in line


@pytest.mark.parametrize("preset, data", [("tiny", "names"), ("rnn", "names")])
def test_the_step_estimate_is_a_measured_time(preset, data):
    config = TrainConfig.from_preset(preset, data=data)
    seconds = train_command.estimate_step_seconds("values", config, 27, 16)
    assert 1e-4 < seconds < 60


@pytest.mark.slow
def test_the_torch_step_estimate_is_a_measured_time(torch):
    config = TrainConfig.from_preset("small", data="text")
    assert 1e-5 < train_command.estimate_step_seconds("torch", config, 63, 32) < 60


@pytest.mark.slow
def test_a_run_shorter_than_its_warm_up_says_so_and_samples_come_one_by_one(tmp_path,
                                                                           capsys):
    path = tmp_path / "short.json"
    assert main(["train", "--steps", "5", *QUICK, "--samples", "3", "--out", str(path)]) == 0
    out, err = capsys.readouterr()
    warm = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(warm) == 1
    assert ("--steps 5 is not longer than the tiny preset's warm-up (20 steps" in warm[0]
            and "warm-up 4 below" in warm[0])
    assert "estimate:" not in err
    assert "training done; measuring the final train and validation losses" in err
    printed = out.split("samples (temperature 0.8):\n")[1].split("next:")[0].split("\n")[:3]
    saved = load_checkpoint(path)
    texts = sample(saved.model, saved.tokenizer, 3, rng=random.Random(0), temperature=0.8)
    assert printed == [f"  {text}" for text in texts]  # one at a time: the same texts


def test_a_plain_log_hears_from_a_slow_run_and_of_the_final_losses():
    log = io.StringIO()
    progress = ProgressLine(total_steps=1000, stream=log)  # a line every 50 steps...
    for step in range(1, 4):
        progress.update(step, 2.0, num_tokens=10, seconds=ProgressLine.QUIET_SECONDS / 2,
                        lr=0.01)
    assert [line.split(" |")[0] for line in log.getvalue().splitlines()] == ["step    2/1000"]
    progress = ProgressLine(total_steps=2, stream=log)
    progress.update(1, 2.0, 10, 0.1, 0.01)
    progress.update(2, 2.0, 10, 0.1, 0.01)
    progress.close()
    assert log.getvalue().endswith(
        "training done; measuring the final train and validation losses...\n")


# ---- help, missing checkpoints, exercises, demo ----------------------------------------

def test_train_help_lists_its_examples_one_a_line(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    examples = text.split("examples:\n", 1)[1].splitlines()
    assert "  micrograd-gpt train" in examples
    assert "  micrograd-gpt train --data text --preset small" in examples
    assert " | " not in text.split("examples:", 1)[1]


@pytest.mark.parametrize("command", [["sample"], ["plot"], ["inspect", "emma"]])
def test_a_missing_checkpoint_is_suggested(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(command) == 2
    error = capsys.readouterr().err
    assert "--checkpoint: which trained model?" in error
    assert "`micrograd-gpt train` trains one and writes out/names_tiny.json" in error
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "names_tiny.json").write_text("{}")
    assert main(command) == 2
    assert "the default run's is here: --checkpoint out/names_tiny.json" in (
        capsys.readouterr().err)


@pytest.mark.slow
def test_exercise_start_again_points_at_the_first_exercise_not_passed(tmp_path,
                                                                     monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "start"]) == 0
    assert "check 1\n" in capsys.readouterr().out
    for number in (1, 2):
        name = exercises.find_exercise(number).filename
        shutil.copy(ROOT / "exercise_solutions" / name, tmp_path / "exercises" / name)
    assert main(["exercise", "start"]) == 0
    out = capsys.readouterr().out
    assert "exercises 1 to 2 pass; open exercises/03_predict_the_trace.py" in out
    assert out.rstrip().endswith("micrograd-gpt exercise check 3")


def test_demo_says_what_each_result_is(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The book's functions")
    assert "random" in out.split("\n\n")[0]  # not a trained model, and it says so
    for call in ("make_gpt_params(config, rng)", "count_parameters(config)",
                 "gpt_forward([1, 2, 3, 4, 5], params, config)", "softmax(logits)",
                 "generate(params, config, [1, 2, 3], 10"):
        assert call in out
    assert "= 3,200 + 2,048 + 2·(12,288 + 128) + 64" in out  # adds up to 30,144
    assert "barely above 1/100 = 0.01" in out
