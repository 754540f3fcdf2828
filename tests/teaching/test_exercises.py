"""The exercises and their tutor: every solution passes, every untouched stub fails with a
message that says what to do, a wrong answer is caught with the numbers (and, for a
derivative, the gradcheck table), a learner's exception is one short message with the
line of their file, and the `micrograd-gpt exercise` command works as a learner uses it."""
import re
import shutil
from pathlib import Path

import pytest

from micrograd_gpt.teaching import exercises
from micrograd_gpt.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "exercise_solutions"
NUMBERS = [e.number for e in exercises.EXERCISES]


def test_every_chapter_has_an_exercise_listed_in_reading_order_with_a_stub_and_a_solution():
    assert len(exercises.EXERCISES) >= 17
    # numbered once and for all (a learner's files carry the numbers), listed by chapter
    assert sorted(NUMBERS) == list(range(1, len(NUMBERS) + 1))
    chapters = [e.chapter for e in exercises.EXERCISES]
    assert chapters == sorted(chapters)
    written = {int(p.name[:2]) for p in (ROOT / "docs").glob("[0-9][0-9]_*.md")}
    assert written <= set(chapters), f"chapters without an exercise: {written - set(chapters)}"
    stubs = sorted(p.name for p in exercises.STUBS.glob("*.py"))
    assert stubs == sorted(e.filename for e in exercises.EXERCISES)
    assert sorted(p.name for p in SOLUTIONS.glob("*.py")) == stubs
    for e in exercises.EXERCISES:
        assert e.stem.startswith(f"{e.number:02d}_")
        text = e.stub.read_text(encoding="utf-8")
        assert text.startswith(f'"""Exercise {e.number} (chapter {e.chapter}):')
        assert "TODO" in text and f"micrograd-gpt exercise check {e.number}" in text


@pytest.mark.parametrize("number", NUMBERS)
def test_the_solution_passes(number):
    exercise = exercises.find_exercise(number)
    report = exercises.check(SOLUTIONS / exercise.filename)
    assert report.passed, str(report)
    assert all(part.message for part in report.parts)
    assert str(report).endswith("Well done!")


@pytest.mark.parametrize("number", NUMBERS)
def test_the_untouched_stub_fails_and_says_what_to_do(number):
    exercise = exercises.find_exercise(number)
    report = exercises.check(exercise.stub)
    assert not report.passed and report.problem is None
    text = str(report)
    assert "Traceback" not in text
    for part in report.parts:
        assert part.state == "todo", (part.name, part.message)
        assert re.search(r"not written yet \(line \d+ still raises|is not filled in yet|"
                         r"waits for", part.message), part.message
    assert f"0 of {len(report.parts)} parts right" in text


# ---- wrong answers: the tutor finds them, says where, and shows the numbers -------------

@pytest.mark.slow
@pytest.mark.parametrize("number", NUMBERS)
def test_in_a_child_process_the_solution_passes_and_the_stub_fails(number):
    """What `exercise check` does: the file runs in a child process (the quick tier checks
    in this process, see conftest.py)."""
    exercise = exercises.find_exercise(number)
    assert exercises.check(SOLUTIONS / exercise.filename).passed
    assert not exercises.check(exercise.stub).passed


def mutated(tmp_path, number, old, new, name=None):
    """A copy of solution `number` with `old` replaced by `new` (which must be there)."""
    exercise = exercises.find_exercise(number)
    text = (SOLUTIONS / exercise.filename).read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / (name or exercise.filename)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def parts(report):
    return {part.name: part for part in report.parts}


def test_a_wrong_derivative_shows_the_gradcheck_table_at_the_input(tmp_path):
    path = mutated(tmp_path, 1, "(-math.sin(x.data),)", "(math.sin(x.data),)")
    found = parts(exercises.check(path))
    assert found["sin"].state == "right" and found["cos"].state == "wrong"
    message = found["cos"].message
    assert "At x = -2.0" in message and "backward()" in message and "numeric" in message
    assert re.search(r"\n\s*x\s+-2\s+-0\.9092974\d*\s+0\.9092974\d*\s+\S+\s+<--", message)


def test_a_wrong_layer_backward_names_the_part_and_shows_its_rows(tmp_path):
    path = mutated(tmp_path, 8, "dW = [[dy[i] * x[j]", "dW = [[dy[j % len(dy)] * x[j]")
    found = parts(exercises.check(path))
    assert found["dx"].state == found["db"].state == "right"
    message = found["dW"].message
    assert found["dW"].state == "wrong" and "dW is off at this input" in message
    assert "W[0][0]" in message and "x[0]" not in message.split("input ")[-1]
    assert "yours" in message and "backward()" in message and "<--" in message


def test_the_assignment_bug_in_the_loop_is_caught(tmp_path):
    path = mutated(tmp_path, 2, "child.grad += local * node.grad\n",
                   "child.grad = local * node.grad\n")
    found = parts(exercises.check(path))
    assert found["backward(root)"].state == "wrong"
    assert "backward() gives 7.0" in found["backward(root)"].message


def test_calling_the_engine_instead_of_writing_the_loop_is_refused(tmp_path):
    path = mutated(tmp_path, 2, "    root.grad = 1.0                        # d root / d root\n",
                   "    root.backward()\n    return\n")
    message = parts(exercises.check(path))["backward(root)"].message
    assert "write the loop itself" in message


def test_an_expression_that_hides_the_bug_is_explained(tmp_path):
    path = mutated(tmp_path, 2, "(lambda a, b: a * a + a * b, [2.0, 3.0])",
                   "(lambda a, b: (a * b).tanh(), [0.5, 0.2])")
    message = parts(exercises.check(path))["an expression that catches the bug"].message
    assert "gets this one right" in message and "every Value feeds one operation" in message


