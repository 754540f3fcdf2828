"""Non-finite gradients never come out silently.

* backward() refuses a seed gradient that is not a finite number (nan, inf, text, ...);
* when a gradient overflows (or becomes nan) during backward, one clear error names the
  node (its label or operation, its data, its module) and the edge it came through;
* local derivatives that would not be finite are refused where the node is made;
* the trace replay (trace.py, `micrograd-gpt trace`) refuses the same, with exit code 2.
"""
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

import micrograd_gpt.autograd as autograd
from micrograd_gpt.autograd.errors import FloatOverflowError, NonFiniteGradientError
from micrograd_gpt.autograd.modes import module_scope
from micrograd_gpt.autograd.tape import Tape
from micrograd_gpt.autograd.value import Value
from micrograd_gpt.viz.tracing import trace, trace_html

ROOT = Path(__file__).resolve().parents[2]
NAN, INF = float("nan"), float("inf")


# ---- the seed gradient ------------------------------------------------------------------

BAD_SEEDS = [NAN, INF, -INF, "1.5", None, True, [1.0], 1j, 10 ** 400]


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
@pytest.mark.parametrize("root", ["interior", "leaf", "tape"])
def test_backward_refuses_a_seed_that_is_not_a_finite_number(seed, root):
    x = Value(0.5, label="x")
    out = (x * 3.0).tanh()
    with pytest.raises(ValueError) as info:
        if root == "interior":
            out.backward(seed)
        elif root == "leaf":
            x.backward(seed)
        else:
            with Tape() as tape:
                out = (x * 3.0).tanh()
            tape.backward(out, seed)
    message = str(info.value)
    assert "backward" in message and "grad" in message and "\n" not in message
    assert x.grad == 0.0  # refused before anything was touched


@pytest.mark.parametrize("seed, expected", [(2, 2.0), (Fraction(1, 2), 0.5), (-0.25, -0.25)])
def test_backward_takes_any_finite_real_number_as_seed(seed, expected):
    x = Value(0.5)
    (x * 3.0).backward(seed)
    assert x.grad == 3.0 * expected


# ---- gradients that overflow during backward ------------------------------------------

def overflow_into_a_leaf():
    """((a*b)*a) at a = 1e300, b = 1e-300: the value is 1e300, d/db = a² = inf."""
    a, b = Value(1e300, label="a"), Value(1e-300, label="b")
    return (a * b) * a, b


def overflow_into_an_interior_node():
    """h = p * 1 is tiny, h * q * q is 1e300, but d/dh = q² overflows."""
    p, q = Value(1e-300, label="p"), Value(1e300, label="q")
    h = p * 1.0
    h.label = "h"
    return (h * q) * q, h


def test_a_leaf_gradient_that_overflows_is_named_with_the_edge():
    out, b = overflow_into_a_leaf()
    with pytest.raises(NonFiniteGradientError) as info:
        out.backward()
    message = str(info.value)
    assert "'b'" in message and "inf" in message and "'*'" in message
    assert "1e+300 × 1e+300" in message and "\n" not in message


def test_an_interior_gradient_that_overflows_stops_backward_at_that_node():
    out, h = overflow_into_an_interior_node()
    with pytest.raises(NonFiniteGradientError) as info:
        out.backward()
    message = str(info.value)
    assert "'h'" in message and "inf" in message and "'*'" in message
    assert h._prev[0].grad == 0.0  # p: nothing was passed on from h


def test_inf_minus_inf_is_reported_as_nan():
    x, big = Value(1e-300, label="x"), Value(1e300, label="big")
    out = (x * big) * big - (x * big) * big  # d/dx = big² - big² = inf - inf
    with pytest.raises(NonFiniteGradientError, match=r"'x'.* became nan"):
        out.backward()


def test_the_module_scope_is_part_of_the_name():
    p, q = Value(1e-300, label="p"), Value(1e300, label="q")
    with module_scope("blocks.0.mlp"):
        h = p * 1.0
    with pytest.raises(NonFiniteGradientError, match="in module blocks.0.mlp"):
        ((h * q) * q).backward()


