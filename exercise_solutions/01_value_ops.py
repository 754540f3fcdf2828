"""Exercise 1 (chapter 1): sin, cos, log1p and softplus as Value operations. A solution."""
import math

from micrograd_gpt import Value


def sin(x):
    """sin(x) as a Value whose local derivative is d sin(x)/dx."""
    # d sin(x)/dx = cos(x)
    return Value(math.sin(x.data), (x,), (math.cos(x.data),), "sin")


def cos(x):
    """cos(x) as a Value whose local derivative is d cos(x)/dx."""
    # d cos(x)/dx = -sin(x)
    return Value(math.cos(x.data), (x,), (-math.sin(x.data),), "cos")


def log1p(x):
    """ln(1 + x) as a Value whose local derivative is d ln(1 + x)/dx."""
    # d ln(1 + x)/dx = 1 / (1 + x)
    return Value(math.log1p(x.data), (x,), (1.0 / (1.0 + x.data),), "log1p")


def softplus(x):
    """ln(1 + e^x) as a Value whose local derivative is d ln(1 + e^x)/dx."""
    # ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|): the same number, and e^-|x| cannot overflow
    value = max(x.data, 0.0) + math.log1p(math.exp(-abs(x.data)))
    # d ln(1 + e^x)/dx = e^x / (1 + e^x) = 1 / (1 + e^-x), the sigmoid of x
    e = math.exp(-abs(x.data))
    slope = 1.0 / (1.0 + e) if x.data >= 0 else e / (1.0 + e)
    return Value(value, (x,), (slope,), "softplus")
