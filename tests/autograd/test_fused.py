"""Properties the speed work relies on, checked by counting (never by timing):
fused graphs are much smaller than plain ones, a step's graph has no reference cycles, so
reference counting frees it the moment the loss is dropped, and the benchmark's baseline
Value is a real autograd engine."""
import gc
import random

import pytest

from micrograd_gpt import functional as F
from micrograd_gpt.autograd.value import Value, topological_order
from micrograd_gpt.models.gpt import GPT, GPTConfig
from micrograd_gpt.training.presets import PRESETS

MICROGPT = dict(PRESETS["microgpt"]["model"], vocab_size=27)
NAME = [0, 5, 13, 13, 1, 0]  # BOS e m m a BOS


def graph_size(fused):
    model = GPT(GPTConfig(**MICROGPT, fused=fused), rng=random.Random(0))
    nodes = topological_order(model.loss(NAME))
    return len(nodes), sum(len(n._prev) for n in nodes)


def test_fused_step_graph_has_at_least_five_times_fewer_nodes():
    fused_nodes, fused_edges = graph_size(True)
    plain_nodes, plain_edges = graph_size(False)
    assert plain_nodes >= 5 * fused_nodes, (plain_nodes, fused_nodes)
    assert plain_edges > fused_edges


def count_values():
    return sum(1 for obj in gc.get_objects() if type(obj) is Value)


@pytest.mark.slow
def test_a_training_step_graph_has_no_reference_cycles():
    """With the cyclic collector off, only reference counting can free the graph: if every
    node the step created is gone once the loss is dropped, there was no cycle."""
    model = GPT(GPTConfig(**MICROGPT), rng=random.Random(0))
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = count_values()
        loss = model.loss(NAME)
        loss.backward()
        during = count_values()
        del loss
        after = count_values()
    finally:
        if was_enabled:
            gc.enable()
    assert during > before + 1000  # the graph really was there
    assert after == before          # and reference counting alone freed all of it


@pytest.mark.slow
def test_plain_graph_has_no_reference_cycles_either():
    gc.collect()
    gc.disable()
    try:
        before = count_values()
        with F.fused_ops(False):
            x = [Value(0.1 * i) for i in range(8)]
            loss = F.cross_entropy(F.softmax(x), 3)
        loss.backward()
        del loss, x
        after = count_values()
    finally:
        gc.enable()
    assert after == before


def _engine_benchmark():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "engine.py"
    spec = importlib.util.spec_from_file_location("engine_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_baseline_value_computes_the_same_gradients():
    """benchmarks/engine.py compares the engine with the simplest Value that works: it
    must really work (same values and gradients), or the comparison means nothing."""
    bench = _engine_benchmark()
    for make in (bench.chain_builder, bench.wide_builder):
        ours, base = make(Value, 301)(), make(bench.BaselineValue, 301)()
        assert abs(ours.data - base.data) < 1e-9
        ours.backward()
        base.backward()
        ours_leaves = [n for n in topological_order(ours) if not n._prev]
        base_seen, stack, base_leaves = {base}, [base], []
        while stack:  # the baseline's leaves, found the same way
            node = stack.pop()
            if not node._prev:
                base_leaves.append(node)
            for child in node._prev:
                if child not in base_seen:
                    base_seen.add(child)
                    stack.append(child)
        assert sorted(n.grad for n in ours_leaves) == pytest.approx(
            sorted(n.grad for n in base_leaves))
    a = bench.BaselineValue(2.0)
    b = a * a + a  # a shared node: its gradient must collect from both uses
    b.backward()
    assert a.grad == 5.0


@pytest.mark.slow
def test_the_engine_benchmark_runs(capsys):
    ratios = _engine_benchmark().main(["--nodes", "3000", "--repeats", "1"])
    out = capsys.readouterr().out
    assert "Value / baseline, chain: build" in out and set(ratios) == {"chain", "wide plain"}
    assert all(build > 0 and backward > 0 for build, backward in ratios.values())
