"""Processes that end badly: kill -9 of a torch-engine run *during a save* (made certain by a
test hook that stops the run inside its second save, at a known point, before the kill),
and torchrun starting more processes than a step has documents. The save never loses
the run: the checkpoint before it loads, and the resumed run ends bit for bit where an
uninterrupted one ends; torchrun's processes each say one clear line and write nothing."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from micrograd_gpt.common.files import TEMPORARY_SUFFIX
from micrograd_gpt.training.checkpoint import load_checkpoint

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
RUN = ["--preset", "tiny", "--steps", "6", "--eval-interval", "2", "--eval-docs", "5",
       "--samples", "0", "--quiet", "--engine", "torch", "--device", "cpu"]

# The test hook: micrograd-gpt run with json.dump (which writes a checkpoint's text into
# its temporary file) and os.replace (which then puts the file in place) wrapped, so that
# the N-th checkpoint save stops at POINT, says so in the file MARKER, and waits for the
# kill: "writing" stops with half the checkpoint's text in the temporary file, "renaming"
# with all of it written and synced, just before the rename.
HOOK = """
import json, os, sys, time
marker, point, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
saves = 0
real_dump, real_replace = json.dump, os.replace

def wait_for_the_kill():
    with open(marker, "w") as f:
        f.write(str(saves))
    time.sleep(600)

def dump(obj, f, **options):
    global saves
    if isinstance(obj, dict) and obj.get("format") == "micrograd-gpt-checkpoint":
        saves += 1
        if point == "writing" and saves == nth:
            text = json.dumps(obj, **options)
            f.write(text[:len(text) // 2])
            f.flush()
            os.fsync(f.fileno())
            wait_for_the_kill()
    return real_dump(obj, f, **options)

def replace(source, target):
    if point == "renaming" and saves == nth and str(target).endswith(".json"):
        wait_for_the_kill()
    return real_replace(source, target)

json.dump, os.replace = dump, replace
from micrograd_gpt.cli import main
sys.exit(main(sys.argv[4:]))
"""


def micrograd_gpt(*arguments, timeout=300):
    done = subprocess.run([sys.executable, "-m", "micrograd_gpt", *arguments], env=ENV,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    pytest.importorskip("torch", reason="the torch engine needs torch")
    path = tmp_path_factory.mktemp("whole") / "run.json"
    micrograd_gpt("train", *RUN, "--out", str(path))
    return load_checkpoint(path)


def killed_during_save(folder, point, nth=2):
    """A run killed with SIGKILL inside its `nth` checkpoint save, at `point`."""
    marker, out = folder / "in_the_save", folder / "run.json"
    child = subprocess.Popen([sys.executable, "-c", HOOK, str(marker), point, str(nth),
                              "train", *RUN, "--out", str(out)], env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        while not marker.exists() or not marker.read_text():
            assert child.poll() is None, child.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the run never reached its save"
            time.sleep(0.05)
        assert marker.read_text() == str(nth)
        os.kill(child.pid, signal.SIGKILL)  # inside the save: the hook is waiting there
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    return out


def same_run(a, b):
    """Two checkpoints of the same run, bit for bit: weights, optimizer, losses, batches."""
    assert a.step == b.step
    assert a.model.state_dict() == b.model.state_dict()
    assert a.optimizer_state == b.optimizer_state
    assert a.history == b.history
    assert a.rng_state == b.rng_state


@pytest.mark.parametrize("point", ["writing", "renaming"])
def test_kill_9_during_a_save_keeps_the_last_checkpoint_and_resumes_bit_for_bit(
        tmp_path, uninterrupted, point):
    out = killed_during_save(tmp_path, point)
    left = [p for p in tmp_path.iterdir() if p.name.endswith(TEMPORARY_SUFFIX)]
    assert len(left) == 1  # the killed save's temporary file, never renamed
    saved = load_checkpoint(out)  # the save before it, whole
    assert saved.step == 2 and saved.history["val"][-1][0] == 2
    if point == "writing":
        with pytest.raises(json.JSONDecodeError):
            json.loads(left[0].read_text())   # half a checkpoint, as the kill left it
    else:
        assert json.loads(left[0].read_text())["step"] == 4

    micrograd_gpt("train", "--resume", str(out), "--engine", "torch", "--device", "cpu",
                  "--samples", "0", "--quiet")
    resumed = load_checkpoint(out)
    same_run(resumed, uninterrupted)
    assert resumed.step == 6 and len(resumed.history["train"]) == 6
    # the next save of the same file removed what the killed writer left behind
    assert not any(p.name.endswith(TEMPORARY_SUFFIX) for p in tmp_path.iterdir())


def test_the_hook_stops_the_save_it_is_told_to(tmp_path, uninterrupted):
    # the first save (step 2), before the rename: no checkpoint exists yet at all
    out = killed_during_save(tmp_path, "renaming", nth=1)
    assert not out.exists()


def torchrun(processes, arguments, cwd, timeout=300):
    """`torchrun --standalone --nproc_per_node N -m micrograd_gpt ARGUMENTS`."""
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         f"--nproc_per_node={processes}", "-m", "micrograd_gpt", *arguments],
        cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)


def test_torchrun_with_fewer_documents_than_processes_says_so_once(tmp_path):
    pytest.importorskip("torch", reason="torchrun comes with torch")
    out = tmp_path / "ddp.json"
    done = torchrun(2, ["train", "--engine", "torch", "--device", "cpu", "--batch-size", "1",
                        "--steps", "2", "--eval-docs", "5", "--samples", "0",
                        "--out", str(out)], tmp_path)
    assert done.returncode != 0
    said = ("micrograd-gpt train: error: batch_size: 1 document(s) per step cannot be "
            "shared by 2 processes; use a batch size of at least 2, or fewer processes "
            "(all 2 processes stop with exit status 2)")
    ours = [line for line in (done.stdout + done.stderr).splitlines()
            if line.startswith("micrograd-gpt")]
    assert ours == [said], done.stderr[-3000:]  # one line, from the first process only
    # torchrun reports the failed processes in its own words; none of ours is a traceback
    assert "micrograd_gpt/" not in done.stderr, done.stderr[-3000:]
    assert not out.exists() and list(tmp_path.iterdir()) == []
