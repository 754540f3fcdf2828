"""Every public entry point checks its arguments at the door: a value of the wrong kind gets
one ValueError that names the argument, never an AttributeError, a TypeError, a
ZeroDivisionError or an OverflowError from deep inside."""
import math
import random
import re

import pytest

from micrograd_gpt.common.checks import (check_fields, check_instance, check_numbers, check_str,
                                  check_values)
from micrograd_gpt.training.data import CharTokenizer, chunk_text, prepare_documents, split_lines
from micrograd_gpt.autograd.value import Value
from micrograd_gpt.autograd.gradcheck import gradcheck
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.models.registry import build_model
from micrograd_gpt.training.lr_schedules import make_schedule
from micrograd_gpt.training.optim import Adam
from micrograd_gpt.viz.plots import LineChart, loss_curve, moving_average, nice_ticks
from micrograd_gpt.viz.tracing import format_trace, trace
from micrograd_gpt.training.engines import evaluate
from micrograd_gpt.training.loop import train
from micrograd_gpt.training.sampling import sample
from micrograd_gpt.training.settings import TrainConfig
from micrograd_gpt.viz.graph import draw_dot, render_graph

NAN, INF = float("nan"), float("inf")
HOSTILE = [None, "x", "", NAN, INF, -INF, -1, 0, True, 1.5, [], {}, (), object(), b"x",
           10 ** 400, [NAN], [[1.0]], {"a": 1}]


def model_and_tokenizer():
    tokenizer = CharTokenizer.from_documents(["abc"])
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size, d_model=4, num_heads=2,
                          num_layers=1, max_seq_len=4), rng=random.Random(0))
    return model, tokenizer


MODEL, TOKENIZER = model_and_tokenizer()
CHART = LineChart("loss")
ROOT = Value(2.0, label="a") * 3.0

# one argument at a time: name -> (call with the hostile value, the argument's name)
ENTRY_POINTS = {
    "sample(model=)": (lambda v: sample(v, TOKENIZER, 1), "model"),
    "sample(tokenizer=)": (lambda v: sample(MODEL, v, 1), "tokenizer"),
    "sample(num=)": (lambda v: sample(MODEL, TOKENIZER, v), "num"),
    "sample(prompt=)": (lambda v: sample(MODEL, TOKENIZER, 1, prompt=v), "prompt|text"),
    "sample(temperature=)": (lambda v: sample(MODEL, TOKENIZER, 1, temperature=v),
                             "temperature"),
    "sample(top_k=)": (lambda v: sample(MODEL, TOKENIZER, 1, top_k=v), "top_k"),
    "sample(top_p=)": (lambda v: sample(MODEL, TOKENIZER, 1, top_p=v), "top_p"),
    "sample(stop_at_bos=)": (lambda v: sample(MODEL, TOKENIZER, 1, stop_at_bos=v),
                             "stop_at_bos"),
    "generate(prompt=)": (lambda v: MODEL.generate(v, 2), "prompt"),
    "generate(max_new_tokens=)": (lambda v: MODEL.generate([1], v), "max_new_tokens"),
    "generate(stop_token=)": (lambda v: MODEL.generate([1], 2, stop_token=v), "stop_token"),
    "loss(tokens=)": (lambda v: MODEL.loss(v), "tokens"),
    "forward(tokens=)": (lambda v: MODEL(v), "tokens"),
    "evaluate(documents=)": (lambda v: evaluate(MODEL, v), "documents|tokens"),
    "train(config=)": (lambda v: train(v, quiet=True), "config"),
    "train(quiet=)": (lambda v: train(TrainConfig(steps=1), quiet=v), "quiet"),
    "TrainConfig(steps=)": (lambda v: TrainConfig(steps=v), "steps"),
    "TrainConfig(lr=)": (lambda v: TrainConfig(lr=v), "lr"),
    "TrainConfig(data=)": (lambda v: TrainConfig(data=v), "data"),
    "TrainConfig(betas=)": (lambda v: TrainConfig(betas=v), "betas"),
    "GPTConfig(d_model=)": (lambda v: GPTConfig(vocab_size=4, d_model=v, num_heads=1,
                                                num_layers=1, max_seq_len=4), "d_model"),
    "GPT(config=)": (lambda v: GPT(v), "config"),
    "build_model(kind=)": (lambda v: build_model(v, {}), "kind"),
    "build_model(fields=)": (lambda v: build_model("gpt", v), "model config"),
    "load_state_dict()": (lambda v: MODEL.load_state_dict(v), "state_dict"),
    "CharTokenizer(chars=)": (lambda v: CharTokenizer(v), "chars"),
    "encode(text=)": (lambda v: TOKENIZER.encode(v), "text"),
    "decode(ids=)": (lambda v: TOKENIZER.decode([v]), "ids"),
    "split_lines(text=)": (lambda v: split_lines(v), "text"),
    "chunk_text(chunk_len=)": (lambda v: chunk_text("abcdef", v), "chunk_len"),
    "prepare_documents(source=)": (lambda v: prepare_documents(v, 8), "source|data file"),
    "prepare_documents(max_seq_len=)": (lambda v: prepare_documents("names", v),
                                        "max_seq_len"),
    "Adam(params=)": (lambda v: Adam(v), "params"),
    "make_schedule(lr=)": (lambda v: make_schedule("linear", v, 10), "lr"),
    "make_schedule(total_steps=)": (lambda v: make_schedule("linear", 0.1, v), "total_steps"),
    "schedule(step=)": (lambda v: make_schedule("linear", 0.1, 10)(v), "step"),
    "constant schedule(step=)": (lambda v: make_schedule("constant", 0.1, 10)(v), "step"),
    "LineChart(title=)": (lambda v: LineChart(v), "title"),
    "LineChart(width=)": (lambda v: LineChart("t", width=v), "width"),
    "LineChart.add(points=)": (lambda v: CHART.add(v, "x", "#000"), "points"),
    "LineChart.add(point=)": (lambda v: CHART.add([(0, v)], "x", "#000"), "points"),
    "LineChart.add(color=)": (lambda v: CHART.add([(0, 1.0)], "x", v), "color"),
    "loss_curve(history=)": (lambda v: loss_curve(v), "history"),
    "moving_average(window=)": (lambda v: moving_average([1.0, 2.0], v), "window"),
    "nice_ticks(high=)": (lambda v: nice_ticks(0.0, v), "high"),
    "draw_dot(root=)": (lambda v: draw_dot(v), "root"),
    "render_graph(dot=)": (lambda v: render_graph(v, "never-written.svg"), "dot"),
    "trace(root=)": (lambda v: trace(v), "root"),
    "format_trace(t=)": (lambda v: format_trace(v), "t"),
    "gradcheck(func=)": (lambda v: gradcheck(v, [1.0]), "func"),
    "gradcheck(inputs=)": (lambda v: gradcheck(lambda x: x * 2, v), "inputs"),
    "gradcheck(h=)": (lambda v: gradcheck(lambda x: x * 2, [1.0], h=v), "h"),
}

