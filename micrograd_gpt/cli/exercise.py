"""`micrograd-gpt exercise list | start [FOLDER] | check [N | FILE]`: exercises beside the
course, and a tutor that checks your answers part by part."""
from __future__ import annotations

import shlex
from pathlib import Path

from ..teaching.exercises import EXERCISES, check, learner_file, start
from ..teaching.exercises.runner import DEFAULT_TIMEOUT, MAX_TIMEOUT
from .options import positive_float

DEFAULT_FOLDER = "exercises"


def add_arguments(parser):
    parser.description = (
        "Exercises beside the course, in reading order: `start` copies them into a folder "
        "for you to edit, `check` runs yours and says which parts are right, which are "
        "wrong (with the numbers), and which are still to do.")
    parser.epilog = ("example: micrograd-gpt exercise start && "
                     "micrograd-gpt exercise check 1")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="list the exercises, with their chapters")
    starting = actions.add_parser("start", help="copy the exercises into FOLDER to edit them")
    starting.add_argument("folder", nargs="?", default=DEFAULT_FOLDER,
                          help=f"where to put them (default ./{DEFAULT_FOLDER}); files "
                               "already there are kept")
    checking = actions.add_parser("check", help="check an exercise: a number or a file")
    checking.add_argument("target", nargs="?", default=None,
                          help="an exercise number (its file in --folder) or a file path; "
                               "none: every exercise in --folder")
    checking.add_argument("--folder", default=None,
                          help=f"where your exercises are (default ./{DEFAULT_FOLDER}, or "
                               "the current folder if there is none)")
    checking.add_argument("--timeout", type=_seconds, default=DEFAULT_TIMEOUT,
                          metavar="SECONDS",
                          help=f"how long the check of one file may run (default "
                               f"{DEFAULT_TIMEOUT:g} s); your file runs in a child process "
                               "that is stopped then, with a message saying where it was")
    checking.epilog = ("check runs your file as you, like any script you run (it is not a "
                       "sandbox): only check files you trust")


def _seconds(text):
    """An argparse type: a number of seconds in (0, MAX_TIMEOUT]."""
    return positive_float(text, upper=MAX_TIMEOUT)


def run(args):
    if args.action == "list":
        return _list()
    if args.action == "start":
        return _start(args.folder)
    folder = Path(args.folder or (DEFAULT_FOLDER if Path(DEFAULT_FOLDER).is_dir() else "."))
    if args.target is None:
        return _check_all(folder, args.timeout)
    return _check_one(_target_path(args.target, folder), args.timeout)


def _list():
    print("number  chapter  file                            what you write")
    for e in EXERCISES:
        print(f"{e.number:>6}  {e.chapter:>7}  {e.filename:<30}  {e.title}")
    print("\nmicrograd-gpt exercise start copies them to ./exercises/; "
          "then: micrograd-gpt exercise check 1")
    return 0


def _start(folder):
    copied, kept = start(folder)
    if copied:
        print(f"copied {len(copied)} exercise(s) into {Path(folder)}/")
    if kept:
        print(f"kept {len(kept)} file(s) already there: "
              f"{', '.join(p.name for p in kept)} (your work is never overwritten)")
    following = _first_unfinished(folder)
    where = "" if folder == DEFAULT_FOLDER else f" --folder {shlex.quote(str(folder))}"
    if following is None:
        print(f"\nevery exercise in {Path(folder)}/ passes its check. Well done!")
        return 0
    done = {1: "", 2: "exercise 1 passes; "}.get(
        following.number, f"exercises 1 to {following.number - 1} pass; ")
    print(f"\n{done}open {Path(folder) / following.filename}, read its docstring, replace "
          f"the TODOs, then run:\n    micrograd-gpt exercise check {following.number}{where}")
    return 0


def _first_unfinished(folder):
    """The first exercise, in reading order, whose file in `folder` does not pass its check
    (None when all of them pass): where a learner coming back goes on."""
    for exercise in EXERCISES:
        path = Path(folder) / exercise.filename
        if not path.is_file() or not check(path, exercise).passed:
            return exercise
    return None


def _target_path(target, folder):
    if target.isdigit():
        return learner_file(int(target), folder)
    return Path(target)


def _check_one(path, timeout):
    report = check(path, timeout=timeout)
    print(report)
    return 0 if report.passed else 1


def _check_all(folder, timeout):
    """One line per exercise found in `folder`."""
    found = 0
    all_passed = True
    for exercise in EXERCISES:
        matches = sorted(folder.glob(f"{exercise.number:02d}_*.py"))
        if not matches:
            continue
        found += 1
        report = check(matches[0], exercise, timeout=timeout)
        all_passed &= report.passed
        right = sum(p.state == "right" for p in report.parts)
        status = "passed" if report.passed else (
            "could not run" if report.problem else f"{right} of {len(report.parts)} parts right")
        print(f"{exercise.number:>3}  {matches[0].name:<32} {status}")
    if not found:
        raise ValueError(f"exercise: no exercise files in {folder}/: run "
                         f"`micrograd-gpt exercise start` first")
    print(f"\nmicrograd-gpt exercise check N shows what is right and wrong in exercise N")
    return 0 if all_passed else 1
