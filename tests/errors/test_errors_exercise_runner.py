"""The exercise checker survives the learner's file. It runs in a child process with a time
limit and a memory cap, and whatever the file does (exit, hang, crash the interpreter,
close its output, print megabytes, be a link to something that is not Python) the check
ends in one line that says what happened and where, with a non-zero exit status: never a
hang, a traceback, or an exit status 0 without a report."""
import os
import sys
from pathlib import Path

import pytest

from helpers import run_main as run  # micrograd-gpt in this process (the child is real)
from micrograd_gpt.teaching import exercises
from micrograd_gpt.teaching.exercises import runner

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "exercise_solutions" / "01_value_ops.py"
POSIX = pytest.mark.skipif(os.name != "posix", reason="signals and fds are POSIX things")


def learner_file(tmp_path, head="", in_sin=None, name="01_value_ops.py"):
    """Exercise 1's solution with `head` (lines of code) before it, and `in_sin` as the
    first line of its sin(); the line numbers of both are known to the tests."""
    text = SOLUTION.read_text(encoding="utf-8")
    if in_sin is not None:
        assert "def sin(x):\n" in text
        text = text.replace("def sin(x):\n", f"def sin(x):\n    {in_sin}\n", 1)
    path = tmp_path / name
    path.write_text(head + text, encoding="utf-8")
    return path


def line_of(path, code):
    return path.read_text(encoding="utf-8").split("\n").index(code) + 1


def check(path, *options):
    """`micrograd-gpt exercise check PATH OPTIONS`: (status, the report, stderr)."""
    return run(["exercise", "check", str(path), *options])


def assert_one_problem(status, out, fragment):
    """The check failed (status 1) with a report that ends in one problem saying
    `fragment` (after it, at most the learner's line that it quotes)."""
    assert status == 1, out
    assert "Traceback" not in out
    problem = out.split("\n\n")[-1]
    assert out.startswith("Exercise 1:") and fragment in problem, out
    assert not problem.startswith("[") and "parts right" not in problem


# ---- the file ends the process ------------------------------------------------------------

@pytest.mark.parametrize("head, said", [
    ("import sys\nsys.exit(0)\n", "your file called sys.exit(0) at line 2 of 01_value_ops.py "
                                  "before the checks ran"),
    ("import sys\nsys.exit(3)\n", "your file called sys.exit(3) at line 2"),
    ("exit()\n", "your file called sys.exit(None) at line 1"),
    ("raise SystemExit('bye')\n", "sys.exit('bye') at line 1"),
    ("import os\nos._exit(0)\n", "your file called os._exit(0) at line 2 of 01_value_ops.py "
                                 "before the checks ran"),
    ("import os\nos._exit(7)\n", "os._exit(7) at line 2"),
    ("raise KeyboardInterrupt\n", "your file raised KeyboardInterrupt at line 1"),
])
@pytest.mark.slow
def test_a_file_that_ends_the_process_while_loading_is_reported_with_its_line(
        tmp_path, head, said):
    status, out, err = check(learner_file(tmp_path, head))
    assert_one_problem(status, out, said)
    assert err == ""


@pytest.mark.parametrize("call", ["import sys; sys.exit(0)", "import os; os._exit(0)"])
def test_an_exit_inside_a_checked_function_names_the_part_and_the_line(tmp_path, call):
    path = learner_file(tmp_path, in_sin=call)
    status, out, _ = check(path)
    assert_one_problem(status, out, f"at line {line_of(path, '    ' + call)} of "
                                    "01_value_ops.py during the check of `sin`")


# ---- the file never ends ------------------------------------------------------------------

@pytest.mark.slow
def test_an_endless_loop_while_loading_is_stopped_at_the_time_limit(tmp_path):
    status, out, _ = check(learner_file(tmp_path, "x = 0\nwhile True:\n    x += 1\n"),
                           "--timeout", "1")
    assert_one_problem(status, out, "your file did not finish loading in 1 s (at line ")
    assert "an endless loop?" in out and "--timeout" in out


@pytest.mark.slow
def test_an_endless_loop_in_a_part_names_the_part_and_its_line(tmp_path):
    path = learner_file(tmp_path, in_sin="while True: pass")
    status, out, _ = check(path, "--timeout", "1.5")
    assert_one_problem(status, out, f"the check of `sin` did not finish in 1.5 s (at line "
                                    f"{line_of(path, '    while True: pass')} of "
                                    "01_value_ops.py): an endless loop?")


@pytest.mark.slow
def test_a_child_that_even_ignores_its_timer_is_killed(tmp_path, monkeypatch):
    # the learner's file switches off the child's own timer: the parent still stops it
    monkeypatch.setattr(runner, "GRACE", 1.0)
    path = learner_file(tmp_path, "import faulthandler, time\n"
                                  "faulthandler.cancel_dump_traceback_later()\n"
                                  "time.sleep(60)\n")
    status, out, _ = check(path, "--timeout", "0.5")
    assert_one_problem(status, out, "your file did not finish loading in 0.5 s")


# ---- the file breaks the process around it --------------------------------------------------

@POSIX
@pytest.mark.slow
def test_a_crash_of_the_interpreter_is_named_with_its_line(tmp_path):
    status, out, _ = check(learner_file(tmp_path, "import ctypes\nctypes.string_at(0)\n"))
    assert_one_problem(status, out, "the Python running your file crashed (SIGSEGV, a "
                                    "segmentation fault) before the checks ran (at line 2")


