"""Engine options and the numbers a resumed run brings along: --threads at most the machine's
CPUs, --device only in the documented forms (cpu, cuda, cuda:N), an optimizer state that
counts more steps than its run, weights or optimizer buffers beyond float32's range for
the torch engine, and options that mean nothing for a model fit in one pass. Each one
clear line (exit 2), before any training."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_main as run  # micrograd-gpt in this process
from micrograd_gpt.training.checkpoint import CheckpointError, load_checkpoint
from micrograd_gpt.training.engines import (check_device, check_engine_options, make_engine,
                                            max_threads, set_threads)
from micrograd_gpt.training.settings import TrainConfig

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--steps", "2", "--eval-interval", "0", "--eval-docs", "5", "--samples", "0",
         "--quiet"]


def assert_one_clear_error(status, err, fragment):
    """Exit 2 with one error line saying `fragment` (a resumed run may say first how its
    schedule continues: a note, not an error)."""
    assert status == 2, err
    lines = [line for line in err.strip().splitlines() if not line.startswith("resume: ")]
    assert "Traceback" not in err and len(lines) == 1, err
    assert fragment in lines[0], err


@pytest.fixture(scope="module")
def torch_checkpoint(tmp_path_factory):
    """A run of 2 steps with the torch engine (Adam), on the CPU."""
    pytest.importorskip("torch", reason="the torch engine needs torch")
    path = tmp_path_factory.mktemp("torch") / "run.json"
    status, _, err = run(["train", *QUICK, "--engine", "torch", "--device", "cpu",
                          "--out", str(path)])
    assert status == 0, err
    return path


def tampered(source, path, change):
    payload = json.loads(source.read_text())
    change(payload)
    path.write_text(json.dumps(payload))
    return path


# ---- --threads ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["train", *QUICK], ["sample", "--checkpoint", "x.json"]])
def test_more_threads_than_cpus_are_refused_before_anything(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run([*command, "--engine", "torch", "--threads", "100000"])
    assert_one_clear_error(status, err, f"threads: at most {max_threads()}, the CPUs of this "
                                        "machine")
    assert out == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("threads", [0, -1, max_threads() + 1, 10 ** 30, True, 2.0, "2"])
def test_the_library_refuses_a_thread_count_out_of_bounds(threads):
    with pytest.raises(ValueError, match="threads"):
        check_engine_options("torch", threads=threads)
    with pytest.raises(ValueError, match="threads"):
        set_threads("torch", threads)


@pytest.mark.slow
def test_every_thread_count_up_to_the_cpus_is_taken(torch_checkpoint):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        for threads in {1, max_threads()}:
            set_threads("torch", threads)
            assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)


# ---- --device -------------------------------------------------------------------------------

@pytest.mark.parametrize("device", ["cpu:1", "cpu:0", "cuda:x", "cuda:", "cuda:-1", "CUDA",
                                    " cpu", "cpu ", "mps", "tpu", "cuda:0:1", "gpu", ""])
def test_a_device_outside_the_documented_forms_is_refused(device):
    with pytest.raises(ValueError, match="device: must be 'cpu', 'cuda' or 'cuda:N'"):
        check_device(device)
    status, _, err = run(["train", *QUICK, "--engine", "torch", "--device", device])
    assert_one_clear_error(status, err, "device: must be 'cpu', 'cuda' or 'cuda:N'")


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:0", "cuda:12", None])
def test_the_documented_forms_are_taken(device):
    assert check_device(device) == device


def test_a_gpu_number_beyond_the_gpus_is_refused(torch_checkpoint):
    torch = pytest.importorskip("torch")
    beyond = f"cuda:{torch.cuda.device_count()}"
    status, _, err = run(["sample", "--checkpoint", str(torch_checkpoint), "--engine",
                          "torch", "--device", beyond])
    expected = ("sees no GPU" if not torch.cuda.is_available() else
                f"PyTorch sees {torch.cuda.device_count()} GPU(s) here")
    assert_one_clear_error(status, err, expected)


def test_the_value_engine_still_refuses_torch_options_first():
    status, _, err = run(["train", *QUICK, "--threads", "100000"])
    assert_one_clear_error(status, err, "threads: only the torch engine takes one")


# ---- numbers a resumed run brings along ---------------------------------------------------

def _steps(count):
    def change(payload):
        payload["optimizer"]["steps"] = count
    return change


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["values", "torch"])
@pytest.mark.parametrize("count", [10 ** 30, 3])
def test_an_optimizer_that_counts_more_steps_than_its_run_is_refused(
        torch_checkpoint, tmp_path, engine, count):
    path = tampered(torch_checkpoint, tmp_path / "adam.json", _steps(count))
    status, out, err = run(["train", "--resume", str(path), "--steps", "4", "--engine", engine,
                            "--samples", "0", "--quiet"])
    assert status == 2 and "Traceback" not in err, err
    assert f"its step count {float(count):.3g} is more than the 2 training steps" in err
    assert load_checkpoint(path).step == 2  # nothing was trained or saved


def test_restore_optimizer_refuses_it_from_python(torch_checkpoint, tmp_path):
    saved = load_checkpoint(tampered(torch_checkpoint, tmp_path / "a.json", _steps(10 ** 30)))
    engine = make_engine("values", saved.model, TrainConfig(**saved.train_config))
    with pytest.raises(CheckpointError, match="its step count 1e\\+30"):
        saved.restore_optimizer(engine.optimizer)


def _huge_weight(payload):
    payload["weights"]["wte.weight"][0][0] = 1e300


def _huge_buffer(payload):
    payload["optimizer"]["buffers"]["v"][5] = 1e300


@pytest.mark.parametrize("change, fragment", [
    (_huge_weight, "weights['wte.weight']: holds 1e+300, beyond the range of float32"),
    (_huge_buffer, "buffer 'v': holds 1e+300, beyond the range of float32"),
])
def test_numbers_beyond_float32_are_refused_by_the_float32_engine(torch_checkpoint, tmp_path,
                                                                   change, fragment):
    path = tampered(torch_checkpoint, tmp_path / "huge.json", change)
    status, _, err = run(["train", "--resume", str(path), "--steps", "4", "--engine", "torch",
                          "--device", "cpu", "--samples", "0", "--quiet"])
    assert_one_clear_error(status, err, fragment)
    assert "--dtype float64" in err


def test_a_huge_weight_is_refused_by_the_torch_sampler_too(torch_checkpoint, tmp_path):
    path = tampered(torch_checkpoint, tmp_path / "huge.json", _huge_weight)
    status, _, err = run(["sample", "--checkpoint", str(path), "--engine", "torch",
                          "--device", "cpu"])
    assert_one_clear_error(status, err, "beyond the range of float32")


def test_float64_takes_what_float32_cannot(torch_checkpoint, tmp_path):
    path = tampered(torch_checkpoint, tmp_path / "huge.json", _huge_buffer)
    status, _, err = run(["train", "--resume", str(path), "--steps", "3", "--engine", "torch",
                          "--device", "cpu", "--dtype", "float64", "--samples", "0",
                          "--quiet"])
    # float64 holds 1e300; the step it takes with it is the run's business (it may well
    # diverge), but it is not refused as out of range
    assert "beyond the range" not in err


# ---- options that mean nothing for the counting bigram -------------------------------------

@pytest.mark.parametrize("option", [["--health"], ["--steps", "5"], ["--lr", "0.1"],
                                    ["--batch-size", "4"], ["--eval-interval", "2"]])
def test_gradient_options_are_refused_for_the_counting_bigram(tmp_path, option):
    out = tmp_path / "bigram.json"
    status, _, err = run(["train", "--model", "bigram", *option, "--out", str(out)])
    assert_one_clear_error(status, err, f"{option[0]} does not apply to --model bigram")
    assert not out.exists()


@pytest.mark.parametrize("option", [["--health"], ["--steps", "5"], ["--eval-interval", "2"]])
def test_and_when_its_run_is_resumed(tmp_path, option):
    path = tmp_path / "bigram.json"
    assert run(["train", "--model", "bigram", "--samples", "0", "--quiet",
                "--out", str(path)])[0] == 0
    before = path.read_bytes()
    status, _, err = run(["train", "--resume", str(path), *option, "--quiet"])
    assert_one_clear_error(status, err, f"{option[0]} does not apply to --model bigram")
    assert path.read_bytes() == before


def test_health_on_a_model_trained_by_gradient_is_still_taken(tmp_path):
    path = tmp_path / "nb.json"
    status, _, err = run(["train", "--model", "neural_bigram", "--health", *QUICK,
                          "--out", str(path)])
    assert status == 0, err
    assert load_checkpoint(path).history["health"]


def test_the_form_of_the_options_is_checked_without_importing_torch():
    # so that the command line answers at once, and the same way where torch is missing
    code = ("import sys\n"
            "from micrograd_gpt.training.engines import check_engine_options, max_threads\n"
            "for options in ({'device': 'cpu:1'}, {'threads': max_threads() + 1}):\n"
            "    try:\n"
            "        check_engine_options('torch', **options)\n"
            "    except ValueError as error:\n"
            "        print(str(error).split(':')[0])\n"
            "print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), timeout=60)
    assert done.stdout.split() == ["device", "threads", "False"], done.stderr