def test_a_leaf_that_was_already_not_finite_is_reported():
    x = Value(2.0, label="x")
    x.grad = NAN
    with pytest.raises(NonFiniteGradientError, match="already not finite"):
        (x * 3.0).backward()
    y = Value(2.0, label="y")
    y.grad = INF
    with pytest.raises(NonFiniteGradientError, match="'y'"):
        y.backward()  # a leaf on its own


def test_the_sum_of_finite_shares_can_overflow_too():
    w = Value(1e-10, label="w")
    big = Value(1e308)
    out = w * big + w * big  # the value is 2e298; each share of d/dw is 1e308, the sum inf
    with pytest.raises(NonFiniteGradientError, match="sum of its 2 shares"):
        out.backward()


def test_the_error_is_both_an_arithmetic_error_and_a_value_error():
    assert issubclass(NonFiniteGradientError, ArithmeticError)
    assert issubclass(NonFiniteGradientError, ValueError)
    out, _ = overflow_into_a_leaf()
    with pytest.raises(ValueError):
        out.backward()


def test_a_tape_reports_the_same_errors():
    with Tape() as tape:
        out, h = overflow_into_an_interior_node()
    with pytest.raises(NonFiniteGradientError, match="'h'"):
        tape.backward(out)
    with Tape() as tape:
        out, b = overflow_into_a_leaf()
    tape.backward(out)  # b is a leaf the tape does not know of...
    assert math.isinf(b.grad)
    b.grad = 0.0
    with Tape() as tape:
        out, b = overflow_into_a_leaf()
    with pytest.raises(NonFiniteGradientError, match="'b'"):
        tape.backward(out, leaves=[b])  # ...unless it is told (the trainer: parameters)


def test_finite_large_gradients_pass():
    a, b = Value(1e150, label="a"), Value(1e-150, label="b")
    out = (a * b) * a
    out.backward()
    assert b.grad == pytest.approx(1e300) and math.isfinite(a.grad)


# ---- local derivatives that are not finite where the node is made --------------------------

@pytest.mark.parametrize("make, fragment", [
    (lambda: Value(5e-324).log(), "log"),
    (lambda: Value(1e-310).log(), "log"),
    (lambda: Value(1.0) / Value(1e-200), "/"),
    (lambda: 3.0 / Value(1e-300), "/"),
    (lambda: Value(1e-200) ** -2, "**"),
    (lambda: Value(1e-300) ** Value(-1.5), "**"),
    (lambda: Value(2.0) ** Value(1100.0), "**"),
])
def test_a_derivative_too_large_for_a_float_is_refused_at_once(make, fragment):
    with pytest.raises(FloatOverflowError) as info:
        make()
    assert fragment in str(info.value)


@pytest.mark.parametrize("x, slope", [(1e200, 1.0), (1e300, 1.0), (1.7e308, 1.0),
                                      (-1e200, 0.0), (-1.7e308, 0.0), (1e103, 1.0),
                                      (40.0, 1.0), (-40.0, 0.0)])
def test_gelu_far_out_has_a_finite_exact_derivative(x, slope):
    """x³ overflows for |x| > 1e102; the derivative must still be the limit, 1 or 0."""
    v = Value(x)
    out = v.gelu()
    assert math.isfinite(out.data) and out._local_grads == (slope,)
    out.backward()
    assert v.grad == slope


EXTREMES = [0.0, 5e-324, 1e-310, 1e-200, 1e-5, 0.5, 1.0, 3.0, 700.0, 1e5, 1e100, 1e154,
            1e200, 1e300, 1.7e308]


@pytest.mark.parametrize("op", ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "gelu",
                                "abs", "neg", "square", "inverse", "reciprocal_power"])
def test_every_node_holds_finite_data_and_derivatives_or_is_refused(op):
    """For inputs from 5e-324 to 1.7e308, of either sign: a node is made with finite
    numbers only, or a ValueError says why not. Never an inf or a nan in a node."""
    apply = {"exp": Value.exp, "log": Value.log, "sqrt": Value.sqrt, "tanh": Value.tanh,
             "sigmoid": Value.sigmoid, "relu": Value.relu, "gelu": Value.gelu,
             "abs": abs, "neg": lambda v: -v, "square": lambda v: v * v,
             "inverse": lambda v: 1.0 / v, "reciprocal_power": lambda v: v ** -0.5}[op]
    made = 0
    for x in EXTREMES + [-x for x in EXTREMES]:
        try:
            out = apply(Value(x))
        except ValueError:
            continue
        made += 1
        assert math.isfinite(out.data), (op, x)
        assert all(math.isfinite(local) for local in out._local_grads), (op, x)
    assert made >= 5


