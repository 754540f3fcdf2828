"""The book's functional API: same names and argument order as the book, built on GPT,
and its demo (the dict with the book's keys, consistent values, the command line)."""
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest

import micrograd_gpt
from micrograd_gpt import GPT, GPTConfig, count_parameters, demo, gpt_forward, make_gpt_params
from micrograd_gpt.teaching.book import generate, softmax
from micrograd_gpt.cli import main
from micrograd_gpt.autograd.modes import no_grad

SMALL = GPTConfig(vocab_size=11, d_model=8, num_heads=2, num_layers=1, max_seq_len=6)
ROOT = Path(__file__).resolve().parents[2]  # so the subprocess imports this checkout


@pytest.fixture(scope="module")
def demo_result():
    return demo()


def test_demo_returns_the_books_keys(demo_result):
    assert list(demo_result) == ["config", "parameters", "logits_first_10", "top_token",
                                 "top_probability", "generated", "full_sequence"]


@pytest.mark.slow
def test_demo_values_are_consistent(demo_result):
    config = demo_result["config"]
    assert config == GPTConfig(vocab_size=100, d_model=32, num_heads=4, num_layers=2,
                               max_seq_len=64)
    assert demo_result["parameters"] == count_parameters(config) == 30_144
    params = make_gpt_params(config, random.Random(7))
    assert len(params.parameters()) == demo_result["parameters"]
    logits = gpt_forward([1, 2, 3, 4, 5], params, config)
    assert demo_result["logits_first_10"] == logits[:10]
    probabilities = softmax(logits)
    top = demo_result["top_token"]
    assert probabilities[top] == max(probabilities) == demo_result["top_probability"]
    generated = demo_result["generated"]
    assert len(generated) == 10 and all(0 <= t < 100 for t in generated)
    assert demo_result["full_sequence"] == [1, 2, 3] + generated
    assert generated == params.generate([1, 2, 3], 10, temperature=0.8, top_k=10,
                                        rng=random.Random(8))


@pytest.mark.slow
def test_demo_is_reproducible_and_depends_on_the_seed(demo_result):
    again = demo(seed=7)
    assert again["logits_first_10"] == demo_result["logits_first_10"]
    assert again["generated"] == demo_result["generated"]
    assert demo(seed=8)["logits_first_10"] != demo_result["logits_first_10"]


def test_gpt_forward_is_the_last_rows_logits_as_floats():
    params = make_gpt_params(SMALL, random.Random(1))
    assert isinstance(params, GPT)
    logits = gpt_forward([3, 1, 4], params, SMALL)
    assert all(type(x) is float for x in logits) and len(logits) == 11
    assert logits == [v.data for v in params([3, 1, 4])[-1]]
    with pytest.raises(ValueError, match="config"):
        gpt_forward([3], params, GPTConfig(vocab_size=12, d_model=8, num_heads=2,
                                           num_layers=1, max_seq_len=6))


def test_softmax_on_floats():
    p = softmax([1.0, 2.0, 3.0])
    total = math.exp(1) + math.exp(2) + math.exp(3)
    assert max(abs(a - math.exp(z) / total) for a, z in zip(p, [1.0, 2.0, 3.0])) < 1e-15
    assert softmax([1000.0, 1000.0]) == [0.5, 0.5]  # no overflow
    with pytest.raises(ValueError, match="logits"):
        softmax([])


def test_generate_is_the_books_function_and_delegates_to_the_method():
    assert micrograd_gpt.teaching.book.generate is generate
    assert not hasattr(micrograd_gpt, "generate")  # the model's own generate is a method
    params = make_gpt_params(SMALL, random.Random(2))
    ours = generate(params, SMALL, [1, 2], 8, 0.7, 3, random.Random(5))
    assert ours == params.generate([1, 2], 8, temperature=0.7, top_k=3, rng=random.Random(5))
    assert len(ours) == 8  # past max_seq_len=6: the context is cropped
    with pytest.raises(ValueError, match="temperature"):
        generate(params, SMALL, [1], 2, temperature=0.0)
    with no_grad():
        assert generate(params, SMALL, [1], 2) == generate(params, SMALL, [1], 2)


def test_demo_command_prints_every_key(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for key in ("config", "parameters", "logits_first_10", "top_token", "top_probability",
                "generated", "full_sequence"):
        assert f"{key}:" in out
    assert "30,144" in out


def test_python_dash_m_demo_runs():
    result = subprocess.run([sys.executable, "-m", "micrograd_gpt", "demo", "--seed", "3"],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "full_sequence:" in result.stdout and "[1, 2, 3," in result.stdout
