"""Tests for the Value engine: every operation's value and gradient (against central
finite differences and against PyTorch in float64), backward() on shared and very deep
graphs, gradient accumulation, no_grad(), repr, and the error messages for bad input."""
import math
import operator

import pytest

from helpers import assert_close, gelu
import micrograd_gpt
from micrograd_gpt.autograd.errors import OperandError
from micrograd_gpt.autograd.modes import enable_grad, is_grad_enabled, no_grad
from micrograd_gpt.autograd.value import Value, topological_order

TORCH_TOL = 1e-9   # float64 against float64: only rounding differences are allowed
FD_STEP = 1e-6     # central differences: truncation error ~ h², rounding error ~ eps/h
FD_TOL = 1e-6






def check_against_torch(torch, func, inputs):
    """Run `func` on Values and on float64 tensors; compare the output and every input's
    gradient within TORCH_TOL."""
    values = [Value(x) for x in inputs]
    out = func(*values)
    out.backward()
    tensors = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    expected = func(*tensors)
    expected.backward()
    assert_close(out.data, expected.item(), TORCH_TOL, "value")
    for i, (v, t) in enumerate(zip(values, tensors)):
        want = 0.0 if t.grad is None else t.grad.item()
        assert_close(v.grad, want, TORCH_TOL, f"gradient of input {i}")


def central_difference(func, inputs, i):
    """(f(x + h·e_i) - f(x - h·e_i)) / 2h, evaluated on fresh Values."""
    plus, minus = list(inputs), list(inputs)
    plus[i] += FD_STEP
    minus[i] -= FD_STEP
    f_plus = func(*[Value(x) for x in plus]).data
    f_minus = func(*[Value(x) for x in minus]).data
    return (f_plus - f_minus) / (2 * FD_STEP)


def check_against_finite_differences(func, inputs):
    values = [Value(x) for x in inputs]
    func(*values).backward()
    for i, v in enumerate(values):
        assert_close(v.grad, central_difference(func, inputs, i), FD_TOL, f"gradient of input {i}")


# One line per operation: (name, function of Values or tensors, inputs, smooth there?).
# "smooth" is False at kinks (relu and abs at 0), where only PyTorch's convention applies.
OPS = [
    ("add", lambda x, y: x + y, [0.7, -1.3], True),
    ("add_number_right", lambda x: x + 2.5, [0.7], True),
    ("add_number_left", lambda x: 2.5 + x, [0.7], True),
    ("sub", lambda x, y: x - y, [0.7, -1.3], True),
    ("sub_number_right", lambda x: x - 2.0, [0.7], True),
    ("sub_number_left", lambda x: 2.0 - x, [0.7], True),
    ("mul", lambda x, y: x * y, [0.7, -1.3], True),
    ("mul_number_right", lambda x: x * 3.0, [-0.7], True),
    ("mul_number_left", lambda x: 3.0 * x, [-0.7], True),
    ("div", lambda x, y: x / y, [0.7, -1.3], True),
    ("div_number_right", lambda x: x / 2.0, [-0.7], True),
    ("div_number_left", lambda x: 2.0 / x, [-1.3], True),
    ("neg", lambda x: -x, [0.7], True),
    ("pow_2", lambda x: x ** 2, [-1.3], True),
    ("pow_3_negative_base", lambda x: x ** 3, [-0.8], True),
    ("pow_negative_int_negative_base", lambda x: x ** -2, [-0.8], True),
    ("pow_half", lambda x: x ** 0.5, [1.7], True),
    ("pow_minus_1_5", lambda x: x ** -1.5, [0.6], True),
    ("pow_0", lambda x: x ** 0, [1.3], True),
    ("pow_1", lambda x: x ** 1, [-1.3], True),
    ("pow_2_at_0", lambda x: x ** 2, [0.0], True),
    ("rpow_number_base", lambda x: 2.0 ** x, [0.7], True),
    ("rpow_number_base_below_1", lambda x: 0.5 ** x, [-1.2], True),
    ("pow_value_exponent", lambda x, y: x ** y, [1.7, -0.6], True),
    ("exp", lambda x: x.exp(), [1.3], True),
    ("exp_negative", lambda x: x.exp(), [-0.4], True),
    ("log", lambda x: x.log(), [0.3], True),
    ("sqrt", lambda x: x.sqrt(), [2.3], True),
    ("tanh", lambda x: x.tanh(), [0.6], True),
    ("tanh_negative", lambda x: x.tanh(), [-2.1], True),
    ("sigmoid", lambda x: x.sigmoid(), [0.6], True),
    ("sigmoid_negative", lambda x: x.sigmoid(), [-3.0], True),
    ("sigmoid_very_negative", lambda x: x.sigmoid(), [-40.0], True),
    ("sigmoid_very_positive", lambda x: x.sigmoid(), [40.0], True),
    ("relu_positive", lambda x: x.relu(), [0.8], True),
    ("relu_negative", lambda x: x.relu(), [-0.8], True),
    ("relu_at_0", lambda x: x.relu(), [0.0], False),
    ("gelu", gelu, [0.9], True),
    ("gelu_negative", gelu, [-1.4], True),
    ("gelu_large", gelu, [3.5], True),
    ("abs_positive", lambda x: abs(x), [0.9], True),
    ("abs_negative", lambda x: abs(x), [-1.1], True),
    ("abs_at_0", lambda x: abs(x), [0.0], False),
    # the same Value on both sides of one operation
    ("same_value_mul", lambda x: x * x, [-1.3], True),
    ("same_value_add", lambda x: x + x, [-1.3], True),
    ("same_value_div", lambda x: x / x, [-1.3], True),
    ("same_value_pow", lambda x: x ** x, [1.3], True),
    # a few operations composed, as in micrograd's sanity checks
    ("composite", lambda x, y: ((x * y + 2.0).tanh() - x / (y * y + 1.0)) ** 2
     + (x * 0.5).exp() * gelu(y) - abs(x - y).sqrt(), [0.4, -1.1], True),
    ("composite_2", lambda a, b, c: (a * b).sigmoid() * (c * c + 1.0).log()
     + (b - c).relu() / (a ** 2 + 0.5) - 3.0 / (1.0 + c.exp()), [-0.3, 1.2, 0.8], True),
]


