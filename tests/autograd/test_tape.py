"""The Tape (backward without a search of the graph), the switches that pick Value's
__init__ (no_grad, record_scopes, module_scope, Tape), and the depth-first topological
order that replaced the creation counter."""
import gc
import random

import pytest

from helpers import GPT_CONFIGS, GPT_IDS, grads_by_name, make_gpt, max_difference, random_tokens
from micrograd_gpt import functional as F
from micrograd_gpt.autograd.value import (Tape, Value, enable_grad, is_grad_enabled, is_recording_scopes,
                                  module_scope, no_grad, record_scopes, scope_of,
                                  topological_order)
from micrograd_gpt.training.optim import Adam
from micrograd_gpt.training.engines import train_step

INIT = Value.__init__  # the usual one, for checking that every switch puts it back


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
    assert scope_of(tagged) == "m" and untracked._prev == () and scope_of(taped) == "n"
    assert tape.nodes == [taped]


def test_the_switches_are_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with Tape():
            with no_grad():
                raise RuntimeError("boom")
    assert Value.__init__ is INIT
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
