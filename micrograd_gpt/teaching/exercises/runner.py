"""Running a learner's file for `check`: in a child process, with a time limit and a memory
cap, the report coming back on a channel of its own.

The checker runs your code, and your code can do anything: loop forever, call
`sys.exit(0)`, crash the interpreter, close its output, print megabytes. None of that may
pass for success. So your file is loaded and checked in a second Python process (the
*child*), while this one (the *parent*) waits and reads:

* the report comes back through a file of its own, one JSON object a line ("loading",
  "the check of `sin` started", then the report), never through the child's standard
  output, which your `print`s share; that output is kept (its start) and shown above the
  report;
* the child has `timeout` seconds (30 by default; `--timeout` on the command line). Then
  Python's `faulthandler` writes where the child was into the report file and ends it,
  so the message names the part and the line of your file that never finished; should
  even that fail, the parent kills the child a few seconds later;
* its memory is capped (MEMORY_CAP of address space, where the system allows a cap:
  Linux and most Unixes), so a list that grows without end stops with a MemoryError at
  your line instead of freezing the machine;
* a crash of the interpreter (a segmentation fault) shows in the exit status, and
  `faulthandler` says where it happened;
* `sys.exit()` in your file is an exception, which the child catches with its line;
  `os._exit()` ends a process at once, so the child wraps it to say where it was called
  first.

Whatever happens, `run_check` returns a Report: the parts, or one `problem` line saying
what happened and where. There is always a report, so `micrograd-gpt exercise check` never
ends with status 0 without one.

This is no sandbox: the child runs as you, with your files and your network, like any
script you run yourself.
"""
from __future__ import annotations

import faulthandler
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from . import tutor

__all__ = ["run_check", "child_main", "can_start_processes", "DEFAULT_TIMEOUT",
           "MAX_TIMEOUT", "MEMORY_CAP", "SHOWN_OUTPUT"]

DEFAULT_TIMEOUT = 30.0          # seconds a check may take (loading and every part)
MAX_TIMEOUT = 24 * 60 * 60.0    # a day: more is a mistake (and overflows faulthandler's timer)
MEMORY_CAP = 4 * 1024 ** 3      # bytes of address space: far more than any exercise needs
SHOWN_OUTPUT = 4000             # characters of the file's own output shown with the report
SHOWN_LINES = 40                # ... at most this many lines of it
LINE_WIDTH = 200                # ... each cut to this many characters
GRACE = 5.0                     # seconds past the timeout before the parent kills the child
NO_CHANNEL = 3                  # the child's exit status when it could not send its report


def can_start_processes():
    """Whether this Python can start a child process (not in a browser: Pyodide, WASI)."""
    return sys.platform not in ("emscripten", "wasi")


# -------------------------------------------------------------------------------------
# The parent: start the child, wait, read what came back
# -------------------------------------------------------------------------------------
def run_check(path, exercise, timeout=DEFAULT_TIMEOUT):
    """Check the file at `path` for `exercise` in a child process (see the module
    docstring); returns a `tutor.Report`, whatever the file does."""
    with tempfile.TemporaryDirectory(prefix="micrograd-gpt-check-") as folder:
        channel = Path(folder) / "report.jsonl"
        channel.touch()
        child = _start_child(path, exercise, timeout, channel)
        output = _OutputReader(child.stdout)
        status, killed = _wait(child, timeout + GRACE)
        output.join()
        events, dump = _read_channel(channel)
    report = tutor.Report(exercise.number, exercise.title, Path(path), output=output.text())
    sent = next((e["report"] for e in reversed(events) if "report" in e), None)
    if sent is not None:
        report.parts = [tutor.Part(**part) for part in sent["parts"]]
        report.problem = sent["problem"]
    else:
        report.problem = _what_happened(Path(path), events, dump, status, killed, timeout)
    return report


