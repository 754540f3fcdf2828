"""The tutor turns the commonest slips into lessons at the learner's line: a tuple without
its comma, a Value where a number belongs, a gradient of the transposed shape. Each part
is judged on its own, a shared problem is said once, and numbers are never cut mid-digit."""
import re
from pathlib import Path

import pytest

from micrograd_gpt import Value
from micrograd_gpt.teaching import exercises
from micrograd_gpt.teaching.exercises.tutor import brief, run_part

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "exercise_solutions"

SIN = 'return Value(math.sin(x.data), (x,), (math.cos(x.data),), "sin")'
COS = 'return Value(math.cos(x.data), (x,), (-math.sin(x.data),), "cos")'
LOG1P = 'return Value(math.log1p(x.data), (x,), (1.0 / (1.0 + x.data),), "log1p")'


def edited(tmp_path, number, *changes):
    """A copy of solution `number` with each (old, new) of `changes` applied (old must be
    there), saved under the exercise's own file name."""
    exercise = exercises.find_exercise(number)
    text = (SOLUTIONS / exercise.filename).read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / exercise.filename
    path.write_text(text, encoding="utf-8")
    return path


def line_number(path, text):
    lines = path.read_text(encoding="utf-8").split("\n")
    return next(i for i, line in enumerate(lines, 1) if text in line)


def checked(path):
    report = exercises.check(path)
    assert "Traceback" not in str(report)
    return report, {part.name: part for part in report.parts}


# ---- exercise 1: a node built wrong is named at the learner's line ------------------------

def test_a_tuple_without_its_comma_is_a_lesson_at_the_line(tmp_path):
    children = SIN.replace("(x,)", "(x)")
    derivatives = COS.replace("(-math.sin(x.data),)", "(-math.sin(x.data))")
    path = edited(tmp_path, 1, (SIN, children), (COS, derivatives))
    report, found = checked(path)
    sin, cos = found["sin"].message, found["cos"].message
    assert found["sin"].state == found["cos"].state == "wrong"
    assert "`(x)` is just x in parentheses" in sin and "note the comma: (x,)" in sin.lower()
    assert f"at line {line_number(path, children)} of 01_value_ops.py:\n    {children}" in sin
    assert "local derivatives you gave Value() are not a tuple" in cos
    assert "note the comma: (d,)" in cos.lower()
    assert f"at line {line_number(path, derivatives)} of 01_value_ops.py:\n    {derivatives}" in cos
    # the others are judged on their own; the expression of all four waits, without repeating
    assert found["log1p"].state == found["softplus"].state == "right"
    assert found["all four together"].message == "waits for sin and cos above"


def test_a_derivative_computed_from_the_value_is_refused(tmp_path):
    slip = LOG1P.replace("(1.0 / (1.0 + x.data),)", "(1 / (1 + x),)")
    report, found = checked(edited(tmp_path, 1, (LOG1P, slip)))
    message = found["log1p"].message
    assert found["log1p"].state == "wrong" and "is a Value, not a number" in message
    assert "x.data" in message and slip in message
    assert [p.state for p in report.parts].count("right") == 3


def test_a_value_given_as_the_number_is_refused(tmp_path):
    slip = SIN.replace("Value(math.sin(x.data),", "Value(x * 0 + math.sin(x.data),")
    _, found = checked(edited(tmp_path, 1, (SIN, slip)))
    assert found["sin"].state == "wrong"
    assert "the number you gave Value() is a Value, not a float" in found["sin"].message


def test_the_numbers_of_the_inputs_instead_of_the_values_are_refused(tmp_path):
    slip = SIN.replace("(x,)", "(x.data,)")
    _, found = checked(edited(tmp_path, 1, (SIN, slip)))
    assert "hold float" in found["sin"].message and "not a Value" in found["sin"].message


STRICT_VALUE = """from micrograd_gpt import Value as _Value


def Value(data, _children=(), _local_grads=(), _op="", label=""):
    if not isinstance(_children, tuple):
        raise TypeError("Value: the inputs must be a tuple; note the comma: (x,)")
    return _Value(data, _children, _local_grads, _op, label)
"""


