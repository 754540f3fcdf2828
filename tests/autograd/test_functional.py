"""Tests for the list operations in functional.py: values and gradients against PyTorch
(float64), fused and plain graphs giving the same numbers, the fused graph being much
smaller, no_grad, and the errors for bad arguments."""
import random

import pytest

from helpers import assert_close
from micrograd_gpt import functional as F
from micrograd_gpt.autograd.modes import no_grad
from micrograd_gpt.autograd.value import Value, topological_order

TORCH_TOL = 1e-9     # engine against torch, both float64
SAME_TOL = 1e-12     # fused against plain: the same sums in the same order




def random_list(rng, n, scale=1.0):
    return [rng.uniform(-2.0, 2.0) * scale for _ in range(n)]


_rng = random.Random(1234)
NUMBERS = random_list(_rng, 6)                            # plain numbers for dot
WEIGHTS = [0.3, -1.2, 0.7, 2.0, -0.4, 1.1, 0.9, -0.8]    # to reduce a list to one number


def weighted_sum(outputs):
    """Σ WEIGHTS[i]·outputs[i] from plain engine ops (uneven weights, so that the
    gradient through softmax, whose outputs always sum to 1, is not zero)."""
    total = outputs[0] * WEIGHTS[0]
    for w, out in zip(WEIGHTS[1:], outputs[1:]):
        total = total + out * w
    return total


def torch_weighted_sum(torch, outputs):
    return (outputs * torch.tensor(WEIGHTS[:len(outputs)], dtype=torch.float64)).sum()


# (name, the input lists, engine function, torch function). Each input is a list (a vector)
# or a list of lists (a matrix); both functions take them as keyword arguments.
CASES = [
    ("sum_values", {"x": random_list(_rng, 7)},
     lambda x: F.sum_values(x), lambda t, x: x.sum()),
    ("mean", {"x": random_list(_rng, 7)},
     lambda x: F.mean(x), lambda t, x: x.mean()),
    ("mean_of_one", {"x": random_list(_rng, 1)},
     lambda x: F.mean(x), lambda t, x: x.mean()),
    ("dot_values_values", {"a": random_list(_rng, 6), "b": random_list(_rng, 6)},
     lambda a, b: F.dot(a, b), lambda t, a, b: (a * b).sum()),
    ("dot_values_numbers", {"a": random_list(_rng, 6)},
     lambda a: F.dot(a, NUMBERS),
     lambda t, a: (a * t.tensor(NUMBERS, dtype=t.float64)).sum()),
    ("dot_numbers_values", {"b": random_list(_rng, 6)},
     lambda b: F.dot(NUMBERS, b),
     lambda t, b: (t.tensor(NUMBERS, dtype=t.float64) * b).sum()),
    ("linear", {"x": random_list(_rng, 5), "w": [random_list(_rng, 5) for _ in range(3)]},
     lambda x, w: weighted_sum(F.linear(x, w)),
     lambda t, x, w: torch_weighted_sum(t, w @ x)),
    ("linear_bias", {"x": random_list(_rng, 5), "w": [random_list(_rng, 5) for _ in range(4)],
                     "b": random_list(_rng, 4)},
     lambda x, w, b: weighted_sum(F.linear(x, w, b)),
     lambda t, x, w, b: torch_weighted_sum(t, w @ x + b)),
    ("softmax", {"z": random_list(_rng, 6)},
     lambda z: weighted_sum(F.softmax(z)),
     lambda t, z: torch_weighted_sum(t, t.softmax(z, 0))),
    ("softmax_large_logits", {"z": random_list(_rng, 6, scale=400.0)},
     lambda z: weighted_sum(F.softmax(z)),
     lambda t, z: torch_weighted_sum(t, t.softmax(z, 0))),
    ("log_softmax", {"z": random_list(_rng, 6)},
     lambda z: weighted_sum(F.log_softmax(z)),
     lambda t, z: torch_weighted_sum(t, t.log_softmax(z, 0))),
    ("log_softmax_large_logits", {"z": random_list(_rng, 6, scale=400.0)},
     lambda z: weighted_sum(F.log_softmax(z)),
     lambda t, z: torch_weighted_sum(t, t.log_softmax(z, 0))),
    ("cross_entropy", {"z": random_list(_rng, 6)},
     lambda z: F.cross_entropy(z, 2),
     lambda t, z: t.nn.functional.cross_entropy(z[None], t.tensor([2]))),
    ("cross_entropy_last_class", {"z": random_list(_rng, 6)},
     lambda z: F.cross_entropy(z, 5),
     lambda t, z: t.nn.functional.cross_entropy(z[None], t.tensor([5]))),
    ("cross_entropy_large_logits", {"z": random_list(_rng, 6, scale=400.0)},
     lambda z: F.cross_entropy(z, 0),
     lambda t, z: t.nn.functional.cross_entropy(z[None], t.tensor([0]))),
    ("inverse_rms", {"x": random_list(_rng, 7)},
     lambda x: F.inverse_rms(x, 1e-5), lambda t, x: ((x * x).mean() + 1e-5) ** -0.5),
    ("inverse_rms_tiny_inputs", {"x": random_list(_rng, 5, scale=1e-3)},
     lambda x: F.inverse_rms(x, 1e-5), lambda t, x: ((x * x).mean() + 1e-5) ** -0.5),
    ("linear_then_relu", {"x": random_list(_rng, 5), "w": [random_list(_rng, 5) for _ in range(6)]},
     lambda x, w: weighted_sum([F.relu(h) for h in F.linear(x, w)]),
     lambda t, x, w: torch_weighted_sum(t, t.relu(w @ x))),
    ("linear_then_cross_entropy", {"x": random_list(_rng, 4),
                                   "w": [random_list(_rng, 4) for _ in range(5)],
                                   "b": random_list(_rng, 5)},
     lambda x, w, b: F.cross_entropy(F.linear(x, w, b), 3),
     lambda t, x, w, b: t.nn.functional.cross_entropy((w @ x + b)[None], t.tensor([3]))),
]
IDS = [c[0] for c in CASES]


