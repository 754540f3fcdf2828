"""Limits at the door: a TEXT or --prompt too long for a model without a context limit, a
history with more points than its run has steps, a long (honest) history drawn from a
bounded number of points, and a bigram table that is not log-probabilities. Each is one
clear line before any real work, or the right answer from bounded work."""
import json
import math
import random
from xml.etree import ElementTree

import pytest

from helpers import run_main as run  # micrograd-gpt in this process
from micrograd_gpt.models.bigram import BigramConfig, CountingBigram, check_log_probs
from micrograd_gpt.training.checkpoint import CheckpointError, check_checkpoint, load_checkpoint
from micrograd_gpt.training.data import CharTokenizer
from micrograd_gpt.viz import plots
from micrograd_gpt.viz.inspection import MAX_TEXT_CHARS, inspect_text
from micrograd_gpt.cli.sample import MAX_PROMPT_CHARS

SVG = "{http://www.w3.org/2000/svg}"
KINDS = ["bigram", "neural_bigram", "mlp", "rnn", "gpt"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """kind -> a checkpoint of a quickly trained model of that kind (names data)."""
    folder = tmp_path_factory.mktemp("kinds")
    found = {}
    for kind in KINDS:
        path = folder / f"{kind}.json"
        quick = [] if kind == "bigram" else ["--steps", "2", "--eval-interval", "0"]
        status, _, err = run(["train", "--model", kind, *quick, "--eval-docs", "5",
                              "--samples", "0", "--quiet", "--out", str(path)])
        assert status == 0, err
        found[kind] = path
    return found


def assert_one_clear_error(status, err, fragment):
    assert status == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert fragment in err, err


# ---- long texts ---------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_inspect_refuses_a_text_longer_than_the_limit_for_every_kind(checkpoints, kind,
                                                                      tmp_path):
    status, out, err = run(["inspect", "--checkpoint", str(checkpoints[kind]),
                            "-o", str(tmp_path / "x.html"), "a" * 100_000])
    assert_one_clear_error(status, err, f"TEXT: at most {MAX_TEXT_CHARS:,} characters")
    assert "got 100,000" in err and out == "" and not (tmp_path / "x.html").exists()


def test_the_text_is_refused_before_the_checkpoint_is_read(tmp_path):
    status, _, err = run(["inspect", "--checkpoint", str(tmp_path / "missing.json"),
                          "a" * (MAX_TEXT_CHARS + 1)])
    assert_one_clear_error(status, err, "TEXT: at most")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["bigram", "rnn"])