def _start_child(path, exercise, timeout, channel):
    """The child: this package's runner (the copy this process runs, whatever the current
    folder holds) on `path`, its output piped here, in a session of its own (so that the
    processes it may start end with it)."""
    package_root = str(Path(__file__).resolve().parents[3])
    code = (f"import sys; sys.path.insert(0, {package_root!r}); "
            "from micrograd_gpt.teaching.exercises.runner import child_main; child_main()")
    command = [sys.executable, "-c", code, str(Path(path).absolute()), str(exercise.number),
               str(channel), repr(float(timeout))]
    # unbuffered: what the file printed before it hung or crashed still arrives
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    try:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, env=env,
                                start_new_session=os.name == "posix")
    except OSError as error:
        raise RuntimeError(f"exercise: cannot start Python ({sys.executable}) to run your "
                           f"file: {error.strerror or error}") from None


def _wait(child, seconds):
    """(exit status, whether the parent had to kill the child) after at most `seconds`."""
    try:
        child.wait(timeout=seconds)
        killed = False
    except subprocess.TimeoutExpired:
        killed = True
    _kill(child)  # also whatever the learner's file started and left running
    return child.wait(), killed


def _kill(child):
    try:
        if os.name == "posix":
            os.killpg(child.pid, signal.SIGKILL)  # the child leads its own session
        elif child.poll() is None:
            child.kill()
    except (ProcessLookupError, PermissionError):
        pass  # already gone


class _OutputReader:
    """Reads the child's output as it comes, so that a child printing megabytes never
    blocks on a full pipe, and keeps only its start."""

    def __init__(self, stream, keep=4 * SHOWN_OUTPUT):
        self.kept, self.total = bytearray(), 0
        self.thread = threading.Thread(target=self._read, args=(stream, keep), daemon=True)
        self.thread.start()

    def _read(self, stream, keep):
        with stream:
            for chunk in iter(lambda: stream.read1(1 << 16), b""):
                self.total += len(chunk)
                self.kept += chunk[:max(0, keep - len(self.kept))]

    def join(self):
        self.thread.join(timeout=GRACE)

    def text(self):
        """The start of the output (SHOWN_OUTPUT characters, SHOWN_LINES lines), and how
        much more there was."""
        text = self.kept.decode("utf-8", errors="replace")
        lines = text[:SHOWN_OUTPUT].split("\n")[:SHOWN_LINES]
        shown = "\n".join(lines)
        hidden = self.total - len(shown.encode("utf-8", errors="replace"))
        lines = [line if len(line) <= LINE_WIDTH else line[:LINE_WIDTH - 1] + "…"
                 for line in lines]
        if hidden > 1:  # more than a final newline
            lines.append(f"... and {hidden:,} more bytes of output, not shown")
        return "\n".join(lines).strip("\n")


def _read_channel(channel):
    """The events the child sent (JSON lines) and the rest: what faulthandler wrote."""
    events, dump = [], []
    for line in channel.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line) if line.startswith("{") else None
        except json.JSONDecodeError:
            event = None
        if isinstance(event, dict):
            events.append(event)
        else:
            dump.append(line)
    return events, dump


def _what_happened(path, events, dump, status, killed, timeout):
    """The one line that says why the child sent no report, and where it was."""
    part = next((e["part"] for e in reversed(events) if "part" in e), None)
    during = _during(part)
    exit_call = next((e for e in events if "exit" in e), None)
    line = _dumped_line(dump, path)
    at = f" (at line {line} of {path.name})" if line else ""
    if exit_call is not None:
        where = f" at line {exit_call['line']} of {path.name}" if exit_call["line"] else ""
        return (f"your file called os._exit({exit_call['exit']}){where} {during}: remove "
                "that call (the checker runs your file, then calls your functions, in "
                "one process that must keep running)")
    if killed or any(text.startswith("Timeout (") for text in dump):
        what = f"the check of `{part}`" if part else "your file"
        doing = "finish" if part else "finish loading"
        return (f"{what} did not {doing} in {timeout:g} s{at}: an endless loop? (if it "
                "is only slow, give it more time: --timeout SECONDS)")
    if status == NO_CHANNEL and not dump:
        return ("your file closed the file the report comes back on (a file descriptor it "
                "did not open), so the check could not report: close only what you open")
    if status < 0:
        return (f"the Python running your file crashed ({_signal_name(-status)}) "
                f"{during}{at}: look for code that can crash the interpreter (ctypes, "
                "very deep recursion, os.kill)")
    return (f"the Python running your file ended with exit status {status} {during}{at}, "
            "without a report: does your file close or end things it did not start "
            "(file descriptors, the process)?")