@pytest.mark.parametrize("func, inputs", [(f, x) for _, f, x, _ in OPS], ids=[o[0] for o in OPS])
def test_op_matches_torch(torch, func, inputs):
    check_against_torch(torch, func, inputs)


SMOOTH_OPS = [o for o in OPS if o[3]]


@pytest.mark.parametrize("func, inputs", [(f, x) for _, f, x, _ in SMOOTH_OPS],
                         ids=[o[0] for o in SMOOTH_OPS])
def test_op_matches_finite_differences(func, inputs):
    check_against_finite_differences(func, inputs)


def test_the_helpers_can_fail():
    """A wrong derivative must be caught by the finite-difference helper."""
    def wrong_square(x):
        return Value(x.data ** 2, (x,), (1.0,), "bad")  # d(x²)/dx is 2x, not 1
    with pytest.raises(AssertionError):
        check_against_finite_differences(wrong_square, [3.0])


# ---- the node itself ------------------------------------------------------------------

def test_value_uses_slots_and_has_no_dict():
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
    with pytest.raises(AttributeError):
        v.some_new_attribute = 1


def test_value_stores_data_grad_children_local_grads_op_and_label():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    assert type(a.data) is float and a.data == 2.0
    assert a.grad == 0.0 and a._prev == () and a.label == "a"
    assert c._prev == (a, b)
    assert c._local_grads == (b.data, a.data)  # d(ab)/da = b, d(ab)/db = a
    assert c._op == "*"
    assert c.label == ""


def test_integers_become_floats():
    assert type(Value(3).data) is float
    assert type((Value(1.0) + 2).data) is float


@pytest.mark.parametrize("make, op", [
    (lambda x, y: x + y, "+"), (lambda x, y: x - y, "-"), (lambda x, y: x * y, "*"),
    (lambda x, y: x / y, "/"), (lambda x, y: -x, "neg"), (lambda x, y: x.exp(), "exp"),
    (lambda x, y: x.log(), "log"), (lambda x, y: x.sqrt(), "sqrt"),
    (lambda x, y: x.tanh(), "tanh"), (lambda x, y: x.sigmoid(), "sigmoid"),
    (lambda x, y: x.relu(), "relu"), (lambda x, y: x.gelu(), "gelu"),
    (lambda x, y: abs(x), "abs"),
])
def test_every_op_records_its_name_and_one_local_grad_per_child(make, op):
    x, y = Value(1.5), Value(0.5)
    out = make(x, y)
    assert out._op == op
    assert len(out._prev) == len(out._local_grads) >= 1


def test_pow_records_a_name_starting_with_stars():
    x = Value(1.5)
    assert (x ** 2)._op.startswith("**")
    assert (x ** Value(2.0))._op.startswith("**")


