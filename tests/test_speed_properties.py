"""Properties the speed work relies on, checked by counting (never by timing):
fused graphs are much smaller than plain ones, and a step's graph has no reference cycles,
so reference counting frees it the moment the loss is dropped."""
import gc
import random

from micrograd_gpt import functional as F
from micrograd_gpt.engine import Value, topological_order
from micrograd_gpt.gpt import GPT, GPTConfig
from micrograd_gpt.presets import PRESETS

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