def to_values(numbers):
    """A list (or list of lists) of floats -> the same shape of leaf Values."""
    return [to_values(x) if isinstance(x, list) else Value(x) for x in numbers]


def flat(nested):
    for x in nested:
        yield from (flat(x) if isinstance(x, list) else [x])


def run_engine(inputs, func, fused):
    """Build the graph in the given mode, back-propagate; (output, {name: leaf Values})."""
    leaves = {name: to_values(numbers) for name, numbers in inputs.items()}
    with F.fused_ops(fused):
        out = func(**leaves)
    out.backward()
    return out, leaves


@pytest.mark.slow
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
@pytest.mark.parametrize("inputs, func, torch_func", [c[1:] for c in CASES], ids=IDS)
def test_matches_torch(torch, inputs, func, torch_func, fused):
    out, leaves = run_engine(inputs, func, fused)
    tensors = {name: torch.tensor(numbers, dtype=torch.float64, requires_grad=True)
               for name, numbers in inputs.items()}
    expected = torch_func(torch, **tensors)
    expected.backward()
    assert_close(out.data, expected.item(), TORCH_TOL, "value")
    for name, tensor in tensors.items():
        for v, g in zip(flat(leaves[name]), tensor.grad.flatten().tolist()):
            assert_close(v.grad, g, TORCH_TOL, f"gradient of {name}")


@pytest.mark.parametrize("inputs, func", [c[1:3] for c in CASES], ids=IDS)
def test_fused_and_plain_agree(inputs, func):
    fused_out, fused_leaves = run_engine(inputs, func, True)
    plain_out, plain_leaves = run_engine(inputs, func, False)
    assert_close(fused_out.data, plain_out.data, SAME_TOL, "value")
    for name in inputs:
        for f, p in zip(flat(fused_leaves[name]), flat(plain_leaves[name])):
            assert_close(f.grad, p.grad, SAME_TOL, f"gradient of {name}")


def interior_nodes(out):
    """How many operation nodes (nodes with children) the graph of `out` has."""
    return sum(1 for node in topological_order(out) if node._prev)


_n = 50
NODE_CASES = [
    ("sum_values", lambda: F.sum_values(to_values(random_list(_rng, _n)))),
    ("dot", lambda: F.dot(to_values(random_list(_rng, _n)), to_values(random_list(_rng, _n)))),
    ("linear", lambda: F.sum_values(F.linear(to_values(random_list(_rng, _n)),
                                             [to_values(random_list(_rng, _n))
                                              for _ in range(4)]))),
    ("cross_entropy", lambda: F.cross_entropy(to_values(random_list(_rng, _n)), 7)),
]