def test_repr_is_readable():
    w = Value(2.5, label="w")
    text = repr(w)
    assert "2.5" in text and "w" in text and "grad" in text
    out = w * 3.0
    out.backward()
    text = repr(out)
    assert "7.5" in text and "*" in text
    assert "3" in repr(w)  # after backward the gradient d(3w)/dw = 3 is shown
    assert len(text) < 80 and "\n" not in text


# ---- backward ------------------------------------------------------------------------

def test_shared_subexpression_receives_every_contribution():
    a = Value(3.0)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0  # c = 4a
    assert b.grad == 2.0


def test_value_multiplied_by_itself():
    a = Value(-1.5)
    (a * a).backward()
    assert a.grad == 2 * a.data


def test_node_with_several_parents():
    a, b = Value(0.5), Value(-2.0)
    c = a * b
    d = c + a          # a reaches d directly and through c
    e = d * c          # c reaches e directly and through d
    e.backward()
    # e = (ab + a)·ab = a²b² + a²b: de/da = 2ab² + 2ab, de/db = 2a²b + a²
    assert_close(a.grad, 2 * 0.5 * 4.0 + 2 * 0.5 * -2.0, 1e-15)
    assert_close(b.grad, 2 * 0.25 * -2.0 + 0.25, 1e-15)


def test_leaf_gradients_accumulate_and_interior_nodes_restart_from_zero():
    a = Value(2.0)
    b = a * a
    c = b + b       # c = 2a², dc/da = 4a, dc/db = 2
    c.backward()
    assert a.grad == 4 * a.data      # 8 at a = 2
    assert b.grad == 2.0
    c.backward()
    assert a.grad == 2 * 4 * a.data  # 16: the leaf accumulates...
    assert b.grad == 2.0             # ...the interior node starts again from zero
    assert c.grad == 1.0


def test_accumulation_matches_torch(torch):
    a = Value(2.0)
    c = (a * a) + (a * a).tanh()
    c.backward()
    c.backward()
    t = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    tc = (t * t) + (t * t).tanh()
    tc.backward(retain_graph=True)
    tc.backward()
    assert_close(a.grad, t.grad.item(), TORCH_TOL)


def test_two_outputs_sharing_a_leaf_add_up():
    a = Value(1.5)
    (a * 3.0).backward()
    (a * a).backward()
    assert a.grad == 3.0 + 2 * a.data


def test_backward_of_a_leaf_and_with_an_upstream_gradient():
    a = Value(1.0)
    a.backward()
    assert a.grad == 1.0
    b = Value(0.3)
    out = b.tanh()
    out.backward(2.5)
    assert_close(b.grad, 2.5 * (1 - math.tanh(0.3) ** 2), 1e-15)


@pytest.mark.slow
def test_chain_of_a_million_nodes():
    n = 1_000_000
    x = Value(0.5)
    y = x
    for _ in range(n - 1):   # x and n - 1 additions: n nodes, n - 1 deep
        y = y + x
    y.backward()             # a recursive topological sort would overflow the stack here
    assert x.grad == n       # y = n·x
    assert y.data == n * 0.5


def test_topological_order_puts_children_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len(set(order)) == 5
    assert order[-1] is e
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for child in node._prev:
            assert position[child] < position[node]


def test_zero_grad_clears_the_whole_graph():
    a, b = Value(1.0), Value(2.0)
    out = (a * b).tanh()
    out.backward()
    out.zero_grad()
    assert a.grad == b.grad == out.grad == 0.0


# ---- no_grad ---------------------------------------------------------------------------

def test_no_grad_records_nothing():
    a, b = Value(0.5), Value(-1.5)
    with no_grad():
        assert not is_grad_enabled()
        hidden = a * b
        out = (hidden + a.exp()).tanh()
    assert is_grad_enabled()
    assert out._prev == () and out._local_grads == ()
    assert hidden._prev == ()
    assert out.data == ((a * b) + a.exp()).tanh().data  # same numbers as with a graph
    out.backward()
    assert a.grad == 0.0 and b.grad == 0.0


def test_no_grad_as_a_decorator():
    @no_grad()
    def square(x):
        """Square a Value."""
        assert not is_grad_enabled()
        return x * x

    a = Value(3.0)
    out = square(a)
    assert is_grad_enabled()
    assert out.data == 9.0 and out._prev == ()
    assert square.__name__ == "square" and square.__doc__ == "Square a Value."


