"""Output paths: checked before any work starts, special files never replaced, a command's
inputs never overwritten, no file of another run replaced without --force, and temporary
files that a killed writer leaves behind recognised and cleaned up."""
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import run_main as run  # micrograd-gpt in this process
from micrograd_gpt import Value
from micrograd_gpt.training.checkpoint import load_checkpoint, save_checkpoint
from micrograd_gpt.training.data import CharTokenizer
from micrograd_gpt.common.files import (TEMPORARY_SUFFIX, atomic_write_text, check_output_path,
                                 remove_stale_temporary_files)
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.viz.plots import LineChart
from micrograd_gpt.viz.tracing import save_trace_html
from micrograd_gpt.viz.graph import GraphvizNotInstalled, draw_dot, render_graph

ROOT = Path(__file__).resolve().parents[2]
UNIX = pytest.mark.skipif(os.name != "posix" or not Path("/dev/null").exists(),
                          reason="special files (/dev/null, FIFOs, sockets) are Unix things")
QUICK = ["--steps", "2", "--eval-interval", "0", "--eval-docs", "5", "--samples", "0",
         "--quiet"]


@pytest.fixture
def specials(tmp_path):
    """name -> a path that is not a regular file, and a check it is still what it was."""
    found = {"/dev/null": Path("/dev/null")}
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    found["fifo"] = fifo
    sock = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    found["socket"] = sock
    for name, target in (("link to /dev/null", "/dev/null"), ("link to fifo", fifo)):
        link = tmp_path / name.replace(" ", "_").replace("/", "")
        link.symlink_to(target)
        found[name] = link
    found["/dev/stdout"] = Path("/dev/stdout")
    modes = {name: os.stat(path).st_mode for name, path in found.items()
             if not name.startswith("/dev/stdout")}
    yield found
    for name, mode in modes.items():   # nothing was replaced by a regular file
        assert os.stat(found[name]).st_mode == mode, name
        assert not stat.S_ISREG(os.stat(found[name]).st_mode), name
    server.close()


def refuses(fragment, call):
    with pytest.raises(ValueError, match=fragment):
        call()


# ---- check_output_path -------------------------------------------------------------------------

@UNIX
def test_special_files_are_refused_and_kept(specials):
    for name, path in specials.items():
        refuses("not a regular file|open stream", lambda: check_output_path(path, "--out"))


@pytest.mark.parametrize("make, fragment", [
    (lambda d: d, "is a folder"),
    (lambda d: str(d) + os.sep, "names a folder"),
    (lambda d: d / ".", "folder"),
    (lambda d: str(d) + "/..", "names a folder"),
    (lambda d: "", "must be a file name"),
    (lambda d: str(d / "a\x00b.json"), "must be a file name"),
    (lambda d: 42, "must be a file path"),
    (lambda d: None, "must be a file path"),
    (lambda d: d / "file.txt" / "x.json", "'.*file.txt' is a file, not a folder"),
    (lambda d: d / "file.txt" / "deeper" / "x.json", "is a file, not a folder"),
    (lambda d: d / ("n" * 300 + ".json"), "too long"),
    (lambda d: d / ("m" * 300) / "x.json", "too long"),
    (lambda d: d / "dangling", "a link to .*which does not exist"),
])
def test_paths_that_cannot_be_written(tmp_path, make, fragment):
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    refuses(fragment, lambda: check_output_path(make(tmp_path), "--out"))


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")
def test_a_folder_that_accepts_no_files():
    refuses("does not accept new files", lambda: check_output_path("/proc/x.json", "--out"))
    refuses("does not accept new files", lambda: check_output_path("/proc/new/x.json", "--out"))


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="permissions do not stop root")
def test_a_read_only_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        refuses("does not accept new files", lambda: check_output_path(locked / "x.svg"))
    finally:
        locked.chmod(0o700)


def test_what_can_be_written(tmp_path):
    assert check_output_path(tmp_path / "new.json") == tmp_path / "new.json"
    assert check_output_path(tmp_path / "a" / "b" / "c.json") == tmp_path / "a" / "b" / "c.json"
    assert not (tmp_path / "a").exists()           # folders are made when writing, not now
    (tmp_path / "real.json").write_text("{}")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    assert check_output_path(tmp_path / "link.json") == tmp_path / "real.json"
    atomic_write_text(tmp_path / "link.json", "new")  # written through: the link stays
    assert (tmp_path / "link.json").is_symlink() and (tmp_path / "real.json").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir() if TEMPORARY_SUFFIX in p.name] == []