def test_an_error_raised_by_value_itself_is_a_lesson_at_the_learner_line(tmp_path):
    """When Value() refuses a non-tuple itself, the exception comes from inside another
    file (here a strict Value beside the learner's): the tutor still names the learner's
    line that called it, with no traceback."""
    (tmp_path / "strict_value.py").write_text(STRICT_VALUE, encoding="utf-8")
    slip = SIN.replace("(x,)", "(x)")
    path = edited(tmp_path, 1, (SIN, slip), (
        "from micrograd_gpt import Value\n",
        "import sys, pathlib\nsys.path.insert(0, str(pathlib.Path(__file__).parent))\n"
        "from strict_value import Value\n"))
    _, found = checked(path)
    message = found["sin"].message
    assert message.startswith("your code raised TypeError: Value: the inputs must be a tuple")
    assert f"at line {line_number(path, slip)} of 01_value_ops.py:\n    {slip}" in message
    assert found["cos"].state == "right"


def test_an_error_in_the_checker_on_what_the_learner_returned_is_one_message(tmp_path):
    learner = tmp_path / "mine.py"
    learner.write_text("def broken():\n    return [1, 2][5]\n", encoding="utf-8")
    namespace = {}
    exec(compile(learner.read_text(), str(learner), "exec"), namespace)
    part = run_part("a part", namespace["broken"])
    assert part.state == "wrong"
    assert part.message.startswith("checking it stopped with IndexError: list index out of range")
    assert "at line 2 of mine.py:\n    return [1, 2][5]" in part.message


# ---- exercise 8: each part on its own; the transposed shape said as such ---------------

DW = "dW = [[dy[i] * x[j] for j in range(n)] for i in range(m)]"


def test_a_transposed_gradient_is_named_and_the_other_parts_are_judged_alone(tmp_path):
    path = edited(tmp_path, 8, (DW, "dW = [[dy[i] * x[j] for i in range(m)] for j in range(n)]"))
    report, found = checked(path)
    assert found["dx"].state == found["db"].state == "right"
    assert found["dW"].state == "wrong"
    assert found["dW"].message.startswith(
        "you returned 3 rows of 2; dW has the shape of W, 2 rows of 3: transposed?")
    assert "1 of 3" not in str(report) and "2 of 3 parts right" in str(report)


def test_a_shape_that_is_not_a_transpose_says_what_came_back(tmp_path):
    path = edited(tmp_path, 8, ("db = list(dy)", "db = list(dy)[:-1]"))
    _, found = checked(path)
    assert found["db"].message.startswith("you returned 1 number; db has the shape of b, "
                                          "2 numbers")
    assert "transposed" not in found["db"].message
    assert found["dx"].state == found["dW"].state == "right"


def test_values_where_numbers_belong_are_named_by_entry(tmp_path):
    path = edited(tmp_path, 8, ("db = list(dy)", "db = [Value(d) for d in dy]"),
                  ('"""\n\n\ndef', '"""\nfrom micrograd_gpt import Value\n\n\ndef'))
    _, found = checked(path)
    assert found["db"].message.startswith("db must hold plain numbers, but db[0] is a Value")
    assert found["dx"].state == "right"


def test_a_problem_shared_by_every_part_is_said_once(tmp_path):
    path = edited(tmp_path, 8, ("return dx, dW, db", "return dx, dW"))
    report, _ = checked(path)
    messages = [part.message for part in report.parts]
    assert messages[0].startswith("linear_backward must return 3 things, (dx, dW, db); got (")
    assert messages[1:] == ["waits for linear_backward to run: see dx above"] * 2


def test_numbers_in_messages_are_rounded_never_cut(tmp_path):
    path = edited(tmp_path, 8, ("return dx, dW, db", "return dx + dx + dx + dx, dW"))
    message = checked(path)[1]["dx"].message
    shown = message.split("got ", 1)[1]
    assert re.fullmatch(r"\(\[[^\]]*\], \[\[.*\]\]\)", shown), shown
    for number in re.findall(r"-?\d[\d.e+-]*", shown):
        float(number)  # each one whole
        significant = number.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
        assert len(significant) <= 4, number
    assert "… 8 more" in shown


@pytest.mark.parametrize("value, text", [
    ([0.123456, -1.5, 2.0], "[0.1235, -1.5, 2]"),
    ((0.5,), "(0.5,)"),
    (list(range(7)), "[0, 1, 2, 3, … 3 more]"),
    (Value(2.0 / 3.0), "Value(0.6667)"),
])
def test_brief_rounds_numbers_and_cuts_lists_between_items(value, text):
    assert brief(value) == text
