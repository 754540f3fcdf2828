"""How the tutor teaches without telling: a wrong prediction or choice names the cell and
what to think about, and shows the right value only with --show; a gradient off by one
constant factor is named in every gradient exercise; no multiple-choice answer can be
guessed by its length; and each exercise answers a learner's typical mistakes (one path
only, a missing bias correction, the mask after the softmax, ...) with the slip's name."""
import math
import re

import pytest

from helpers import mutated_solution, run_main
from micrograd_gpt.teaching import exercises
from micrograd_gpt.teaching.exercises import diagnose_the_run
from micrograd_gpt.teaching.exercises.tutor import run_part, scale_note


def checked(tmp_path, number, *replacements):
    """{part name: Part} for solution `number` with the mistakes made in it."""
    report = exercises.check(mutated_solution(tmp_path, number, *replacements))
    return {part.name: part for part in report.parts}, report


def wrong(found, name):
    assert found[name].state == "wrong", (name, found[name].message)
    return found[name].message


# ---- a gradient off by one factor ------------------------------------------------------------

def test_scale_note_names_the_factor_and_the_sign():
    assert scale_note([4.0, -8.0, 12.0], [1.0, -2.0, 3.0]) == (
        "Yours is exactly 4x the right gradient everywhere: a missing or extra scale?")
    root3 = [x * math.sqrt(3) for x in (0.5, -1.0, 2.0)]
    assert "exactly 1.732x the right dq everywhere (√3)" in scale_note(root3, [0.5, -1, 2],
                                                                      "the right dq")
    assert "(1/4)" in scale_note([0.25, 0.5], [1.0, 2.0])
    assert "(1/√8)" in scale_note([1 / math.sqrt(8), 2 / math.sqrt(8)], [1.0, 2.0])
    assert "opposite sign, everywhere: a minus sign" in scale_note([-1.0, 2.0], [1.0, -2.0])
    assert "with the opposite sign" in scale_note([-2.0, 4.0], [1.0, -2.0])
    assert scale_note([1.0, 2.0, 3.1], [1.0, 2.0, 3.0]) is None       # not one factor
    assert scale_note([1.0, 2.0], [1.0, 2.0]) is None                 # right
    assert scale_note([5.0], [1.0]) is None                           # one number: no ratio
    assert scale_note([0.0, 0.0], [1.0, 2.0]) is None                 # nothing reached it
    assert scale_note([math.nan, 1.0], [1.0, 2.0]) is None


@pytest.mark.parametrize("number, part, mistake, note", [
    (10, "dq", ("dq = [sum(dscores[s] * scale * keys", "dq = [sum(dscores[s] * keys"),
     r"exactly 1\.732x the right dq everywhere \(√3\)"),
    (7, "cross_entropy_grad", ("[p - (j == target)", "[(j == target) - p"),
     r"the right cross_entropy_grad with the opposite sign"),
    (9, "dg", ("dg = [dy_i * n_i", "dg = [2 * dy_i * n_i"), r"exactly 2x the right dg"),
    (15, "dW", (" / predictions for b in range(V)", " for b in range(V)"),
     r"exactly \d+x the right dW everywhere"),
    (16, "mse", ("tuple(2 * e / n for e in errors)", "tuple(2 * e for e in errors)"),
     r"exactly 3x the right gradient everywhere"),
    (17, "db", ("db = [sum(column) for", "db = [sum(column) / len(dY) for"),
     r"exactly 0\.\d+x the right db everywhere \(1/\d\)"),
])
def test_a_gradient_off_by_a_constant_factor_is_named(tmp_path, number, part, mistake, note):
    found, _ = checked(tmp_path, number, mistake)
    message = wrong(found, part)
    assert re.search(note, message), message
    assert "<--" in message                     # the table is still there, above the note


# ---- the right value only on request --------------------------------------------------------

def test_show_prints_what_a_wrong_prediction_kept_back(tmp_path):
    path = mutated_solution(tmp_path, 3, ('GRADS = {"a": -4', 'GRADS = {"a": -8'))
    code, out, _ = run_main(["exercise", "check", str(path)])
    assert code == 1 and "GRADS['a'] = -8 is off. a is used twice" in out
    assert "dL/da = -4" not in out and "add --show" in out
    code, out, _ = run_main(["exercise", "check", str(path), "--show"])
    assert code == 1 and "The right answer: dL/da = -4" in out and "add --show" not in out


def test_a_part_whose_answer_confuses_the_checker_is_one_message():
    def body():
        return len(object())                    # any exception a check did not foresee
    part = run_part("odd", body)
    assert part.state == "wrong"
    assert part.message.startswith("checking it stopped with TypeError: ")


