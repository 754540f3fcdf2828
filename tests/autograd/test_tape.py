"""The Tape (backward without a search of the graph), a model's loss that keeps its tape,
the switches that pick the node makers (no_grad, record_scopes, module_scope, Tape), and
the depth-first topological order that replaced the creation counter."""
import gc
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers import GPT_CONFIGS, GPT_IDS, grads_by_name, make_gpt, max_difference, random_tokens
from micrograd_gpt import functional as F
from micrograd_gpt.autograd.modes import (enable_grad, is_grad_enabled, is_recording_scopes,
                                          module_scope, no_grad, record_scopes, scope_of)
from micrograd_gpt.autograd.tape import Tape, cyclic_gc_paused
from micrograd_gpt.autograd.value import Value, topological_order
from micrograd_gpt.training.optim import Adam
from micrograd_gpt.training.engines import train_step

from micrograd_gpt.autograd import value as engine
from micrograd_gpt.models.language_model import LanguageModel

INIT = Value.__init__  # the usual ones, for checking that every switch puts them back
NODE = engine._node


# ---- the tape gives what backward() gives ----------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("config", GPT_CONFIGS, ids=GPT_IDS)
def test_tape_backward_equals_backward_on_every_gpt(config):
    tokens = random_tokens(config, config.max_seq_len + 1, seed=4)
    plain_model, taped_model = make_gpt(config, seed=2), make_gpt(config, seed=2)
    plain_model.loss(tokens).backward()
    with Tape() as tape:
        loss = taped_model.loss(tokens)
    assert tape.covers(loss) and len(tape) > 0
    tape.backward(loss)
    ours, theirs = grads_by_name(taped_model), grads_by_name(plain_model)
    for name in ours:  # the same sums, added in another order: equal to rounding
        assert max_difference(ours[name], theirs[name]) < 1e-12, name
    assert max(abs(p.grad) for p in taped_model.parameters()) > 1e-3


def test_second_backward_and_backward_from_an_interior_node():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    with Tape() as tape:
        e = a * b
        d = e + a
        out = (d * e).tanh()
    tape.backward(out)
    first = (a.grad, b.grad)
    interior = {id(e): e.grad, id(d): d.grad}
    tape.backward(out)  # leaves accumulate, interior nodes start again from zero
    assert (a.grad, b.grad) == (2 * first[0], 2 * first[1])
    assert (e.grad, d.grad) == (interior[id(e)], interior[id(d)])
    a.grad = b.grad = 0.0
    tape.backward(d)  # from an interior node: only what d depends on, as d.backward()
    taped = (a.grad, b.grad)
    a.grad = b.grad = 0.0
    d.backward()
    assert taped == (a.grad, b.grad) == (1.0 + b.data, a.data)


def test_two_graphs_on_one_tape():
    x, y = Value(0.5, label="x"), Value(-1.5, label="y")
    with Tape() as tape:
        first = (x * y).exp()
        second = (x + y) * y  # another graph, alive at the same time
    tape.backward(first)
    assert x.grad == pytest.approx(y.data * first.data) and y.grad == pytest.approx(
        x.data * first.data)
    x.grad = y.grad = 0.0
    tape.backward(second)
    assert (x.grad, y.grad) == (y.data, x.data + 2 * y.data)


def test_a_value_made_before_the_tape_is_an_input_of_it():
    """What the tape did not record it does not go through (TensorFlow's GradientTape);
    covers() says so, and the trainer refuses such a model."""
    w = Value(3.0, label="w")
    doubled = w * 2.0  # made before the tape
    with Tape() as tape:
        out = doubled * doubled
    assert not tape.covers(out)
    tape.backward(out)
    assert doubled.grad == 12.0 and w.grad == 0.0  # doubled got its gradient, w none
    out.backward()
    assert w.grad == 24.0  # backward() searches the whole graph


def test_the_trainer_refuses_a_model_whose_graph_starts_before_the_step():
    model = make_gpt(GPT_CONFIGS[0])
    optimizer = Adam(model.parameters(), lr=0.01)
    stale = model.wte.weight[1][0] * 1.0  # an interior Value computed once, outside
    original = model.wte.weight[1][0]
    model.wte.weight[1][0] = stale
    with pytest.raises(ValueError, match="computed before the training step"):
        train_step(model, optimizer, [[1, 2, 3]], lr=0.01)
    model.wte.weight[1][0] = original
    loss, _ = train_step(model, optimizer, [[1, 2, 3]], lr=0.01)
    assert loss > 0 and optimizer.steps == 1


def test_root_must_be_on_the_tape_and_tapes_do_not_nest():
    x = Value(1.0)
    outside = x * 2.0
    with Tape() as tape:
        inside = x * 3.0
        with pytest.raises(ValueError, match="do not nest"):
            with Tape():
                pass
    with pytest.raises(ValueError, match="not made while this tape was recording"):
        tape.backward(outside)
    with pytest.raises(ValueError, match="not made while this tape was recording"):
        tape.backward(x)
    tape.backward(inside)
    assert x.grad == 3.0 and repr(tape) == "Tape(1 nodes)"