def test_nested_no_grad_and_enable_grad_restore_the_state():
    a = Value(2.0)
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            recorded = a * a
        assert not is_grad_enabled()
        with no_grad():
            assert not is_grad_enabled()
        assert not is_grad_enabled()
        unrecorded = a * a
    assert is_grad_enabled()
    assert recorded._prev == (a, a)
    assert unrecorded._prev == ()


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert is_grad_enabled()
    with no_grad():
        with pytest.raises(RuntimeError):
            with enable_grad():
                raise RuntimeError("boom")
        assert not is_grad_enabled()
    assert is_grad_enabled()

    @no_grad()
    def fails():
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        fails()
    assert is_grad_enabled()


def test_value_made_under_no_grad_is_a_constant_later():
    a = Value(2.0)
    with no_grad():
        c = a * 3.0
    out = c * a     # c is a leaf now: d(out)/da = c, not 6a
    out.backward()
    assert a.grad == c.data


# ---- bad input -----------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")

# (name, code that must fail, exception type, text the message must contain)
ERRORS = [
    ("log_of_0", lambda: Value(0.0).log(), ValueError, ["log", "0"]),
    ("log_of_negative", lambda: Value(-2.5).log(), ValueError, ["log", "-2.5"]),
    ("sqrt_of_negative", lambda: Value(-4.0).sqrt(), ValueError, ["sqrt", "-4"]),
    ("negative_base_fractional_power", lambda: Value(-8.0) ** 0.5, ValueError,
     ["**", "-8", "0.5"]),
    ("negative_number_base_value_exponent", lambda: (-2.0) ** Value(0.5), ValueError,
     ["**", "-2"]),
    ("negative_value_base_value_exponent", lambda: Value(-2.0) ** Value(0.5), ValueError,
     ["**", "-2"]),
    ("zero_to_negative_power", lambda: Value(0.0) ** -1, ValueError, ["**", "0"]),
    ("divide_by_number_0", lambda: Value(3.0) / 0, ValueError, ["/", "3"]),
    ("divide_by_value_0", lambda: Value(3.0) / Value(0.0), ValueError, ["/", "3"]),
    ("number_divided_by_value_0", lambda: 3.0 / Value(0.0), ValueError, ["/", "3"]),
    ("exp_overflow", lambda: Value(800.0).exp(), ValueError, ["exp", "800"]),
    ("pow_overflow", lambda: Value(10.0) ** 400, ValueError, ["**", "10"]),
    ("pow_negative_exponent_overflow", lambda: Value(1e-200) ** -2, ValueError, ["**"]),
    ("rpow_overflow", lambda: 10.0 ** Value(400.0), ValueError, ["**", "10"]),
    ("add_overflow", lambda: Value(1e308) + Value(1e308), ValueError, ["+"]),
    ("sub_overflow", lambda: Value(-1e308) - 1e308, ValueError, ["-"]),
    ("mul_overflow", lambda: Value(1e300) * 1e300, ValueError, ["*"]),
    ("div_overflow", lambda: Value(1e300) / Value(1e-300), ValueError, ["/"]),
    ("text_to_value", lambda: Value("3"), OperandError, ["'3'"]),
    ("none_to_value", lambda: Value(None), OperandError, ["None"]),
    ("add_text", lambda: Value(1.0) + "a", OperandError, ["+", "'a'"]),
    ("text_plus_value", lambda: "a" + Value(1.0), OperandError, ["+", "'a'"]),
    ("sub_list", lambda: Value(1.0) - [1], OperandError, ["-", "[1]"]),
    ("mul_none", lambda: Value(1.0) * None, OperandError, ["*", "None"]),
    ("div_text", lambda: Value(1.0) / "x", OperandError, ["/", "'x'"]),
    ("text_div_value", lambda: "x" / Value(1.0), OperandError, ["/", "'x'"]),
    ("pow_text", lambda: Value(2.0) ** "2", OperandError, ["**", "'2'"]),
    ("nan_value", lambda: Value(NAN), ValueError, ["nan"]),
    ("inf_value", lambda: Value(INF), ValueError, ["inf"]),
    ("minus_inf_value", lambda: Value(-INF), ValueError, ["inf"]),
    ("add_nan", lambda: Value(1.0) + NAN, ValueError, ["+", "nan"]),
    ("nan_times_value", lambda: NAN * Value(1.0), ValueError, ["*", "nan"]),
    ("sub_inf", lambda: Value(1.0) - INF, ValueError, ["-", "inf"]),
    ("div_by_inf", lambda: Value(1.0) / INF, ValueError, ["/", "inf"]),
    ("pow_nan", lambda: Value(2.0) ** NAN, ValueError, ["**", "nan"]),
    ("inf_to_value_power", lambda: INF ** Value(1.0), ValueError, ["**", "inf"]),
]