def test_a_wrong_prediction_names_the_cell_and_the_rule_but_keeps_the_value_back(tmp_path):
    path = mutated(tmp_path, 3, '("e", "a", -2, 4, -4)', '("e", "a", -2, 4, -8)')
    report = exercises.check(path)
    found = parts(report)
    assert found["FORWARD"].state == "right"
    message = found["BACKWARD"].message
    assert message.startswith("row 5 (e -> a): after = -8 is off. Remember: grad(child) +=")
    assert "-4" not in str(report).replace(str(path), "")    # the right value is kept back
    assert "add --show" in str(report)
    assert "The right answer: row 5's after is -4" in report.text(show=True)
    # the whole trace (every answer) only once everything is right
    assert "Backward pass" not in str(report)


def test_a_wrong_answer_to_a_question_is_explained_with_the_run(tmp_path):
    path = mutated(tmp_path, 4, 'WHAT_HAPPENS = "b"', 'WHAT_HAPPENS = "a"')
    found = parts(exercises.check(path))["WHAT_HAPPENS"]
    assert found.message.startswith("not a: are the two runs' losses the same, step for step?")
    assert "largest weight reaches" in found.message
    assert found.answer.startswith("b) each step moves the weights")


def test_a_sampler_that_uses_the_global_random_is_caught(tmp_path):
    path = mutated(tmp_path, 11, "r = rng.random() * total", "import random; r = random.random() * total")
    found = parts(exercises.check(path))
    assert found["sample_top_p is repeatable"].state == "wrong"
    assert "global `random`" in found["sample_top_p is repeatable"].message


def test_a_learner_exception_is_one_message_with_their_line(tmp_path):
    path = mutated(tmp_path, 7, "    top = max(z)                                  # e^(z - top) <= 1: no overflow\n",
                   "    top = max(z) / 0\n")
    report = exercises.check(path)
    message = parts(report)["softmax"].message
    assert message.startswith("your code raised ZeroDivisionError")
    line = (path.read_text().split("\n").index("    top = max(z) / 0")) + 1
    assert f"at line {line} of 07_softmax_cross_entropy.py" in message
    assert "top = max(z) / 0" in message and "Traceback" not in str(report)


def test_a_file_python_cannot_read_is_reported_with_its_line(tmp_path):
    path = tmp_path / "09_layernorm_backward.py"
    path.write_text('"""Exercise 9."""\ndef layernorm_backward(x, g, b, dy:\n    pass\n')
    report = exercises.check(path)
    assert not report.passed and report.parts == []
    assert "Python cannot read 09_layernorm_backward.py" in report.problem
    assert "line 2" in report.problem and "Traceback" not in str(report)


def test_which_exercise_a_file_is(tmp_path):
    assert exercises.exercise_of_file(Path("03_mine.py")).number == 3
    assert exercises.exercise_of_file(Path("7.py")).number == 7
    other = tmp_path / "attempt.py"
    other.write_text('"""Exercise 10 (chapter 7): ..."""\n')
    assert exercises.exercise_of_file(other).number == 10
    nameless = tmp_path / "notes.py"
    nameless.write_text("x = 1\n")
    with pytest.raises(ValueError, match="cannot tell which exercise"):
        exercises.exercise_of_file(nameless)
    with pytest.raises(ValueError, match="no exercise 99"):
        exercises.find_exercise(99)


# ---- the command, as a learner uses it ----------------------------------------------------

def test_list_start_and_check_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "list"]) == 0
    listed = capsys.readouterr().out
    for e in exercises.EXERCISES:
        assert e.filename in listed
    assert main(["exercise", "start"]) == 0
    assert f"copied {len(NUMBERS)} exercise(s) into exercises/" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "exercises").iterdir()) == sorted(
        e.filename for e in exercises.EXERCISES)
    # the learner's work is never overwritten
    mine = tmp_path / "exercises" / "08_linear_backward.py"
    shutil.copy(SOLUTIONS / "08_linear_backward.py", mine)
    assert main(["exercise", "start"]) == 0
    assert f"kept {len(NUMBERS)} file(s)" in capsys.readouterr().out
    assert mine.read_text() == (SOLUTIONS / "08_linear_backward.py").read_text()
    assert main(["exercise", "check", "8"]) == 0
    assert "All 3 parts right" in capsys.readouterr().out
    assert main(["exercise", "check", "9"]) == 1
    assert "[todo]" in capsys.readouterr().out
    assert main(["exercise", "check"]) == 1
    summary = capsys.readouterr().out
    assert re.search(r"8\s+08_linear_backward\.py\s+passed", summary)
    assert re.search(r"9\s+09_layernorm_backward\.py\s+0 of 3 parts right", summary)


def test_check_a_file_and_the_errors_a_learner_can_make(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["exercise", "check", str(SOLUTIONS / "06_count_parameters.py")]) == 0
    capsys.readouterr()
    assert main(["exercise", "check", "99"]) == 2
    assert "no exercise 99" in capsys.readouterr().err
    assert main(["exercise", "check", "3"]) == 2   # nothing started in this folder
    assert "micrograd-gpt exercise start" in capsys.readouterr().err
    assert main(["exercise", "check", "missing.py"]) == 2
    assert "is not a file" in capsys.readouterr().err
    (tmp_path / "a_file").write_text("")
    assert main(["exercise", "start", "a_file"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_start_into_another_folder_says_how_to_check_there(tmp_path, capsys):
    assert main(["exercise", "start", str(tmp_path / "mine")]) == 0
    out = capsys.readouterr().out
    assert f"micrograd-gpt exercise check 1 --folder {tmp_path / 'mine'}" in out
    assert main(["exercise", "check", "1", "--folder", str(tmp_path / "mine")]) == 1