def test_fused_nodes_refuse_an_overflowing_result():
    from micrograd_gpt import functional as F
    big = [Value(1e200), Value(1e200)]
    with pytest.raises(FloatOverflowError, match="dot"):
        F.dot(big, big)
    with pytest.raises(FloatOverflowError, match="sum"):
        F.sum_values([Value(1.7e308), Value(1.7e308)])
    with pytest.raises(FloatOverflowError, match="dot"):
        F.linear(big, [big])
    assert F.dot([Value(1e150)], [Value(1e150)]).data == pytest.approx(1e300)


# ---- the trace replay and the command line --------------------------------------------

def test_trace_refuses_a_gradient_that_overflows():
    out, _ = overflow_into_a_leaf()
    with pytest.raises(NonFiniteGradientError) as info:
        trace(out)
    message = str(info.value)
    assert "step" in message and "b" in message and "inf" in message
    out, _ = overflow_into_an_interior_node()
    with pytest.raises(NonFiniteGradientError, match="h"):
        trace(out)
    with pytest.raises(NonFiniteGradientError):
        trace_html(out)


@pytest.mark.parametrize("grad", [NAN, INF, "2", None, True])
def test_trace_refuses_a_bad_starting_gradient(grad):
    x = Value(1.0, label="x")
    with pytest.raises(ValueError, match="grad"):
        trace(x * 2.0, grad=grad)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "micrograd_gpt", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


# (expression, values, what `trace` says, what `graph` (which runs backward()) says)
COMMAND_CASES = [
    ("(a*b)*a", "a=1e300,b=1e-300", "gradient of b becomes inf", "gradient of 'b'"),
    ("log(a)", "a=5e-324", "derivative", "derivative"),
    ("a/b", "a=1,b=1e-200", "derivative", "derivative"),
    # the replay stops at the first overflow (-inf); backward() sees the sum, nan
    ("(a*b)*b - (a*b)*b", "a=1e-300,b=1e300", "becomes -inf", "became nan"),
]


@pytest.mark.slow
@pytest.mark.parametrize("expression, values, in_trace, in_graph", COMMAND_CASES)
@pytest.mark.parametrize("command", ["trace", "graph"])
def test_the_commands_exit_2_with_one_line(command, expression, values, in_trace, in_graph,
                                          tmp_path):
    fragment = in_trace if command == "trace" else in_graph
    out = ["-o", str(tmp_path / "graph.svg")] if command == "graph" else []
    result = run_cli(command, expression, "--values", values, *out)
    assert not (tmp_path / "graph.svg").exists()
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"micrograd-gpt {command}: error:")
    assert fragment in lines[0]


def test_gelu_far_out_now_traces_its_true_derivative():
    """`trace "gelu(a)" --values a=1e200` printed grad nan; the slope there is 1."""
    result = run_cli("trace", "gelu(a)", "--values", "a=1e200")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1].split()
    assert last[0] == "a" and float(last[-1]) == 1.0


def test_the_engine_has_no_unchecked_way_to_store_a_non_finite_local():
    """Every operation of Value, at inputs near the edges of the floats, either refuses
    or stores finite local derivatives (the reason backward needs no test per edge)."""
    values = [Value(x) for x in (1e-300, 1e-150, 0.5, 2.0, 1e150, 1e300)]
    ops = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
           lambda a, b: a / b, lambda a, b: abs(a) ** 0.5 * b]
    for op in ops:
        for a in values:
            for b in values:
                try:
                    out = op(a, b)
                except ValueError:
                    continue
                assert math.isfinite(out.data)
                assert all(math.isfinite(g) for g in out._local_grads)
    assert autograd.NonFiniteGradientError is NonFiniteGradientError