def questions():
    for exercise in exercises.EXERCISES:
        for question in getattr(exercise.checker(), "QUESTIONS", []):
            yield exercise, question


@pytest.mark.parametrize("exercise, question", list(questions()),
                         ids=lambda x: getattr(x, "name", getattr(x, "stem", "")))
def test_no_choice_can_be_guessed_by_its_length(exercise, question):
    stub = " ".join(exercise.stub.read_text(encoding="utf-8").split())
    for letter, option in question.options.items():
        assert f"{letter}) {option}" in stub, (letter, option)
    lengths = {letter: len(option) for letter, option in question.options.items()}
    wrong_ones = [n for letter, n in lengths.items() if letter != question.right]
    assert lengths[question.right] <= 1.1 * max(wrong_ones), lengths
    assert max(lengths.values()) <= 2 * min(lengths.values()), lengths
    assert set(question.why_not) == set(question.options) - {question.right}


def test_a_wrong_choice_points_to_the_evidence_and_keeps_the_letter_back(tmp_path):
    found, report = checked(tmp_path, 4, ('GRAD_AFTER_K_STEPS = "b"', 'GRAD_AFTER_K_STEPS = "d"'))
    message = wrong(found, "GRAD_AFTER_K_STEPS")
    assert message.startswith("not d: what does backward() do to a .grad")
    assert "sum" not in message and "b)" not in str(report)
    assert "The right answer: b) the sum of the gradients" in report.text(show=True)


# ---- exercise 1: the flaws of its hints ----------------------------------------------------

def test_together_waits_until_each_operation_is_right_alone(tmp_path):
    found, _ = checked(tmp_path, 1, ("(-math.sin(x.data),)", "(math.sin(x.data),)"))
    assert found["cos"].state == "wrong"
    together = found["all four together"]
    assert together.state == "todo" and together.message == "waits for cos above"
    assert "each works alone" not in together.message


def test_the_softplus_hint_does_not_give_the_derivative(tmp_path):
    found, _ = checked(tmp_path, 1, ("slope = 1.0 / (1.0 + e) if", "slope = 0.5 / (1.0 + e) if"))
    message = wrong(found, "softplus")
    assert "Check yours at x = 0, where the slope is exactly 1/2" in message
    assert "e^x / (1 + e^x)" not in message and "sigmoid" not in message


# ---- exercise 12: gradients as sums over paths ----------------------------------------------

def test_reading_the_graph_one_path_short_keeps_the_paths_back(tmp_path):
    found, report = checked(tmp_path, 12, ('"y": [3.0, 2.0, -5.0]', '"y": [3.0, 2.0]'))
    message = wrong(found, "PATHS")
    assert message.startswith("PATHS['y'] has 2 number(s), but y reaches L along another")
    assert "-5" not in str(report).replace(str(report.path), "")
    assert found["LARGEST"].message == "z gets the largest gradient"   # no sums given away
    assert "y has 3 path(s): [-5.0, 2.0, 3.0]" in report.text(show=True)


@pytest.mark.parametrize("mistake, advice", [
    (("return sum(local * gradient_by_paths(edges, output, parent)\n"
      "               for child, parent, local in edges if child == name)",
      "return next(local * gradient_by_paths(edges, output, parent)\n"
      "               for child, parent, local in edges if child == name)"),
     "That is the product along one path, but there are 3: add them all up"),
    (("return 1.0                          # d output / d output",
      "return 0.0                          # d output / d output"),
     "gave 0.0: the output's gradient toward itself, d L/d L, is where every path ends"),
    (("for child, parent, local in edges if child == name)",
      "for parent, child, local in edges if child == name)"),
     "Nothing reached it: start from the edges whose child is the name"),
])
def test_gradient_by_paths_mistakes_are_named(tmp_path, mistake, advice):
    found, _ = checked(tmp_path, 12, mistake)
    assert advice in wrong(found, "gradient_by_paths")


# ---- exercise 13: Adam's usual slips --------------------------------------------------------

@pytest.mark.parametrize("mistakes, named", [
    ([("(1 - beta1 ** t)", "1"), ("(1 - beta2 ** t)", "1")], "Adam without the bias correction"),
    ([("(math.sqrt(vh) + eps)", "math.sqrt(vh + eps)")], "eps inside the square root"),
    ([("(math.sqrt(vh) + eps)", "(vh + eps)")], "yours divides by v̂ itself"),
    ([("g_i * g_i for", "g_i for")], "the running mean of the *squared* gradients"),
])
def test_an_adam_slip_is_named(tmp_path, mistakes, named):
    found, _ = checked(tmp_path, 13, *mistakes)
    message = wrong(found, "adam_step")
    assert named in message and "after step t = 1" in message