# values a parameter may legitimately take (the call then simply works)
ACCEPTED = [
    ("sample(prompt=)", ""), ("sample(top_k=)", None), ("sample(top_p=)", None),
    ("sample(top_k=)", 1.5), ("generate(stop_token=)", None), ("generate(max_new_tokens=)", 0),
    ("sample(temperature=)", 1.5), ("sample(top_k=)", 10 ** 400), ("encode(text=)", ""),
    ("split_lines(text=)", ""), ("train(config=)", None), ("TrainConfig(lr=)", 1.5),
    ("GPT(config=)", None), ("LineChart(title=)", ""), ("LineChart.add(points=)", []),
    ("LineChart.add(points=)", ()), ("make_schedule(lr=)", 0), ("make_schedule(lr=)", 1.5),
    ("schedule(step=)", 0), ("constant schedule(step=)", 0), ("nice_ticks(high=)", 0),
    ("nice_ticks(high=)", -1), ("nice_ticks(high=)", 1.5), ("nice_ticks(high=)", True),
    ("decode(ids=)", 0), ("loss_curve(history=)", {"a": 1}), ("sample(top_p=)", True),
    ("TrainConfig(data=)", "x"),
    # a huge count is a count: it would simply take forever
    ("sample(num=)", 10 ** 400), ("generate(max_new_tokens=)", 10 ** 400),
    ("TrainConfig(steps=)", 10 ** 400), ("chunk_text(chunk_len=)", 10 ** 400),
    ("prepare_documents(max_seq_len=)", 10 ** 400), ("make_schedule(total_steps=)", 10 ** 400),
    ("moving_average(window=)", 10 ** 400), ("GPTConfig(d_model=)", 10 ** 400),
]


def _accepted(name, value):
    return any(n == name and (v is value or (type(v) is type(value) and v == value))
               for n, v in ACCEPTED)


@pytest.mark.parametrize("name", sorted(ENTRY_POINTS))
def test_a_bad_argument_is_one_value_error_naming_it(name):
    call, argument = ENTRY_POINTS[name]
    for value in HOSTILE:
        if _accepted(name, value) or (name == "train(quiet=)" and isinstance(value, bool)):
            continue
        try:
            call(value)
        except ValueError as e:
            message = str(e)
            assert "\n" not in message.strip(), (name, value, message)
            assert re.search(argument, message), (name, value, message)
        except Exception as e:  # noqa: BLE001 - the point: nothing else may come out
            pytest.fail(f"{name} with {value!r}: {type(e).__name__}: {e}")


def test_the_check_functions_name_what_they_check():
    with pytest.raises(ValueError, match=r"^logits: must hold only finite numbers, got nan at "
                                         r"index 1$"):
        check_numbers("logits", [1.0, NAN])
    with pytest.raises(ValueError, match=r"^logits: must hold 3 number\(s\), got 2$"):
        check_numbers("logits", [1.0, 2.0], length=3)
    with pytest.raises(ValueError, match=r"finite numbers >= 0, got -1"):
        check_numbers("v", [0.0, -1], low=0)
    assert check_numbers("x", (1, 2.5)) == [1.0, 2.5]
    with pytest.raises(ValueError, match=r"^params: must hold only Values"):
        check_values("params", [Value(1.0), 2.0])
    with pytest.raises(ValueError, match=r"index 0 and 1"):
        v = Value(1.0)
        check_values("params", [v, v])
    with pytest.raises(ValueError, match=r"unknown field\(s\) 'c' \(known: a, b\)"):
        check_fields("state", {"a": 1, "c": 2}, ("a", "b"))
    with pytest.raises(ValueError, match=r"missing field\(s\) b"):
        check_fields("state", {"a": 1}, ("a", "b"), required=("a", "b"))
    with pytest.raises(ValueError, match=r"^name: must be a non-empty string, got ''"):
        check_str("name", "")
    with pytest.raises(ValueError, match=r"^model: must be a GPT, got 3 \(an int\)$"):
        check_instance("model", 3, GPT, "a GPT")
    assert math.isfinite(check_numbers("x", [1e308])[0])