def _during(part):
    return f"during the check of `{part}`" if part else "before the checks ran"


def _dumped_line(dump, path):
    """The line of the learner's file that faulthandler's dump shows first (the most
    recent call in their file), or None."""
    for text in dump:
        match = re.match(r'\s*File "(.*)", line (\d+)', text)
        if match and _same_file(match.group(1), path):
            return int(match.group(2))
    return None


def _same_file(name, path):
    try:
        return Path(name).resolve() == path.resolve()
    except (OSError, ValueError):
        return False


def _signal_name(number):
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    return {"SIGSEGV": "SIGSEGV, a segmentation fault", "SIGKILL": "SIGKILL, killed",
            "SIGABRT": "SIGABRT, aborted"}.get(name, name)


# -------------------------------------------------------------------------------------
# The child: load the file, check it, send the report
# -------------------------------------------------------------------------------------
def child_main():
    """The child process's program: `PATH NUMBER CHANNEL TIMEOUT` from the command line
    (see `_start_child`); it ends with os._exit, skipping whatever the learner's file
    left for the interpreter's exit (threads, atexit handlers, a closed stdout)."""
    path, number, channel_name, timeout = sys.argv[1:5]
    path = Path(path)
    channel = open(channel_name, "a", encoding="utf-8")  # noqa: SIM115 - open to the end

    def send(event):
        channel.write(json.dumps(event) + "\n")
        channel.flush()

    faulthandler.enable(file=channel)  # a crash: where it happened, into the channel
    faulthandler.dump_traceback_later(float(timeout), exit=True, file=channel)
    _cap_memory()
    phase = {"part": None}

    def part_started(name):
        phase["part"] = name
        send({"part": name})

    tutor.part_started = part_started
    really_exit = _watch_os_exit(send, path)
    send({"loading": True})
    report = _checked(path, int(number), phase)
    for stream in (sys.stdout, sys.stderr):  # what the file printed: out before the exit
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass  # the file closed it
    try:
        send({"report": report})
    except (OSError, ValueError):  # the file closed the channel: the parent says so
        really_exit(NO_CHANNEL)
    really_exit(0)


def _checked(path, number, phase):
    """The report as plain data: {"parts": [...], "problem": ...}."""
    from . import check_here, find_exercise  # the package imports this module
    try:
        report = check_here(path, find_exercise(number))
    except BaseException as error:  # noqa: BLE001 - sys.exit(), KeyboardInterrupt...
        return {"parts": [], "problem": _stopped(error, path, phase["part"])}
    return {"parts": [vars(part) for part in report.parts], "problem": report.problem}


def _stopped(error, path, part):
    """What to say when the learner's code raised something that is not an Exception
    (tutor.Learner turns those into messages): sys.exit(), KeyboardInterrupt..."""
    frames = tutor._learner_frames(error, path)
    where = f" at line {frames[-1].lineno} of {path.name}" if frames else ""
    if isinstance(error, SystemExit):
        return (f"your file called sys.exit({error.code!r}){where} {_during(part)}: remove "
                "that call (the checker runs your file, then calls your functions)")
    return f"your file raised {type(error).__name__}{where} {_during(part)}"


def _cap_memory():
    """Cap the address space at MEMORY_CAP, where the system allows it."""
    try:
        import resource
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = MEMORY_CAP if hard == resource.RLIM_INFINITY else min(MEMORY_CAP, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, AttributeError, ValueError, OSError):
        pass  # Windows has no `resource`; macOS refuses RLIMIT_AS: no cap there


def _watch_os_exit(send, path):
    """Wrap os._exit so that a call to it from the learner's file first sends where it
    was; returns the real os._exit, which the child uses itself."""
    really_exit = os._exit

    def exit_noting_where(status):
        frame = sys._getframe(1)
        while frame is not None and not _same_file(frame.f_code.co_filename, path):
            frame = frame.f_back
        send({"exit": status, "line": frame.f_lineno if frame is not None else None})
        really_exit(status)

    os._exit = exit_noting_where
    return really_exit