def test_a_text_at_the_limit_is_inspected(checkpoints, kind, tmp_path):
    page = tmp_path / "page.html"
    status, out, err = run(["inspect", "--checkpoint", str(checkpoints[kind]), "-o", str(page),
                            "ab" * (MAX_TEXT_CHARS // 2)])
    assert status == 0, err
    assert f"mean loss over the {MAX_TEXT_CHARS + 1} predictions" in out and page.exists()


def test_inspect_text_refuses_a_long_text_from_python(checkpoints):
    saved = load_checkpoint(checkpoints["rnn"])
    with pytest.raises(ValueError, match="text: at most 1,000 characters"):
        inspect_text(saved.model, saved.tokenizer, "e" * (MAX_TEXT_CHARS + 1))


@pytest.mark.parametrize("kind", ["bigram", "rnn", "gpt"])
def test_sample_refuses_a_prompt_longer_than_the_limit(checkpoints, kind):
    status, out, err = run(["sample", "--checkpoint", str(checkpoints[kind]),
                            "--prompt", "a" * 100_000])
    assert_one_clear_error(status, err, f"--prompt: at most {MAX_PROMPT_CHARS:,} characters")
    assert out == ""


@pytest.mark.slow
def test_a_prompt_at_the_limit_is_sampled(checkpoints):
    prompt = "an" * (MAX_PROMPT_CHARS // 2)
    status, out, err = run(["sample", "--checkpoint", str(checkpoints["rnn"]), "--num", "2",
                            "--prompt", prompt, "--max-new-tokens", "3"])
    assert status == 0, err
    assert [line.startswith(prompt) for line in out.splitlines()] == [True, True]


# ---- long histories -------------------------------------------------------------------------

def long_history_file(source, path, points, step=None):
    """`source`'s checkpoint with a history of `points` training losses (one per step)
    and a validation loss every 100 steps, at step `step` (default: `points`)."""
    payload = json.loads(source.read_text())
    rng = random.Random(0)
    payload["step"] = points if step is None else step
    payload["history"] = {
        "train": [[i + 1, 3.0 - 1e-6 * i + rng.gauss(0, 0.1)] for i in range(points)],
        "val": [[i, 3.0 - 1e-6 * i] for i in range(0, points, 100)]}
    path.write_text(json.dumps(payload))
    return path


@pytest.mark.parametrize("key, more", [("train", 2), ("val", 2), ("val", 50)])
def test_a_history_with_more_points_than_steps_is_refused(checkpoints, tmp_path, key, more):
    payload = json.loads(checkpoints["gpt"].read_text())
    step = payload["step"]
    payload["history"][key] = [[min(i, step), 3.0] for i in range(step + more)]
    path = tmp_path / "padded.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(CheckpointError, match=rf"history\['{key}'\]: holds {step + more} "
                                              rf"records, more than the steps"):
        load_checkpoint(path)
    status, _, err = run(["plot", "--checkpoint", str(path), "-o", str(tmp_path / "x.svg")])
    assert_one_clear_error(status, err, "more than the steps")


def test_health_records_beyond_the_steps_are_refused(checkpoints, tmp_path):
    payload = json.loads(checkpoints["gpt"].read_text())
    record = {"step": 1, "lr": 0.01, "grad_norm": 1.0, "activations": {}, "parameters": {}}
    payload["history"]["health"] = [record] * (payload["step"] + 1)
    path = tmp_path / "health.json"
    path.write_text(json.dumps(payload))
    with pytest.raises(CheckpointError, match=r"history\['health'\]: holds 3 records"):
        load_checkpoint(path)


@pytest.mark.parametrize("bad, fragment", [
    ([20_000, True], "the loss"),
    ([True, 2.5], "the step"),
    ([20_001, 2.5], "the step: must be an integer in"),
    ([-1, 2.5], "the step"),
    ([20_000, "2.5"], "the loss"),
    ([20_000, math.inf], "the loss"),
    ((20_000, 2.5), None),                  # a tuple (from Python, not JSON) is a pair too
    ([20_000], "must be a \\[step, loss\\] pair"),
])
@pytest.mark.slow
def test_one_bad_point_in_a_long_history_is_found_and_named(checkpoints, bad, fragment):
    payload = json.loads(checkpoints["gpt"].read_text())
    payload["step"] = 20_000
    payload["history"] = {"train": [[i + 1, 3.0] for i in range(20_000)], "val": []}
    payload["history"]["train"][12_345] = bad
    if fragment is None:
        check_checkpoint(payload)
        return
    with pytest.raises(ValueError, match=fragment) as error:
        check_checkpoint(payload)
    assert "history['train'][12345]" in str(error.value)


def polylines(svg):
    root = ElementTree.fromstring(svg)
    return [line.get("points").split() for line in root.iter(SVG + "polyline")]


@pytest.mark.slow
def test_a_long_history_is_drawn_from_a_bounded_number_of_points(checkpoints, tmp_path):
    path = long_history_file(checkpoints["gpt"], tmp_path / "long.json", 30_000)
    picture = tmp_path / "long.svg"
    status, _, err = run(["plot", "--checkpoint", str(path), "-o", str(picture)])
    assert status == 0, err
    curves = polylines(picture.read_text())
    assert len(curves) == 3  # each step, their mean, validation
    assert all(0 < len(points) <= plots.MAX_DRAWN_POINTS for points in curves)
    page = tmp_path / "long.html"
    status, _, err = run(["inspect", "--checkpoint", str(path), "-o", str(page), "emma"])
    assert status == 0, err
    assert page.stat().st_size < 1_000_000


def test_thinning_keeps_each_runs_lowest_and_highest_point():
    rng = random.Random(1)
    points = [(i, rng.gauss(0, 1)) for i in range(100_000)]
    kept = plots.thin(points, most=1000)
    assert len(kept) <= 1000 and kept == sorted(kept)  # in order of x
    ys = [y for _, y in points]
    assert min(y for _, y in kept) == min(ys) and max(y for _, y in kept) == max(ys)
    run_of = 100_000 // 500
    first = [y for _, y in points[:run_of]]
    assert [y for _, y in kept[:2]] in ([min(first), max(first)], [max(first), min(first)])
    assert plots.thin(points[:10], most=1000) == points[:10]


def test_spreading_keeps_the_first_and_the_last():
    items = list(range(10_001))
    kept = plots.spread(items, most=200)
    assert len(kept) == 200 and kept[0] == 0 and kept[-1] == 10_000 and kept == sorted(kept)


def test_health_curves_draw_at_most_the_spread_records():
    record = {"step": 1, "lr": 0.01, "grad_norm": 1.0,
              "activations": {"h": {"std": 1.0, "saturated": 0.1, "dead": 0.0}},
              "parameters": {"w": {"shape": [2, 2], "grad_norm": 0.5,
                                   "update_ratio": 0.001}}}
    records = [dict(record, step=s) for s in range(1, 5001)]
    svg = plots.health_curves({"health": records}).to_svg()
    assert all(len(points) <= plots.MAX_DRAWN_RECORDS for points in polylines(svg))


def test_the_moving_average_is_the_mean_of_the_window():
    values = [random.Random(2).random() for _ in range(1000)]
    for window in (1, 3, 50, 2000):
        got = plots.moving_average(values, window)
        want = [math.fsum(values[max(0, i - window + 1):i + 1]) / min(i + 1, window)
                for i in range(len(values))]
        assert len(got) == len(want)
        assert max(abs(a - b) for a, b in zip(got, want)) < 1e-12


# ---- a bigram table that is not log-probabilities --------------------------------------------

def tampered_bigram(source, path, change):
    payload = json.loads(source.read_text())
    change(payload["weights"]["log_probs"])
    path.write_text(json.dumps(payload))
    return path


def _all(value):
    def change(table):
        for row in table:
            row[:] = [value] * len(row)
    return change


def _one(a, b, value):
    def change(table):
        table[a][b] = value
    return change


@pytest.mark.parametrize("change, fragment", [
    (_all(5.0), "log_probs[0]: holds 5.0, the log of a probability above 1"),
    (_one(3, 4, -1e308), "log_probs[3]: holds -1e+308, the log of a probability that "
                         "rounds to 0"),
    (_all(-10.0), "log_probs[0]: its probabilities (e to the power of each entry) sum to "
                  "0.0012258, not 1"),
    (_one(5, 0, 0.0), "log_probs[5]: its probabilities"),
])
@pytest.mark.parametrize("command", ["sample", "inspect", "plot"])
def test_a_bigram_table_that_is_not_a_distribution_is_refused(checkpoints, tmp_path, change,
                                                              fragment, command):
    path = tampered_bigram(checkpoints["bigram"], tmp_path / "table.json", change)
    argv = {"sample": ["sample", "--checkpoint", str(path)],
            "inspect": ["inspect", "--checkpoint", str(path), "emma",
                        "-o", str(tmp_path / "x.html")],
            "plot": ["plot", "--checkpoint", str(path), "-o", str(tmp_path / "x.svg")]}
    status, out, err = run(argv[command])
    assert_one_clear_error(status, err, fragment)
    assert out == ""


def test_load_state_dict_refuses_a_table_that_is_not_log_probabilities():
    model = CountingBigram(BigramConfig(vocab_size=3))
    model.fit([[0, 1, 2, 1, 0]])
    before = model.state_dict()
    with pytest.raises(ValueError, match="sum to 3, not 1"):
        model.load_state_dict({"log_probs": [[0.0] * 3] * 3})
    assert model.state_dict() == before   # nothing changed
    model.load_state_dict(before)          # a counted table is fine


def test_every_counted_table_is_a_distribution():
    tokenizer = CharTokenizer.from_documents(["emma", "olivia", "ava"])
    for smoothing in (1e-9, 0.5, 1.0, 100.0):
        model = CountingBigram(BigramConfig(vocab_size=tokenizer.vocab_size,
                                            smoothing=smoothing))
        model.fit([tokenizer.encode_document(d) for d in ["emma", "olivia", "ava"]])
        check_log_probs(model.state_dict()["log_probs"])