@pytest.mark.parametrize("build", [c[1] for c in NODE_CASES], ids=[c[0] for c in NODE_CASES])
def test_fused_graph_has_far_fewer_nodes(build):
    fused = interior_nodes(build())
    with F.fused_ops(False):
        plain = interior_nodes(build())
    assert plain >= _n - 1           # a plain sum of n terms alone needs n - 1 additions
    assert fused * 10 <= plain, f"fused {fused} nodes, plain {plain}"


def test_fused_nodes_are_named():
    x = to_values([0.5, -1.0, 2.0])
    assert F.sum_values(x)._op == "sum"
    assert F.dot(x, x)._op == "dot"
    assert F.cross_entropy(x, 1)._op == "cross_entropy"


# ---- the fused_ops switch ----------------------------------------------------------------

def test_fused_ops_switch_restores_its_state():
    assert F.is_fused()
    with F.fused_ops(False):
        assert not F.is_fused()
        with F.fused_ops(True):
            assert F.is_fused()
        assert not F.is_fused()
    assert F.is_fused()
    with pytest.raises(RuntimeError):
        with F.fused_ops(False):
            raise RuntimeError("boom")
    assert F.is_fused()


# ---- no_grad --------------------------------------------------------------------------

@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_linear_under_no_grad(fused, with_bias):
    rng = random.Random(7)
    x = to_values(random_list(rng, 5))
    w = [to_values(random_list(rng, 5)) for _ in range(3)]
    b = to_values(random_list(rng, 3)) if with_bias else None
    with F.fused_ops(fused):
        recorded = F.linear(x, w, b)
        with no_grad():
            unrecorded = F.linear(x, w, b)
    assert [y.data for y in unrecorded] == [y.data for y in recorded]
    assert all(y._prev == () for y in unrecorded)
    for y in unrecorded:
        y.backward()
    assert all(v.grad == 0.0 for v in x + [wi for row in w for wi in row])


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
def test_list_ops_under_no_grad_record_nothing(fused):
    x = to_values([0.5, -1.0, 2.0])
    with F.fused_ops(fused), no_grad():
        outputs = [F.sum_values(x), F.mean(x), F.dot(x, x), F.dot(x, [1.0, 2.0, 3.0]),
                   F.cross_entropy(x, 0)] + F.softmax(x) + F.log_softmax(x)
    assert all(out._prev == () for out in outputs)


# ---- lists that mix Values and plain numbers ---------------------------------------------

MIXED_LISTS = [
    ("value_first", [Value(1.0), 2.0, Value(-0.5)], [0.5, Value(1.5), 3.0]),
    ("number_first", [2.0, Value(-0.5)], [Value(1.5), 3.0]),
]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
@pytest.mark.parametrize("a, b", [m[1:] for m in MIXED_LISTS], ids=[m[0] for m in MIXED_LISTS])
def test_dot_of_lists_mixing_values_and_numbers(a, b, fused):
    """dot's docstring allows lists that mix Values and numbers: every Value gets the
    other operand's number as its gradient, whichever position it has in the list."""
    a = [Value(x.data) if isinstance(x, Value) else x for x in a]   # fresh leaves per run
    b = [Value(x.data) if isinstance(x, Value) else x for x in b]
    numbers = [[float(x) for x in a], [float(x) for x in b]]
    with F.fused_ops(fused):
        out = F.dot(a, b)
    out.backward()
    assert out.data == sum(x * y for x, y in zip(*numbers))
    for mine, others in ((a, numbers[1]), (b, numbers[0])):
        for x, other in zip(mine, others):
            if isinstance(x, Value):
                assert x.grad == other


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
def test_the_same_values_on_both_sides(fused):
    """dot(x, x) = Σ x_i², so d/dx_i = 2·x_i; linear with x as its own weight row too."""
    x = to_values([0.5, -1.5, 2.0])
    with F.fused_ops(fused):
        out = F.dot(x, x)
    out.backward()
    assert [v.grad for v in x] == [2 * v.data for v in x]
    y = to_values([0.25, -3.0])
    with F.fused_ops(fused):
        (z,) = F.linear(y, [y])
    z.backward()
    assert [v.grad for v in y] == [2 * v.data for v in y]