def test_the_schedule_and_clipping_slips_are_explained(tmp_path):
    found, _ = checked(tmp_path, 13, ("lr * (step + 1) / warmup_steps", "lr * step / warmup_steps"),
                       ("return [g * scale for g in grads], length",
                        "return [max(-max_norm, min(max_norm, g)) for g in grads], length"))
    assert "its first step already moves (it is never 0)" in wrong(found, "learning_rate")
    assert "You clipped each number on its own" in wrong(found, "clip")


# ---- exercise 14: diagnosing runs -----------------------------------------------------------

def test_a_wrong_diagnosis_points_to_the_numbers_and_keeps_the_knob_back(tmp_path):
    found, report = checked(tmp_path, 14, ('"E": "lr too high"', '"E": "healthy"'))
    message = wrong(found, "run E")
    assert message.startswith("not 'healthy': look at the update ratio at steps 1 and 20")
    assert "warmup_steps" not in str(report)
    assert ("The right answer: lr too high (lr = 0.1 instead of 0.01, warmup_steps = 0 "
            "instead of 20)") in report.text(show=True)
    assert sum(part.state == "right" for part in report.parts) == 5


@pytest.mark.slow
def test_the_diagnosis_table_in_the_stub_is_what_the_runs_record():
    stub = exercises.find_exercise(14).stub.read_text(encoding="utf-8")
    table = diagnose_the_run.health_table()
    assert "\n".join("    " + line for line in table.split("\n")) in stub, (
        "re-record the stub's table with diagnose_the_run.health_table():\n" + table)


# ---- exercise 16: one node ------------------------------------------------------------------

@pytest.mark.parametrize("mistake, named", [
    (("    n = len(predictions)\n", "    return sum((p - t) ** 2 for p, t in zip(predictions, "
                                   "targets)) / len(targets)\n    n = len(predictions)\n"),
     "made 15 nodes, not one"),
    (("tuple(2 * e / n for e in errors)", "tuple(Value(2 * e / n) for e in errors)"),
     "the local derivative you gave Value() is a Value, not a number"),
    (("tuple(2 * e / n for e in errors)", "(2 * e / n for e in errors)"),
     "are generator <generator object"),
])
def test_a_fused_operation_that_is_not_one_node_is_caught(tmp_path, mistake, named):
    found, _ = checked(tmp_path, 16, mistake)
    assert named in wrong(found, "mse")
    assert found["both in one graph"].state == "todo"


# ---- exercise 17: shared weights over the positions -----------------------------------------

def test_the_weights_gradient_from_one_position_only_is_explained(tmp_path):
    found, _ = checked(tmp_path, 17, (
        "dW = matmul(transpose(dY), X) ",
        "dW = [[dY[-1][i] * X[-1][j] for j in range(len(X[0]))] for i in range(len(W))] "))
    message = wrong(found, "dW")
    assert "W is used at every position, so its gradient adds up one term per" in message
    assert found["dX"].state == found["db"].state == "right"


# ---- exercise 18: the mask ------------------------------------------------------------------

@pytest.mark.parametrize("mistake, named", [
    (("score * scale if s <= t else -math.inf", "score * scale"),
     "yours lets every position see the later ones too"),
    (("scale = 1.0 / math.sqrt(len(Q[0]))", "scale = 1.0"), "does not divide the scores by √hd"),
    (("if s <= t else -math.inf", "if s < t else -math.inf"),
     "row 0 of yours is nan: every score of the row was −inf"),
])
def test_a_masking_slip_is_named(tmp_path, mistake, named):
    found, _ = checked(tmp_path, 18, mistake)
    assert named in wrong(found, "causal_attention")


@pytest.mark.parametrize("mistake, named", [
    (("for W in (Wq, Wk, Wv))", "for W in (transpose(Wq), transpose(Wk), transpose(Wv)))"),
     "yours multiplies by the weights as they are"),
    (("return matmul(joined, transpose(Wo))", "return joined"), "yours stops after the heads"),
])
def test_a_layer_slip_is_named(tmp_path, mistake, named):
    found, _ = checked(tmp_path, 18, mistake)
    assert named in wrong(found, "self_attention against the KV cache")


def test_a_number_worked_out_by_hand_is_kept_back_too(tmp_path):
    found, report = checked(tmp_path, 6, ("GPT2_MEDIUM = count(50257, 1024, 24, 1024)",
                                          "GPT2_MEDIUM = 354_000_000"))
    assert wrong(found, "GPT2_MEDIUM").startswith("GPT2_MEDIUM = 354000000 is off: it is "
                                                  "count() at |V| = 50,257")
    assert "354,601,984" not in str(report)
    assert "The right answer: 354,601,984" in report.text(show=True)
