"""Tests for gradcheck(): it passes on correct derivatives, FAILS on wrong ones (a
gradient checker that always passes proves nothing), reports per-input numbers, and
refuses bad arguments."""
import math

import pytest

from micrograd_gpt import GradcheckResult, gradcheck
from micrograd_gpt.autograd.value import Value


def wrong_square(x):
    """x² with a deliberately wrong local derivative: 1 instead of 2x."""
    return Value(x.data ** 2, (x,), (1.0,), "bad")


CORRECT = [
    ("polynomial", lambda x, y: x * y + x ** 3 - 2.0 / y, [0.7, -1.3]),
    ("transcendental", lambda x: x.exp() + x.log() + x.sqrt() + x.tanh(), [0.8]),
    ("activations", lambda x, y: x.sigmoid() * y.gelu() + (x - y).relu() + abs(y), [0.4, -0.9]),
    ("value_exponent", lambda x, y: x ** y + 3.0 ** y, [1.4, 0.6]),
    ("shared", lambda x: (x * x + x) * (x * x + x), [0.9]),
]


@pytest.mark.parametrize("func, inputs", [c[1:] for c in CORRECT], ids=[c[0] for c in CORRECT])
def test_passes_on_correct_derivatives(func, inputs):
    result = gradcheck(func, inputs)
    assert isinstance(result, GradcheckResult)
    assert result.passed and bool(result)
    assert result.worst_error <= result.tol
    assert "PASSED" in str(result)


def test_reports_per_input_numbers():
    result = gradcheck(lambda x, y: x * y + x.exp(), [0.5, -2.0])
    assert result.inputs == [0.5, -2.0]
    assert len(result.analytic) == len(result.numeric) == len(result.errors) == 2
    # d/dx (xy + e^x) = y + e^x, d/dy = x: the analytic column is backward()'s
    assert math.isclose(result.analytic[0], -2.0 + math.exp(0.5), rel_tol=1e-15)
    assert math.isclose(result.analytic[1], 0.5, rel_tol=1e-15)
    for a, n in zip(result.analytic, result.numeric):
        assert abs(a - n) < 1e-6
    assert result.worst_error == max(result.errors)


def test_fails_on_a_wrong_derivative():
    x = 3.0
    result = gradcheck(wrong_square, [x])
    assert not result.passed and not bool(result)
    assert result.analytic == [1.0]
    assert abs(result.numeric[0] - 2 * x) < 1e-6   # the true derivative
    assert result.worst_error > 0.5
    assert "FAILED" in str(result)


def test_points_at_the_input_with_the_wrong_derivative():
    result = gradcheck(lambda x, y: x * y + wrong_square(y), [0.5, 2.0])
    assert not result.passed
    assert result.errors[0] < 1e-6            # x's derivative is right
    assert result.errors[1] == result.worst_error > 0.5


def test_tolerance_decides():
    # local derivative off by 1e-4: caught at the default tolerance, accepted at 1e-3
    def almost_square(x):
        return Value(x.data ** 2, (x,), (2 * x.data + 1e-4,), "almost")
    assert not gradcheck(almost_square, [1.5]).passed
    assert gradcheck(almost_square, [1.5], tol=1e-3).passed


def test_fails_on_a_nan_gradient():
    """A NaN gradient is never right, wherever it appears among the inputs."""
    def nan_toward_y(x, y):
        return Value(x.data + y.data, (x, y), (1.0, float("nan")), "bad")
    result = gradcheck(nan_toward_y, [0.5, 2.0])
    assert not result.passed
    assert "nan" in result.backward_error and "nan" in str(result)


def test_fails_when_a_nan_stops_backward_inside_the_graph():
    """A nan local derivative toward an interior node stops backward() before the inputs
    get their share: the check must fail even if the partial gradients look plausible."""
    def nan_inside(x):
        inner = x * 0.0                                  # d/dx is 0 anyway...
        return Value(inner.data, (inner,), (float("nan"),), "bad")
    result = gradcheck(nan_inside, [0.5])
    assert result.errors[0] == 0.0  # 0 from backward, 0 numerically...
    assert not result.passed        # ...but backward met a nan
    assert "nan" in result.backward_error


def test_does_not_disturb_the_callers_values():
    result = gradcheck(lambda x: x * x, [2.0])
    assert result.inputs == [2.0]
    assert gradcheck(lambda x: x * x, [2.0]).analytic == result.analytic  # no accumulation


@pytest.mark.parametrize("kwargs, fragment", [
    ({"func": lambda x: x, "inputs": []}, "inputs"),
    ({"func": lambda x: x, "inputs": [1.0], "h": 0.0}, "h"),
    ({"func": lambda x: x, "inputs": [1.0], "h": -1e-6}, "h"),
    ({"func": lambda x: [x], "inputs": [1.0]}, "Value"),
    ({"func": lambda x: 3.0, "inputs": [1.0]}, "Value"),
])
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        gradcheck(**kwargs)
    assert fragment in str(info.value)