@pytest.mark.parametrize("code, error, fragments", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_bad_input_raises_one_clear_error(code, error, fragments):
    with pytest.raises(error) as info:
        code()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


def test_operand_error_is_both_a_type_error_and_a_value_error():
    assert issubclass(OperandError, TypeError) and issubclass(OperandError, ValueError)
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(ValueError):
        Value("3")
    assert micrograd_gpt.OperandError is OperandError


# Results that are finite floats although a local derivative is not (|d/dx| > 1e308).
TINY_INPUTS = [
    ("one_over_tiny_value", lambda: Value(1.0) / Value(1e-200), "/", 1.0 / 1e-200),
    ("number_over_tiny_value", lambda: 1.0 / Value(1e-200), "/", 1.0 / 1e-200),
    ("tiny_to_power_minus_1", lambda: Value(1e-200) ** -1, "**", 1e-200 ** -1),
]


@pytest.mark.parametrize("code, op, quotient", [t[1:] for t in TINY_INPUTS],
                         ids=[t[0] for t in TINY_INPUTS])
def test_tiny_input_gives_the_result_or_a_clear_error(code, op, quotient):
    """1 / 1e-200 = 1e200 is a finite float. The engine may compute it or refuse it with
    a ValueError naming the operation, but must not fail with some other exception."""
    try:
        out = code()
    except ValueError as error:
        assert op in str(error)
    else:
        assert out.data == quotient


def test_failed_operation_leaves_grad_mode_alone():
    with no_grad():
        with pytest.raises(ValueError):
            Value(-1.0).log()
        assert not is_grad_enabled()
    assert is_grad_enabled()


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv])
def test_plain_numbers_of_other_numeric_types_work(op):
    from fractions import Fraction
    x = Value(1.5)
    assert op(x, Fraction(1, 2)).data == op(1.5, 0.5)
    assert op(Fraction(1, 2), x).data == op(0.5, 1.5)


def test_errors_are_also_the_builtin_exception_python_would_raise():
    """Division by zero is a ZeroDivisionError and overflow an OverflowError, as in plain
    Python, and both are ValueErrors like every other bad input here."""
    from micrograd_gpt.autograd.errors import DivisionByZeroError, FloatOverflowError
    with pytest.raises(ZeroDivisionError):
        Value(1.0) / 0
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -2
    with pytest.raises(OverflowError):
        Value(800.0).exp()
    with pytest.raises(OverflowError):
        Value(1e200) * Value(1e200)
    assert issubclass(DivisionByZeroError, ValueError)
    assert issubclass(FloatOverflowError, ValueError)


# ---- a node made by hand: Value(data, children, local_grads, op) --------------------------

def _x():
    return Value(0.5, label="x")


# (name, arguments after data, error, text the message must contain)
HAND_MADE = [
    ("one_child_without_the_comma", lambda x: ((x), (1.0,), "f"), OperandError,
     ["children", "`(x)` is just x", "Note the comma: (x,)"]),
    ("one_derivative_without_the_comma", lambda x: ((x,), (math.cos(x.data)), "sin"),
     OperandError, ["local_grads", "`(d)` is just d", "Note the comma: (d,)"]),
    ("children_as_a_list", lambda x: ([x], (1.0,), "f"), OperandError, ["children", "list"]),
    ("a_child_that_is_a_number", lambda x: ((x, 2.0), (1.0, 1.0), "f"), OperandError,
     ["children[1]", "hold float 2.0", "not a Value"]),
    ("a_derivative_that_is_a_value", lambda x: ((x,), (1 / (1 + x),), "log1p"), OperandError,
     ["local_grads[0]", "is a Value, not a number", "x.data"]),
    ("a_derivative_that_is_text", lambda x: ((x,), ("1",), "f"), OperandError,
     ["local_grads[0]", "str '1'", "a plain number"]),
    ("a_derivative_that_is_none", lambda x: ((x,), (None,), "f"), OperandError,
     ["local_grads[0]", "None"]),
    ("more_children_than_derivatives", lambda x: ((x, x), (1.0,), "f"), ValueError,
     ["2 input(s)", "1 local derivative(s)"]),
    ("derivatives_without_children", lambda x: ((), (1.0,), "f"), ValueError,
     ["0 input(s)", "1 local derivative(s)"]),
    ("a_value_as_the_number", lambda x: ((x,), (1.0,), "f"), OperandError,
     ["data", "the number you gave Value() is a Value"]),
    ("children_none", lambda x: (None, (), "f"), OperandError, ["children", "NoneType"]),
]