def test_no_grad_inside_a_tape_records_nothing():
    x = Value(1.0)
    with Tape() as tape:
        with no_grad():
            constant = x * 2.0
        out = constant * x
    assert tape.nodes == [out] and constant._prev == ()
    tape.backward(out)
    assert x.grad == 2.0


@pytest.mark.slow
def test_a_training_step_on_a_tape_frees_its_graph():
    """train_step builds on a Tape; once it returns, reference counting alone (the cyclic
    collector off) has freed every node: the tape holds nodes, nodes never hold it."""
    model = make_gpt(GPT_CONFIGS[1])
    optimizer = Adam(model.parameters(), lr=0.01)
    train_step(model, optimizer, [[1, 2, 3, 4]], lr=0.01)  # the first step checks more
    gc.collect()
    gc.disable()
    try:
        before = sum(1 for obj in gc.get_objects() if type(obj) is Value)
        train_step(model, optimizer, [[1, 2, 3, 4], [5, 6, 7]], lr=0.01)
        after = sum(1 for obj in gc.get_objects() if type(obj) is Value)
    finally:
        gc.enable()
    assert after == before


# ---- the switches pick Value's __init__, and put it back --------------------------------

def test_every_switch_restores_the_usual_init():
    with no_grad():
        assert Value.__init__ is not INIT
        with enable_grad():
            assert Value.__init__ is INIT
    with record_scopes():
        with module_scope("m"):
            tagged = Value(1.0) * 2.0
        with no_grad():
            untracked = Value(1.0) * 2.0
    with Tape() as tape:
        with record_scopes(), module_scope("n"):
            taped = Value(1.0) * 3.0
    assert Value.__init__ is INIT and is_grad_enabled() and not is_recording_scopes()
    assert engine._node is NODE
    assert scope_of(tagged) == "m" and untracked._prev == () and scope_of(taped) == "n"
    assert tape.nodes == [taped]


def test_the_switches_are_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with Tape():
            with no_grad():
                raise RuntimeError("boom")
    assert Value.__init__ is INIT and engine._node is NODE
    with Tape() as tape:  # the failed tape left nothing recording
        Value(1.0) * 2.0
    assert len(tape) == 1


def test_module_scope_tags_even_outside_record_scopes():
    with module_scope("layer"):
        inside = Value(1.0) + 1.0
    outside = Value(1.0) + 1.0
    assert scope_of(inside) == "layer" and scope_of(outside) == ""


# ---- the order of a graph -----------------------------------------------------------------

def random_graph(seed, size=60):
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(0.5, 1.5)) for _ in range(4)]
    for _ in range(size):
        a, b = rng.choice(nodes), rng.choice(nodes)
        op = rng.choice(["+", "*", "tanh", "dot"])
        if op == "+":
            nodes.append(a + b)
        elif op == "*":
            nodes.append((a * b).tanh())
        elif op == "tanh":
            nodes.append(a.tanh())
        else:
            nodes.append(F.dot(rng.sample(nodes, 3), rng.sample(nodes, 3)).tanh())
    return F.sum_values(nodes[-5:])


@pytest.mark.parametrize("seed", range(6))
def test_topological_order_lists_every_node_once_after_its_children(seed):
    root = random_graph(seed)
    order = topological_order(root)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order) and order[-1] is root
    for node in order:
        for child in node._prev:
            assert position[child] < position[node]
    reached, stack = {root}, [root]  # and it is exactly what root depends on
    while stack:
        for child in stack.pop()._prev:
            if child not in reached:
                reached.add(child)
                stack.append(child)
    assert reached == set(order)
    assert topological_order(root) == order  # the same order every time


@pytest.mark.parametrize("seed", range(4))
def test_backward_on_random_graphs_equals_the_tape(seed):
    root = random_graph(seed)
    leaves = [v for v in topological_order(root) if not v._prev]
    root.backward()
    plain = [v.grad for v in leaves]
    for v in leaves:
        v.grad = 0.0
    with Tape() as tape:
        root2 = random_graph(seed)
    leaves2 = [v for v in topological_order(root2) if not v._prev]
    tape.backward(root2, leaves=leaves2)
    assert max(abs(a - b.grad) for a, b in zip(plain, leaves2)) < 1e-12


# ---- a model's loss keeps its tape: the learner's own loop needs no search ------------------

def searched_gradients(model, tokens):
    """The gradients of loss.backward() found by searching the graph: the root (loss × 1)
    was not made by model.loss, so it has no tape."""
    model.zero_grad()
    (model.loss(tokens) * 1.0).backward()
    return grads_by_name(model)