# ---- bad arguments ---------------------------------------------------------------------

def _v(n):
    return to_values([0.1 * (i + 1) for i in range(n)])


# (name, code that must fail, text the message must contain)
ERRORS = [
    ("sum_values_empty", lambda: F.sum_values([]), ["empty"]),
    ("mean_empty", lambda: F.mean([]), ["empty"]),
    ("dot_empty", lambda: F.dot([], []), ["dot", "empty"]),
    ("dot_lengths", lambda: F.dot(_v(3), _v(2)), ["dot", "3", "2"]),
    ("linear_row_length", lambda: F.linear(_v(3), [_v(3), _v(2)]), ["2", "3"]),
    ("linear_bias_length", lambda: F.linear(_v(3), [_v(3), _v(3)], _v(1)), ["1", "2"]),
    ("linear_empty_input", lambda: F.linear([], [[], []]), ["empty"]),
    ("softmax_empty", lambda: F.softmax([]), ["softmax", "empty"]),
    ("log_softmax_empty", lambda: F.log_softmax([]), ["log_softmax", "empty"]),
    ("cross_entropy_empty", lambda: F.cross_entropy([], 0), ["cross_entropy", "empty"]),
    ("cross_entropy_target_negative", lambda: F.cross_entropy(_v(3), -1),
     ["cross_entropy", "-1", "2"]),
    ("cross_entropy_target_too_big", lambda: F.cross_entropy(_v(3), 3),
     ["cross_entropy", "3"]),
    ("cross_entropy_target_float", lambda: F.cross_entropy(_v(3), 1.5),
     ["cross_entropy", "1.5"]),
    ("cross_entropy_target_text", lambda: F.cross_entropy(_v(3), "0"),
     ["cross_entropy", "'0'"]),
    ("cross_entropy_target_none", lambda: F.cross_entropy(_v(3), None),
     ["cross_entropy", "None"]),
    # what is neither Values nor floats: one error naming the argument and the entry
    ("sum_values_ints", lambda: F.sum_values([1, 2]), ["sum_values", "values[0]", "int 1"]),
    ("sum_values_text", lambda: F.sum_values(["a"]), ["sum_values", "values[0]", "'a'"]),
    ("sum_values_value_and_text", lambda: F.sum_values([Value(1.0), "a"]),
     ["sum_values", "values[1]", "'a'"]),
    ("sum_values_of_a_value", lambda: F.sum_values(Value(1.0)), ["sum_values", "list"]),
    ("sum_values_none", lambda: F.sum_values(None), ["sum_values", "NoneType"]),
    ("mean_ints", lambda: F.mean([1, 2]), ["sum_values", "values[0]"]),
    ("dot_ints", lambda: F.dot([1, 2], [3, 4]), ["dot", "a[0]", "int 1"]),
    ("dot_text", lambda: F.dot(_v(2), ["a", 1.0]), ["dot", "b[0]", "'a'"]),
    ("dot_a_value", lambda: F.dot(Value(1.0), _v(1)), ["dot", "a", "list"]),
    ("linear_text_input", lambda: F.linear(["a", 1.0], [_v(2)]), ["linear", "x[0]", "'a'"]),
    ("linear_weight_none", lambda: F.linear(_v(2), None), ["linear", "weight"]),
    ("scale_text_factor", lambda: F.scale(_v(2), "2"), ["scale", "factor", "'2'"]),
    ("scale_text_entry", lambda: F.scale(["a"], 2.0), ["scale", "values[0]", "'a'"]),
    ("inverse_rms_text", lambda: F.inverse_rms(["a"], 1e-5), ["inverse_rms", "x[0]"]),
    ("softmax_ints", lambda: F.softmax([1, 2]), ["softmax", "logits[0]", "int 1"]),
    ("log_softmax_text", lambda: F.log_softmax([Value(1.0), "a"]), ["log_softmax", "logits[1]"]),
    ("cross_entropy_text", lambda: F.cross_entropy(["a", Value(1.0)], 0),
     ["cross_entropy", "logits[0]", "'a'"]),
    ("gelu_text", lambda: F.gelu("a"), ["gelu", "'a'"]),
    ("relu_none", lambda: F.relu(None), ["relu", "None"]),
    ("tanh_list", lambda: F.tanh([1.0]), ["tanh", "list"]),
    ("sigmoid_text", lambda: F.sigmoid("0"), ["sigmoid", "'0'"]),
]


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
@pytest.mark.parametrize("code, fragments", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_arguments_raise_a_clear_value_error(code, fragments, fused):
    with F.fused_ops(fused), pytest.raises(ValueError) as info:
        code()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


def test_linear_accepts_plain_numbers_as_inputs_in_both_modes():
    """Numbers in x are constant inputs: same outputs as Values, and the weights still get
    their gradients (x_j)."""
    import micrograd_gpt.autograd.functional as F
    from micrograd_gpt.autograd.value import Value
    for fused in (True, False):
        with F.fused_ops(fused):
            W = [[Value(0.5), Value(-1.0)], [Value(2.0), Value(0.25)]]
            y = F.linear([3.0, 4.0], W)
            assert [v.data for v in y] == [0.5 * 3.0 - 1.0 * 4.0, 2.0 * 3.0 + 0.25 * 4.0]
            F.sum_values(y).backward()
            assert [[w.grad for w in row] for row in W] == [[3.0, 4.0], [3.0, 4.0]]


# ---- the fused relu and the weights read once per forward ----------------------------------

def test_fused_relu_is_the_input_itself_or_a_constant_zero():
    on, off = Value(0.7), Value(-0.7)
    assert F.relu(on) is on                       # identity: the gradient flows straight on
    zero = F.relu(off)
    assert zero.data == 0.0 and zero._prev == ()  # no path back: nothing flows to `off`
    (F.relu(on) * 3.0 + zero * 5.0).backward()
    assert on.grad == 3.0 and off.grad == 0.0 and zero.grad == 5.0
    with F.fused_ops(False):                       # plain: the engine's relu node
        node = F.relu(on)
    assert node._op == "relu" and node._prev == (on,) and node._local_grads == (1.0,)
    assert F.relu(0.0) == 0.0 and F.relu(2.5) == 2.5 and F.relu(-1.0) == 0.0


def test_weights_fixed_reuses_the_numbers_only_inside_the_block():
    rng = random.Random(5)
    w = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(3)]
    x = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    with F.weights_fixed():
        first = [v.data for v in F.linear(x, w)]
        second = [v.data for v in F.linear(x, w)]
        other = [[Value(1.0)] * 4 for _ in range(3)]  # another matrix: its own numbers
        assert [v.data for v in F.linear(x, other)] == [sum(v.data for v in x)] * 3
    assert first == second == [v.data for v in F.linear(x, w)]
    w[0][0].data += 1.0  # after the block, a changed weight is read again
    assert F.linear(x, w)[0].data == pytest.approx(first[0] + x[0].data)
    with F.weights_fixed():
        assert F.linear(x, w)[0].data == pytest.approx(first[0] + x[0].data)