@pytest.mark.parametrize("arguments, error, fragments", [h[1:] for h in HAND_MADE],
                         ids=[h[0] for h in HAND_MADE])
def test_a_node_made_by_hand_with_the_wrong_arguments_is_refused(arguments, error, fragments):
    x = _x()
    data = x * 2.0 if "the number you gave" in fragments[-1] else 1.0
    with pytest.raises(error) as info:
        Value(data, *arguments(x))
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


def test_a_node_made_by_hand_works_like_an_operation():
    """The exercise's sin: checked once when made, then back-propagated like any node,
    also under no_grad (no children kept) and inside module scopes and tapes."""
    from micrograd_gpt.autograd.modes import module_scope, scope_of
    from micrograd_gpt.autograd.tape import Tape
    x = _x()
    y = Value(math.sin(x.data), (x,), (math.cos(x.data),), "sin") * 2.0
    y.backward()
    assert x.grad == 2 * math.cos(0.5) and y._prev[0]._op == "sin"
    with no_grad():
        assert Value(1.0, (x,), (1.0,), "f")._prev == ()
        with pytest.raises(OperandError, match="Note the comma"):
            Value(1.0, (x), (1.0,), "f")
    with Tape() as tape, module_scope("block"):
        made = Value(math.sin(x.data), (x,), (math.cos(x.data),), "sin")
    assert tape.nodes == [made] and scope_of(made) == "block"
    assert Value(2, (), (), "").data == 2.0 and Value(1.0, (x,), (1,))._local_grads == (1,)


def test_a_node_made_by_hand_must_hold_a_finite_number_too():
    with pytest.raises(ValueError, match="finite"):
        Value(float("inf"), (_x(),), (1.0,), "f")


def test_operations_skip_the_checks_of_a_node_made_by_hand(monkeypatch):
    """The operations build their results through the engine's fast path: checking the
    arguments of a hand-made node costs nothing on the hot path (benchmarks/engine.py)."""
    from micrograd_gpt.autograd import value as engine
    checked = []
    monkeypatch.setattr(engine, "check_node", lambda *args: checked.append(args))
    x = _x()
    y = ((x * 2.0 + x) / 3.0 - x).tanh().exp() ** 2
    y.backward()
    assert checked == []
    Value(1.0, (x,), (1.0,), "f")
    assert len(checked) == 1


# ---- detach ---------------------------------------------------------------------------

def test_detach_is_a_leaf_with_the_same_number():
    x = _x()
    y = x * x
    d = y.detach()
    assert d.data == y.data and d._prev == () and d is not y and d.grad == 0.0
    (d * x).backward()  # d is a constant here: x gets only the direct path
    assert x.grad == y.data and y.grad == 0.0


def test_detach_matches_torch(torch):
    """z = detach(x²)·x + x³: d z/d x = x² + 3x² in both (the detached x² is a constant)."""
    for x0 in (0.5, -1.25, 2.0):
        x = Value(x0)
        z = (x * x).detach() * x + x ** 3
        z.backward()
        t = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        tz = (t * t).detach() * t + t ** 3
        tz.backward()
        assert_close(z.data, tz.item(), TORCH_TOL, "value")
        assert_close(x.grad, t.grad.item(), TORCH_TOL, "gradient")
        assert x.grad == pytest.approx(4 * x0 * x0)  # without detach: 6x²


# ---- the file a learner reads first ----------------------------------------------------------

def test_the_value_file_reads_as_the_course_promises():
    """docs/02_chain_rule.md sends the learner to autograd/value.py, to read top to bottom:
    the node, its operations, backward() with the chain rule right below it, then the
    topological order, in at most 320 lines."""
    import inspect
    from micrograd_gpt.autograd import value as engine
    lines = inspect.getsource(engine).splitlines()

    def line_of(text):
        return next(i for i, line in enumerate(lines, 1) if line.startswith(text))
    story = [line_of(text) for text in (
        "class Value:", "    __slots__", "    def __add__", "    def __mul__", "    def backward",
        "def propagate", "                child.grad += local * g", "def topological_order")]
    assert story == sorted(story), story
    assert len(lines) <= 320
    assert line_of("                child.grad += local * g") - line_of("    def backward") < 60
