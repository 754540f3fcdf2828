"""Helpers shared by the test files (import them: `from helpers import assert_close`).

Small, dependency-free pieces that several files need: number comparisons, a gelu that
works on a Value or a torch tensor, GPT configurations that cover every option, a
model whose norms are perturbed so that a mistake in them cannot hide, the command line
run in-process, the headless browser of the page tests, and an exercise solution with a
learner's mistake made in it.
"""
import contextlib
import io
import os
import random
import shutil
from pathlib import Path

import pytest

from micrograd_gpt.cli import main
from micrograd_gpt.autograd.value import Value
from micrograd_gpt.models.gpt import GPT, GPTConfig


def run_main(argv):
    """`micrograd-gpt ARGV...` run in this process: (exit status, stdout, stderr). argparse's
    usage errors end in SystemExit; its code is the exit status."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as e:
            code = e.code
    return code, out.getvalue(), err.getvalue()


# The page tests drive Debian's chromium with playwright (playwright's own browser
# download is never used); CHROMIUM=/path/to/chromium picks another one.
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def headless_chromium():
    """Yield a headless Chromium and close it afterwards, or skip saying what to install.
    A generator for a fixture: `browser = pytest.fixture(scope="module")(headless_chromium)`."""
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="browser tests need playwright (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Chromium ({CHROMIUM} not found; "
                    "apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def assert_close(got, want, tol, what=""):
    """|got - want| <= tol · max(1, |want|): absolute for small numbers, relative for big."""
    assert abs(got - want) <= tol * max(1.0, abs(want)), f"{what}: got {got!r}, want {want!r}"


def max_difference(a, b):
    """Largest |a - b| over two equally nested lists of numbers (shapes must match)."""
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        return max(max_difference(x, y) for x, y in zip(a, b))
    return abs(a - b)


def values(numbers):
    """Fresh leaf Values holding `numbers`."""
    return [Value(x) for x in numbers]


def gelu(x):
    """GELU for either a Value or a torch tensor (GPT-2's tanh approximation)."""
    if isinstance(x, Value):
        return x.gelu()
    import torch
    return torch.nn.functional.gelu(x, approximate="tanh")


# Small configurations covering every option: each norm, each activation, tied and untied,
# 1-2 layers, 1-4 heads, fused and plain, norms with and without a gain, a norm after the
# embeddings, no final norm (the last two are microgpt.py's choices). init_std is large so
# that every part of the model matters to the numbers (at 0.02 attention would be nearly
# uniform).
GPT_CONFIGS = [
    GPTConfig(vocab_size=12, d_model=8, num_heads=2, num_layers=2, max_seq_len=8,
              init_std=0.5),
    GPTConfig(vocab_size=10, d_model=12, num_heads=3, num_layers=1, max_seq_len=6,
              norm="rmsnorm", activation="relu", tie_weights=False, init_std=0.5),
    GPTConfig(vocab_size=7, d_model=8, num_heads=4, num_layers=2, max_seq_len=8,
              norm="rmsnorm", init_std=0.5, fused=False),
    GPTConfig(vocab_size=11, d_model=4, num_heads=1, num_layers=1, max_seq_len=5,
              activation="relu", tie_weights=False, init_std=0.5, fused=False),
    GPTConfig(vocab_size=12, d_model=16, num_heads=4, num_layers=2, max_seq_len=8,
              tie_weights=False, init_std=0.5),
    # microgpt.py's architecture
    GPTConfig(vocab_size=9, d_model=8, num_heads=4, num_layers=1, max_seq_len=7,
              norm="rmsnorm", activation="relu", tie_weights=False, elementwise_affine=False,
              embedding_norm=True, final_norm=False, init_std=0.5),
    # the remaining mixes: layernorm without gain and bias, a norm after the embeddings
    # with a learned gain, no final norm with a tied unembedding
    GPTConfig(vocab_size=10, d_model=8, num_heads=2, num_layers=2, max_seq_len=6,
              elementwise_affine=False, embedding_norm=True, init_std=0.5, fused=False),
    GPTConfig(vocab_size=10, d_model=8, num_heads=2, num_layers=1, max_seq_len=6,
              norm="rmsnorm", embedding_norm=True, final_norm=False, init_std=0.5),
    GPTConfig(vocab_size=10, d_model=8, num_heads=2, num_layers=1, max_seq_len=6,
              embedding_norm=True, init_std=0.5),
]


def _config_id(c):
    norm = c.norm + ("" if c.elementwise_affine else "-noaffine")
    norm += ("-embnorm" if c.embedding_norm else "") + ("" if c.final_norm else "-nofinal")
    return (f"{norm}-{c.activation}-{'tied' if c.tie_weights else 'untied'}-L{c.num_layers}"
            f"-H{c.num_heads}-{'fused' if c.fused else 'plain'}")


GPT_IDS = [_config_id(c) for c in GPT_CONFIGS]


def make_gpt(config, seed=0):
    """A GPT whose norm gains and biases are also moved away from 1 and 0, so a mistake in
    how they are used cannot hide."""
    model = GPT(config, rng=random.Random(seed))
    rng = random.Random(seed + 1000)
    for name, p in model.named_parameters():
        if ".ln_" in name or name.startswith("ln_"):
            p.data = (1.0 if ".weight[" in name else 0.0) + rng.gauss(0.0, 0.3)
    return model


def random_tokens(config, length, seed=0):
    rng = random.Random(seed)
    return [rng.randrange(config.vocab_size) for _ in range(length)]


def grads_by_name(model):
    """{name: nested list of gradients}, shaped like state_dict()."""
    out = {}
    for name, tensor in model.named_tensors():
        if isinstance(tensor[0], list):
            out[name] = [[v.grad for v in row] for row in tensor]
        else:
            out[name] = [v.grad for v in tensor]
    return out


def mutated_solution(tmp_path, number, *replacements, name=None):
    """A copy of exercise `number`'s solution with each (old, new) of `replacements` made
    (every `old` must be there): a learner's typical mistake, to feed the checker."""
    from micrograd_gpt.teaching import exercises
    exercise = exercises.find_exercise(number)
    root = Path(__file__).resolve().parents[1]
    text = (root / "exercise_solutions" / exercise.filename).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / (name or exercise.filename)
    path.write_text(text, encoding="utf-8")
    return path


def load_script(name, path):
    """Import the script at `path` (a docs/ or benchmarks/ file, not a package module) as
    module `name`, so a test can call its functions."""
    import importlib.util
    import sys
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