def test_inverse_rms_is_one_node_with_the_inputs_as_children():
    x = [Value(v) for v in (0.3, -1.2, 2.0)]
    r = F.inverse_rms(x, 1e-5)
    assert r._op == "inverse_rms" and r._prev == tuple(x)
    with F.fused_ops(False):
        plain = F.inverse_rms(x, 1e-5)
    assert plain.data == r.data and plain._op.startswith("**")
    assert F.inverse_rms([0.3, -1.2, 2.0], 1e-5) == r.data  # floats: the same number
    with pytest.raises(ValueError, match="empty"):
        F.inverse_rms([], 1e-5)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "plain"])
def test_numbers_among_values_are_constants_everywhere(fused):
    """sum_values, softmax and cross_entropy take lists mixing Values and numbers, as dot
    does: the numbers are constants (same value as a Value, no gradient to give)."""
    with F.fused_ops(fused):
        x = Value(0.5)
        total = F.sum_values([x, 2, 1.5])
        total.backward()
        assert total.data == 4.0 and x.grad == 1.0
        mixed = F.softmax([Value(0.5), 2.0])
        assert [p.data for p in mixed] == [p.data for p in F.softmax([Value(0.5), Value(2.0)])]
        z = Value(1.0)
        loss = F.cross_entropy([z, 0.0], 1)
        loss.backward()
        assert z.grad == pytest.approx(F.softmax([1.0, 0.0])[0])
