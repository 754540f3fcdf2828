"""Sizes that cannot fit, refused before anything is built: a training step to draw whose
graph would hold hundreds of millions of nodes (`graph --batch-size 100000`), and a model
whose parameters as Values would need more memory than the machine has (from Python as
from the command line)."""
import pytest

from helpers import run_main as run  # micrograd-gpt in this process
from micrograd_gpt.cli import graph as graph_command
from micrograd_gpt.models import language_model
from micrograd_gpt.models.bigram import (BigramConfig, CountingBigram, NeuralBigram,
                                         NeuralBigramConfig)
from micrograd_gpt.models.context_mlp import ContextMLP, ContextMLPConfig
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.models.rnn import RNN, RNNConfig
from micrograd_gpt.models.registry import build_model


def assert_one_clear_error(status, err, fragment):
    assert status == 2, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert fragment in err, err


# ---- drawing one training step --------------------------------------------------------------

@pytest.mark.parametrize("argv", [["--gpt"], ["--model", "rnn"], ["--model", "mlp"]])
def test_a_batch_too_big_to_draw_is_refused_before_it_is_built(tmp_path, argv):
    picture = tmp_path / "step.svg"
    status, out, err = run(["graph", *argv, "--batch-size", "100000", "-o", str(picture)])
    assert_one_clear_error(status, err, "--batch-size 100000: one training step would make "
                                        "about")
    assert f"more than the {graph_command.MAX_STEP_NODES:,} a drawing builds" in err
    assert out == "" and not picture.exists()


@pytest.mark.slow
def test_the_refusal_says_which_batch_size_fits(tmp_path, monkeypatch):
    monkeypatch.setattr(graph_command, "MAX_STEP_NODES", 30_000)
    status, _, err = run(["graph", "--gpt", "--batch-size", "50",
                          "-o", str(tmp_path / "x.svg")])
    assert_one_clear_error(status, err, "give --batch-size")
    most = int(err.split("give --batch-size ")[1].split()[0])
    assert most >= 1
    status, out, err = run(["graph", "--gpt", "--batch-size", str(most),
                            "-o", str(tmp_path / "x.svg")])
    assert status == 0, err
    nodes = int(out.split(": ")[1].split(" nodes")[0].replace(",", ""))
    assert nodes <= 30_000 * 1.5  # "about": documents differ in length


def test_a_batch_that_fits_is_drawn(tmp_path):
    status, out, err = run(["graph", "--gpt", "--batch-size", "2", "-o", str(tmp_path / "x.gv")])
    assert status == 0, err
    assert "module boxes" in out


# ---- models too big for the machine ------------------------------------------------------------

@pytest.fixture
def sixteen_gib(monkeypatch):
    """This machine, as the checks see it, has 16 GiB of memory (whatever it really has)."""
    monkeypatch.setattr(language_model, "physical_memory", lambda: 16 * 2 ** 30)


HUGE = {
    "gpt": lambda: GPT(GPTConfig(vocab_size=10 ** 7, d_model=64, num_heads=4, num_layers=2,
                                 max_seq_len=64)),
    "bigram": lambda: CountingBigram(BigramConfig(vocab_size=100_000)),
    "neural_bigram": lambda: NeuralBigram(NeuralBigramConfig(vocab_size=100_000)),
    "mlp": lambda: ContextMLP(ContextMLPConfig(vocab_size=10 ** 6, d_embed=1000,
                                               d_hidden=1000)),
    "rnn": lambda: RNN(RNNConfig(vocab_size=10 ** 6, d_embed=1000, d_hidden=1000)),
}


@pytest.mark.parametrize("kind", list(HUGE))
def test_a_model_too_big_for_the_memory_is_refused_before_it_is_built(kind, sixteen_gib):
    each = language_model.BYTES_PER_PARAMETER
    with pytest.raises(ValueError, match=r"would have [\d,]+ parameters, about [\d,]+ GiB as "
                                         rf"Values \({each} bytes each\), more than this "
                                         r"machine's 16 GiB of memory; make it smaller"):
        HUGE[kind]()


def test_the_gpt_of_the_report_is_refused_whatever_the_machine():
    # 10**9 x 64 parameters: 7 TB as Values, more than any machine these tests run on
    with pytest.raises(ValueError, match="more than this machine's"):
        GPT(GPTConfig(vocab_size=10 ** 9, d_model=64, num_heads=4, num_layers=2,
                      max_seq_len=64))


def test_build_model_refuses_it_too(sixteen_gib):
    with pytest.raises(ValueError, match="16 GiB"):
        build_model("gpt", {"vocab_size": 10 ** 7, "d_model": 64, "num_heads": 4,
                            "num_layers": 2, "max_seq_len": 64})


def test_a_model_that_fits_is_built(sixteen_gib):
    model = GPT(GPTConfig(vocab_size=27, d_model=16, num_heads=2, num_layers=1,
                          max_seq_len=16))
    assert len(model.parameters()) == GPT.count_parameters(model.config)


def test_where_the_system_does_not_say_its_memory_nothing_is_refused(monkeypatch):
    monkeypatch.setattr(language_model, "physical_memory", lambda: None)
    CountingBigram(BigramConfig(vocab_size=30))


def test_the_memory_of_this_machine_is_known_here():
    memory = language_model.physical_memory()
    assert memory is None or 2 ** 28 < memory < 2 ** 50