@POSIX
@pytest.mark.slow
def test_a_file_that_kills_its_own_process_is_reported(tmp_path):
    path = learner_file(tmp_path, in_sin="import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    status, out, _ = check(path)
    assert_one_problem(status, out, "crashed (SIGKILL, killed) during the check of `sin`")


@POSIX
def test_closing_standard_output_and_error_does_not_lose_the_report(tmp_path):
    head = "import os, sys\nsys.stdout.close()\nos.close(1)\nos.close(2)\n"
    status, out, _ = check(learner_file(tmp_path, head))
    assert status == 0 and out.strip().endswith("All 5 parts right. Well done!"), out


@POSIX
def test_closing_the_report_channel_is_a_failure_not_a_pass(tmp_path):
    # every file descriptor above stderr closed: the report cannot be sent
    status, out, _ = check(learner_file(tmp_path, "import os\nos.closerange(3, 4096)\n"))
    assert_one_problem(status, out, "your file closed the file the report comes back on")


@pytest.mark.slow
def test_megabytes_of_output_are_cut_and_the_report_still_comes(tmp_path):
    head = ("import sys\nprint('x' * 3_000_000)\nprint('e' * 2_000_000, file=sys.stderr)\n"
            "for i in range(10_000):\n    print(i)\n")
    status, out, _ = check(learner_file(tmp_path, head))
    assert status == 0 and out.strip().endswith("Well done!"), out[-500:]
    assert "what your file printed:" in out
    assert "more bytes of output, not shown" in out
    assert len(out) < 10_000  # the 5 MB never reach the screen


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="the memory cap (RLIMIT_AS) is enforced on Linux")
def test_memory_that_grows_without_end_stops_at_the_cap_with_the_line(tmp_path):
    head = f"hoard = bytearray({runner.MEMORY_CAP + 2 ** 30})\n"  # more than the cap
    status, out, _ = check(learner_file(tmp_path, head))
    assert_one_problem(status, out, "01_value_ops.py failed while loading: MemoryError")
    assert "at line 1 of 01_value_ops.py" in out and "grows without end" in out


# ---- the file is not what it seems ----------------------------------------------------------

@POSIX
def test_a_link_to_a_file_without_py_is_loaded_as_python(tmp_path):
    answer = tmp_path / "answer.txt"
    answer.write_text(SOLUTION.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "01_value_ops.py").symlink_to(answer)
    status, out, _ = check(tmp_path / "01_value_ops.py")
    assert status == 0 and "All 5 parts right" in out, out


@POSIX
def test_a_link_to_a_file_that_is_not_python_says_what_python_says(tmp_path):
    notes = tmp_path / "hostname"
    notes.write_text("my machine\n", encoding="utf-8")
    (tmp_path / "01_value_ops.py").symlink_to(notes)
    status, out, _ = run(["exercise", "check", "1", "--folder", str(tmp_path)])
    assert_one_problem(status, out, "invalid syntax, at line 1")
    assert "Python cannot read 01_value_ops.py" in out


def test_a_file_that_is_not_utf8_is_reported(tmp_path):
    path = tmp_path / "01_value_ops.py"
    path.write_bytes(b"x = '\xff\xfe'\n")
    status, out, _ = check(path)
    assert_one_problem(status, out, "Python cannot read 01_value_ops.py")


# ---- options and the library ----------------------------------------------------------------

@pytest.mark.parametrize("value, fragment", [
    ("0", "must be in (0, 86400]"), ("-1", "must be in (0, 86400]"),
    ("nan", "must be in (0, 86400]"), ("1e9", "must be in (0, 86400]"),
    ("soon", "expected a number"),
])
def test_a_bad_timeout_is_refused_by_name(tmp_path, value, fragment):
    status, _, err = check(learner_file(tmp_path), "--timeout", value)
    assert status == 2 and "--timeout" in err and fragment in err, err


@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf"), True, "30"])
def test_the_library_refuses_a_bad_timeout(tmp_path, timeout):
    with pytest.raises(ValueError, match="timeout"):
        exercises.check(learner_file(tmp_path), timeout=timeout)


def test_check_reports_the_learners_output_and_parts_from_the_child(tmp_path):
    path = learner_file(tmp_path, "print('hello from the learner')\n")
    report = exercises.check(path, timeout=20)
    assert report.passed and report.output == "hello from the learner"
    assert "what your file printed:\n    hello from the learner" in str(report)


def test_where_no_process_can_be_started_the_check_runs_here(tmp_path, monkeypatch):
    monkeypatch.setattr(exercises, "can_start_processes", lambda: False)
    monkeypatch.setattr(runner, "run_check", None)  # would fail if it were used
    assert exercises.check(learner_file(tmp_path)).passed


@pytest.mark.slow
def test_checking_a_whole_folder_goes_on_past_a_file_that_hangs(tmp_path):
    learner_file(tmp_path, "while True: pass\n")
    good = (ROOT / "exercise_solutions" / "08_linear_backward.py").read_text()
    (tmp_path / "08_linear_backward.py").write_text(good)
    status, out, _ = run(["exercise", "check", "--folder", str(tmp_path), "--timeout", "1"])
    assert status == 1
    assert "01_value_ops.py" in out and "could not run" in out
    assert "08_linear_backward.py" in out and "passed" in out


# ---- exercise start ---------------------------------------------------------------------------

@pytest.mark.parametrize("folder, fragment", [
    ("d" * 300, "too long for this file system"),
    ("", "folder: got an empty name"),
    ("   ", "folder: got an empty name"),
])
def test_start_refuses_a_folder_name_it_cannot_use(tmp_path, monkeypatch, folder, fragment):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["exercise", "start", folder])
    assert status == 2 and out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and fragment in err, err
    assert list(tmp_path.iterdir()) == []  # nothing was copied anywhere


def test_the_hint_after_start_quotes_a_folder_with_spaces(tmp_path):
    status, out, _ = run(["exercise", "start", str(tmp_path / "my exercises")])
    assert status == 0
    assert f"--folder '{tmp_path / 'my exercises'}'" in out