@pytest.mark.parametrize("config", GPT_CONFIGS[:2], ids=GPT_IDS[:2])
def test_a_models_loss_keeps_its_tape_and_gives_the_gradients_of_the_search(config):
    tokens = random_tokens(config, config.max_seq_len + 1, seed=5)
    model = make_gpt(config, seed=3)
    expected = searched_gradients(model, tokens)
    model.zero_grad()
    loss = model.loss(tokens)
    assert loss._tape is not None and len(loss._tape.nodes) > 10
    assert loss not in loss._tape.nodes  # the loss holds its tape, the tape not the loss
    loss.backward()
    for name, grads in grads_by_name(model).items():  # the same sums, in another order
        assert max_difference(grads, expected[name]) < 1e-12, name
    first = grads_by_name(model)
    loss.backward()  # a second backward adds the same again, as with the search
    for name, grads in grads_by_name(model).items():
        assert max_difference(grads, [[2 * g for g in row] for row in first[name]]
                              if isinstance(first[name][0], list)
                              else [2 * g for g in first[name]]) < 1e-12, name


def test_the_loss_keeps_no_tape_where_the_tape_would_not_be_the_whole_graph():
    """A parameter computed from another one (a Value made before the loss): the tape
    misses its node, so the loss keeps none and backward searches; inside another tape
    (the trainer's) or no_grad(), model.loss records nothing of its own."""
    config = GPT_CONFIGS[0]
    model = make_gpt(config)
    w = model.wte.weight[1][0]
    model.wte.weight[1][0] = w * 1.0  # interior, made outside any loss
    loss = model.loss([1, 2, 3])
    assert getattr(loss, "_tape", None) is None
    loss.backward()
    assert w.grad != 0.0 and w.grad == model.wte.weight[1][0].grad  # reached through it
    model.wte.weight[1][0] = w
    with Tape() as tape:
        inner = model.loss([1, 2, 3])
    assert getattr(inner, "_tape", None) is None and tape.nodes[-1] is inner
    with no_grad():
        assert model.loss([1, 2, 3])._prev == ()


class StoredProduct(LanguageModel):
    """A model whose forward reads a Value it computed once, in __init__, from its
    weights: not a parameter, so only a search of the graph finds what is below it."""

    def __init__(self):
        super().__init__()
        self.config = SimpleNamespace(vocab_size=3)
        self.weight = [[Value(0.1 * (i + 2 * j)) for j in range(3)] for i in range(3)]
        self._scale = self.weight[0][0] * 2.0

    def new_state(self):
        return None

    def forward_token(self, token, state):
        return [w * self._scale for w in self.weight[token]]


def test_a_forward_that_reads_a_value_made_before_gets_the_search():
    model = StoredProduct()
    loss = model.loss([0, 1, 2])
    assert getattr(loss, "_tape", None) is None  # the first loss of a model is checked
    loss.backward()
    with_tape_ignored = model.weight[0][0].grad
    model.zero_grad()
    (model.loss([0, 1, 2]) * 1.0).backward()
    assert model.weight[0][0].grad == with_tape_ignored != 0.0


def test_the_learners_loop_frees_its_graph_by_reference_counting():
    """The loss holds the tape and the tape holds the nodes below the loss, not the loss:
    no cycle, so once the loss is dropped its whole graph is freed (collector off)."""
    model = make_gpt(GPT_CONFIGS[1])
    model.loss([1, 2, 3, 4]).backward()  # the first loss of a model checks its graph
    gc.collect()
    gc.disable()
    try:
        before = sum(1 for obj in gc.get_objects() if type(obj) is Value)
        model.zero_grad()
        loss = model.loss([1, 2, 3, 4, 5])
        loss.backward()
        assert sum(1 for obj in gc.get_objects() if type(obj) is Value) > before
        del loss
        after = sum(1 for obj in gc.get_objects() if type(obj) is Value)
    finally:
        gc.enable()
    assert after == before


def test_cyclic_gc_paused_restores_the_collector():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with cyclic_gc_paused():
            assert not gc.isenabled()
            raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()   # it was off before, so it stays off
    finally:
        gc.enable()


def test_the_loss_restores_the_cyclic_collector_even_after_an_error():
    model = make_gpt(GPT_CONFIGS[1])
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            model.loss([1, 2, 3]).backward()
            assert gc.isenabled() is enabled
            with pytest.raises(ValueError):
                model.loss([1, 2, 99])  # a token out of range: refused inside the tape
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
    with Tape() as tape:  # nothing was left recording
        Value(1.0) * 2.0
    assert len(tape) == 1


@pytest.mark.slow
def test_the_speed_benchmark_runs_the_learners_loop_against_the_trainers_step():
    """benchmarks/speed.py imports and runs its loop comparison (numbers are not checked:
    they belong to the benchmark; this only keeps it working)."""
    import importlib.util
    import sys
    folder = Path(__file__).resolve().parents[2] / "benchmarks"
    sys.path.insert(0, str(folder))
    try:
        spec = importlib.util.spec_from_file_location("speed", folder / "speed.py")
        speed = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(speed)
        shape = dict(speed.MICROGPT, vocab_size=12, d_model=8, max_seq_len=6)
        ms = speed.learner_loop_table(shape, [[1, 2, 3], [4, 5, 6, 7]], repeats=2)
    finally:
        sys.path.remove(str(folder))
    assert set(ms) == {"learner loop", "trainer step", "loop, searching", "step, gc running",
                       "learner / trainer"}
    assert all(value > 0 for value in ms.values())
