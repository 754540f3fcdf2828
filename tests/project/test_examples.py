"""Every example script runs: as a subprocess, from a temporary folder, with
MICROGRAD_GPT_QUICK=1, exit code 0 and the output it promises. Files go into the temporary
folder (given on the command line), never into the repository."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # whole example scripts: the slow tier

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# script -> (extra arguments, strings its output must contain); "{tmp}" is the temp folder
EXPECTED = {
    "01_value.py": ([], ["backward():   b = 10.0, db/da = 7.0", "PASSED"]),
    "02_trace.py": ([], ["Backward pass: grad(child) += local × grad(node)",
                         "backward() agrees"]),
    "03_graph.py": (["{tmp}/graphs"], ["one training step of the tiny GPT", "nodes"]),
    "04_mlp.py": ([], ["TinyMLP(", "13 parameters", "xor(1, 1)"]),
    "05_train_names.py": (["{tmp}/names.json"], ["validation loss", "counting letter pairs:",
                                                 "made-up names: '", "checkpoint:"]),
    "06_sample.py": ([], ["temperature 0.5: '", "top-k 3:", "top-p 0.5:",
                          "the same seed gives the same names: True"]),
    "07_to_torch.py": ([], ["largest gradient difference", "copied back"]),
    "08_speed.py": ([], ["fused:", "plain:", "floats (GPT.generate)"]),
}


def test_every_example_is_tested_and_numbered_in_reading_order():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == sorted(EXPECTED)
    assert [s[:2] for s in scripts] == [f"{i:02d}" for i in range(1, len(scripts) + 1)]


def run_example(name, args, cwd):
    env = dict(os.environ, MICROGRAD_GPT_QUICK="1")
    return subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path):
    if name == "07_to_torch.py":
        pytest.importorskip("torch", reason="07_to_torch.py needs PyTorch")
    arguments, expected = EXPECTED[name]
    if name == "03_graph.py":
        from micrograd_gpt.viz.graph import renderer_available
        expected = expected + (["wrote"] if renderer_available() else ["not installed"])
    work = tmp_path / "cwd"
    work.mkdir()
    done = run_example(name, [a.format(tmp=tmp_path) for a in arguments], work)
    assert done.returncode == 0, f"{name} failed:\n{done.stdout}\n{done.stderr}"
    for text in expected:
        assert text in done.stdout, f"{name} did not print {text!r}:\n{done.stdout}"
    assert list(work.iterdir()) == [], f"{name} wrote into its working directory"
    if name == "05_train_names.py":
        # the checkpoint is where we asked, and 06 samples from it
        assert (tmp_path / "names.json").exists()
        again = run_example("06_sample.py", [str(tmp_path / "names.json")], work)
        assert again.returncode == 0, again.stderr
        assert f"loaded {tmp_path / 'names.json'}" in again.stdout


def test_torch_example_says_why_it_does_nothing_without_torch(tmp_path):
    if importlib.util.find_spec("torch") is None:
        done = run_example("07_to_torch.py", [], tmp_path)
        assert done.returncode == 0 and "skipped" in done.stdout
    else:  # simulate a machine without torch: a `torch` package that fails to import
        fake = tmp_path / "fake"
        (fake / "torch").mkdir(parents=True)
        (fake / "torch" / "__init__.py").write_text("raise ImportError('no torch here')\n")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(fake), os.environ.get("PYTHONPATH", "")]))
        done = subprocess.run([sys.executable, str(EXAMPLES / "07_to_torch.py")], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "skipped: this example needs PyTorch" in done.stdout