def test_an_input_is_never_an_output(tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("emma\n")
    (tmp_path / "alias.txt").symlink_to(data)
    os.link(data, tmp_path / "hard.txt")
    sub = tmp_path / "sub"
    sub.mkdir()
    for output in (data, tmp_path / "alias.txt", tmp_path / "hard.txt", sub / ".." / "data.txt"):
        refuses("same file as the input", lambda: check_output_path(output, inputs=[data]))
    assert check_output_path(tmp_path / "other.txt", inputs=[data, None, "missing.txt"])


# ---- every writer checks its path, and replaces no special file ----------------------------

def small_model():
    tokenizer = CharTokenizer.from_documents(["ab"])
    config = GPTConfig(vocab_size=tokenizer.vocab_size, d_model=4, num_heads=1, num_layers=1,
                       max_seq_len=4)
    return GPT(config), tokenizer


def writers(tmp_path):
    model, tokenizer = small_model()
    root = Value(2.0, label="a") * 3.0
    root.backward()
    chart = LineChart("loss")
    chart.add([(0, 1.0), (1, 0.5)], "train", "#000")
    return {
        "atomic_write_text": lambda p: atomic_write_text(p, "x"),
        "save_checkpoint": lambda p: save_checkpoint(p, model=model, tokenizer=tokenizer,
                                                     step=0),
        "save_trace_html": lambda p: save_trace_html(root, p),
        "LineChart.save": lambda p: chart.save(p),
    }


@UNIX
def test_every_writer_refuses_special_files(tmp_path, specials):
    for name, write in writers(tmp_path).items():
        for special in ("/dev/null", "fifo", "socket", "link to /dev/null", "link to fifo"):
            with pytest.raises(ValueError, match="not a regular file"):
                write(specials[special])
    dot = draw_dot(Value(1.0) * 2)
    for suffix, target in ((".svg", "/dev/null"), (".gv", specials["fifo"]),
                           (".png", specials["socket"])):
        link = tmp_path / f"drawing{suffix}"
        link.symlink_to(target)
        with pytest.raises(ValueError, match="not a regular file"):
            render_graph(dot, link)


def test_every_writer_refuses_folders_and_files_in_the_way(tmp_path):
    (tmp_path / "file.txt").write_text("keep")
    for name, write in writers(tmp_path).items():
        for bad, fragment in ((tmp_path, "is a folder"), (tmp_path / "file.txt" / "x", "is a file")):
            with pytest.raises(ValueError, match=fragment):
                write(bad)
    for bad, fragment in ((tmp_path / "d.svg", "is a folder"), (tmp_path / "file.txt" / "x.svg",
                                                                  "is a file")):
        (tmp_path / "d.svg").mkdir(exist_ok=True)
        with pytest.raises(ValueError, match=fragment):
            render_graph(draw_dot(Value(1.0) * 2), bad)
    assert (tmp_path / "file.txt").read_text() == "keep"


# ---- the commands: checked before any work ---------------------------------------------------

@pytest.fixture
def no_training(monkeypatch):
    """Fail if a training step, a data preparation or a GPT step's graph starts."""
    import micrograd_gpt.cli.graph as graph_cli   # imported before anything is patched
    import micrograd_gpt.training.engines as engines_module  # the Value engine's step
    import micrograd_gpt.training.loop as train_module

    def refuse(*args, **kwargs):
        raise AssertionError("work started before the output path was checked")
    monkeypatch.setattr(engines_module, "train_step", refuse)
    monkeypatch.setattr(train_module, "prepare_data", refuse)
    monkeypatch.setattr(graph_cli, "training_step_graph", refuse)


def bad_outputs(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    outs = [str(tmp_path), str(tmp_path / "file.txt" / "x.svg"),
            str(tmp_path / ("n" * 300 + ".svg"))]
    if Path("/proc/self").exists():
        outs.append("/proc/x.svg")
    if os.name == "posix":
        outs.append("/dev/null")
    return outs


def test_commands_check_their_output_before_any_work(tmp_path, no_training):
    for out in bad_outputs(tmp_path):
        json_out = out[:-4] + ".json" if out.endswith(".svg") else out
        for argv in (["train", *QUICK, "--out", json_out],
                     ["graph", "--gpt", "-o", out],
                     ["graph", "a*b", "--values", "a=1,b=2", "-o", out],
                     ["trace", "a*b", "--values", "a=1,b=2", "--html", out]):
            code, stdout, stderr = run(argv)
            assert code == 2, (argv, stderr)
            assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
            assert stdout == "" or argv[0] != "trace"   # trace prints nothing before failing


def test_plot_never_overwrites_its_checkpoint(tmp_path):
    model, tokenizer = small_model()
    ckpt = save_checkpoint(tmp_path / "run.svg", model=model, tokenizer=tokenizer, step=0)
    before = ckpt.read_bytes()
    (tmp_path / "alias.svg").symlink_to(ckpt)
    for argv in (["plot", "--checkpoint", str(ckpt), "-o", str(ckpt)],
                 ["plot", "--checkpoint", str(ckpt)],        # the default: run.svg again
                 ["plot", "--checkpoint", str(ckpt), "-o", str(tmp_path / "alias.svg")]):
        code, _, stderr = run(argv)
        assert code == 2 and "same file as the input" in stderr, stderr
    assert ckpt.read_bytes() == before and load_checkpoint(ckpt).step == 0


def test_train_never_overwrites_its_data(tmp_path, no_training):
    data = tmp_path / "words.txt"
    data.write_text("emma\nava\n")
    before = data.read_bytes()
    code, _, stderr = run(["train", *QUICK, "--data", str(data), "--out", str(data)])
    assert code == 2 and "same file as the input" in stderr
    assert data.read_bytes() == before


@pytest.mark.slow
def test_a_checkpoint_of_another_run_needs_force(tmp_path):
    out = tmp_path / "run.json"
    assert run(["train", *QUICK, "--out", str(out)])[0] == 0
    first = out.read_bytes()
    for other in (["train", *QUICK, "--out", str(out)],
                  ["train", *QUICK, "--seed", "1", "--out", str(out)]):
        code, _, stderr = run(other)
        assert code == 2 and "already exists" in stderr and "--force" in stderr
        assert f"--resume {out}" in stderr
        assert out.read_bytes() == first
    # a file that is not a checkpoint at all is not replaced either
    notes = tmp_path / "notes.json"
    notes.write_text("my notes")
    assert run(["train", *QUICK, "--out", str(notes)])[0] == 2
    assert notes.read_text() == "my notes"
    # --force replaces; resuming writes to the checkpoint it continues, no --force needed
    assert run(["train", *QUICK, "--seed", "1", "--out", str(out), "--force"])[0] == 0
    assert out.read_bytes() != first
    assert run(["train", "--resume", str(out), "--steps", "3", "--quiet", "--samples",
                "0"])[0] == 0
    assert load_checkpoint(out).step == 3
    elsewhere = tmp_path / "copy.json"
    elsewhere.write_text("x")
    code, _, stderr = run(["train", "--resume", str(out), "--steps", "4", "--out",
                           str(elsewhere), "--quiet", "--samples", "0"])
    assert code == 2 and "--force" in stderr and elsewhere.read_text() == "x"


def test_pictures_say_when_they_replace_a_file(tmp_path):
    out = tmp_path / "g.gv"
    code, stdout, _ = run(["graph", "a*b", "--values", "a=1,b=2", "-o", str(out)])
    assert code == 0 and "replaced" not in stdout
    code, stdout, _ = run(["graph", "a*b", "--values", "a=1,b=2", "-o", str(out)])
    assert code == 0 and "it replaced the file that was there" in stdout
    page = tmp_path / "t.html"
    page.write_text("old")
    code, stdout, _ = run(["trace", "a*b", "--values", "a=1,b=2", "--html", str(page)])
    assert code == 0 and "it replaced the file that was there" in stdout


@pytest.fixture
def no_graphviz(tmp_path, monkeypatch):
    import micrograd_gpt.viz.graph as viz
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(viz, "find_fallback_renderer", lambda: None)


def test_without_dot_an_existing_gv_is_never_replaced(tmp_path, no_graphviz):
    mine = tmp_path / "x.gv"
    mine.write_text("digraph { my -> own }")
    root = Value(1.0, label="a") * 2.0
    dot = draw_dot(root)
    with pytest.raises(GraphvizNotInstalled) as info:
        render_graph(dot, tmp_path / "x.pdf")
    assert mine.read_text() == "digraph { my -> own }"
    assert info.value.source_path == tmp_path / "x.2.gv"
    assert (tmp_path / "x.2.gv").read_text() == dot.source
    assert "x.gv already existed and was left untouched" in str(info.value)
    with pytest.raises(GraphvizNotInstalled) as again:      # the same drawing: no new file
        render_graph(dot, tmp_path / "x.svg")
    assert again.value.source_path == tmp_path / "x.2.gv"
    other = draw_dot(root, rankdir="TB")
    with pytest.raises(GraphvizNotInstalled) as third:      # another drawing: the next name
        render_graph(other, tmp_path / "x.png")
    assert third.value.source_path == tmp_path / "x.3.gv"
    assert sorted(p.name for p in tmp_path.glob("x*")) == ["x.2.gv", "x.3.gv", "x.gv"]


# ---- temporary files ------------------------------------------------------------------------------

def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def fake_temporary(folder, target_name, pid, host=None, age=0.0):
    from micrograd_gpt.common import files
    token = f"t{len(list(folder.iterdir()))}"   # a new name each time
    path = folder / f".{target_name}.{host or files._HOST}-{pid}.{token}{TEMPORARY_SUFFIX}"
    path.write_text("half a file")
    if age:
        then = time.time() - age
        os.utime(path, (then, then))
    return path


@pytest.mark.skipif(os.name != "posix", reason="process ids are checked on Unix")
def test_stale_temporary_files_are_removed_and_nothing_else(tmp_path):
    target = tmp_path / "run.json"
    gone = fake_temporary(tmp_path, "run.json", dead_pid())
    old = fake_temporary(tmp_path, "run.json", os.getpid(), age=2 * 24 * 3600)
    old_elsewhere = fake_temporary(tmp_path, "run.json", 1, host="0123abcd", age=3 * 86400)
    running = fake_temporary(tmp_path, "run.json", os.getpid())
    elsewhere = fake_temporary(tmp_path, "run.json", dead_pid(), host="0123abcd")
    other_target = fake_temporary(tmp_path, "other.json", dead_pid())
    keep = [running, elsewhere, other_target]
    for name in (".run.json.tmp", "run.json" + TEMPORARY_SUFFIX, ".run.json.x" + TEMPORARY_SUFFIX,
                 ".run.json.abc-1.x" + TEMPORARY_SUFFIX):
        (tmp_path / name).write_text("not ours")
        keep.append(tmp_path / name)
    folder_like = tmp_path / f".run.json.{'0' * 8}-1.zz{TEMPORARY_SUFFIX}"
    folder_like.mkdir()
    keep.append(folder_like)
    removed = remove_stale_temporary_files(target)
    assert sorted(removed) == sorted([gone, old, old_elsewhere])
    assert all(p.exists() for p in keep)
    atomic_write_text(target, "{}")            # writing tidies up as well
    assert target.read_text() == "{}" and all(p.exists() for p in keep)


@pytest.mark.skipif(os.name != "posix", reason="kill -9 is a Unix thing")
def test_a_writer_killed_with_sigkill_leaves_a_file_the_next_write_removes(tmp_path):
    target = tmp_path / "big.json"
    code = ("import sys, time\nfrom micrograd_gpt.common.files import atomic_write\n"
            "def slow(f):\n    f.write('{\"partial\": ')\n    f.flush()\n"
            "    print('writing', flush=True)\n    time.sleep(60)\n"
            f"atomic_write({str(target)!r}, slow)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [p for p in tmp_path.iterdir() if p.name.endswith(TEMPORARY_SUFFIX)]
    assert len(left) == 1 and left[0].name.startswith(".big.json.")
    assert f"-{proc.pid}." in left[0].name           # recognisable: target, writer, suffix
    assert not target.exists()
    atomic_write_text(target, '{"whole": true}')
    assert [p.name for p in tmp_path.iterdir()] == ["big.json"]


def test_exercise_start_checks_its_folder_first(tmp_path):
    (tmp_path / "file.txt").write_text("x")
    bad = [tmp_path / "file.txt", tmp_path / "file.txt" / "sub"]
    if Path("/proc/self").exists():
        bad.append(Path("/proc/exercises"))
    for folder in bad:
        code, _, stderr = run(["exercise", "start", str(folder)])
        assert code == 2 and "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1
    assert (tmp_path / "file.txt").read_text() == "x"
