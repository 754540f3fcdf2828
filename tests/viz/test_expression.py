"""The safe expression parser: what it builds, and everything it must refuse."""
import math

import pytest

from micrograd_gpt import Value
from micrograd_gpt.autograd.value import topological_order
from micrograd_gpt.viz.expression import (FUNCTIONS, build_expression, expression_variables,
                                parse_expression, parse_values)


def test_builds_the_same_graph_as_python_code():
    root, leaves = build_expression("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})
    a, b, c = Value(2.0), Value(-3.0), Value(10.0)
    expected = (a * b + c).tanh()
    assert root.data == expected.data
    root.backward()
    expected.backward()
    assert [leaves[n].grad for n in "abc"] == [a.grad, b.grad, c.grad]
    assert {n: v.label for n, v in leaves.items()} == {"a": "a", "b": "b", "c": "c"}


def test_a_variable_used_twice_is_one_leaf():
    root, leaves = build_expression("a*a + a", {"a": 3})
    root.backward()
    assert leaves["a"].grad == 2 * 3 + 1  # d(a² + a)/da
    assert sum(1 for v in topological_order(root) if v.label == "a") == 1


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_engine_function_is_callable(name):
    root, leaves = build_expression(f"{name}(x)", {"x": 0.7})
    assert root.data == pytest.approx(getattr(Value(0.7), name)().data)
    assert root._op == name


def test_operators_and_numbers():
    root, _ = build_expression("(x - 1) / 2 ** x + x ** 2 - -3 * +x", {"x": 1.5})
    x = 1.5
    assert root.data == pytest.approx((x - 1) / 2 ** x + x ** 2 - -3 * +x)


def test_negative_literal_is_one_constant_and_power_keeps_a_plain_exponent():
    root, _ = build_expression("x ** -2 + -3", {"x": 2})
    ops = [v._op for v in topological_order(root)]
    assert "neg" not in ops
    assert "**-2" in ops  # the engine's unary power node, not Value ** Value


def test_variables_in_reading_order_without_functions():
    assert expression_variables("exp(z) * tanh(a*b + z) + c") == ["z", "a", "b", "c"]


@pytest.mark.parametrize("text, what", [
    ("__import__('os')", "calling '__import__'"),
    ("open('x')", "calling 'open'"),
    ("a.real", "attribute access"),
    ("math.exp(a)", "calling 'math.exp'"),
    ("a[0]", "subscripts"),
    ("(lambda: 1)()", "calling"),
    ("lambda: 1", "lambdas"),
    ("exp(x=a)", "keyword arguments"),
    ("[a for a in b]", "comprehensions"),
    ("sum(a for a in b)", "calling 'sum'"),
    ("a if b else c", "if-expressions"),
    ("a < b", "comparisons"),
    ("a and b", "and/or"),
    ("a // b", "the operator //"),
    ("a % b", "the operator %"),
    ("~a", "the operator ~"),
    ("not a", "the operator not"),
    ("'text'", "the constant 'text'"),
    ("True", "the constant True"),
    ("1j", "the constant 1j"),
    ("(a, b)", "tuples"),
    ("f'{a}'", "f-strings"),
    ("(y := 2)", ":="),
])
def test_refuses_everything_else_and_says_what_is_allowed(text, what):
    with pytest.raises(ValueError) as info:
        parse_expression(text)
    message = str(info.value)
    assert "not allowed" in message and what in message
    assert "exp, log, sqrt, tanh, sigmoid, relu, gelu, abs" in message


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"),
    ("a +", "not valid syntax"),
    ("exp(a, b)", "exactly one argument"),
    ("exp + 1", "exp is a function"),
    ("a" + "+a" * 6000, "characters long"),
])
def test_other_bad_expressions(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_expression(text)


def test_missing_and_unused_variables_are_named():
    with pytest.raises(ValueError, match=r"no value for variable\(s\) c.*--values a=1,b=1,c=1"):
        build_expression("a*b + c", {"a": 1, "b": 2})
    with pytest.raises(ValueError, match="gives d, which the expression"):
        build_expression("a*b", {"a": 1, "b": 2, "d": 3})


def test_math_errors_are_value_errors():
    with pytest.raises(ValueError, match="log"):
        build_expression("log(a)", {"a": -1})
    with pytest.raises(ValueError, match="too large|overflows"):
        build_expression("a ** b", {"a": 9, "b": 1e9})
    with pytest.raises(ValueError, match="division by zero"):
        build_expression("1 / a", {"a": 0})


def test_parse_values():
    assert parse_values("a=2,b=-3,c=10") == {"a": 2.0, "b": -3.0, "c": 10.0}
    assert parse_values(" x = 1e-3 , y=.5 ") == {"x": 1e-3, "y": 0.5}
    assert parse_values("") == {}


@pytest.mark.parametrize("text, fragment", [
    ("a=2,,b=3", "empty item"),
    ("a2", "has no '='"),
    ("1a=2", "not a variable name"),
    ("a=two", r"'two' \(for a\) is not a number"),
    ("a=nan", "not a finite number"),
    ("a=inf", "not a finite number"),
    ("a=1,a=2", "a is given twice"),
    ("exp=1", "is a function name"),
])
def test_parse_values_errors(text, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_values(text)


def test_results_are_finite_floats():
    root, _ = build_expression("sigmoid(a) * gelu(b) + sqrt(abs(c))", {"a": 1, "b": 2, "c": -4})
    assert math.isfinite(root.data) and isinstance(root.data, float)
