"""Exercise 1 (chapter 1): sin, cos, log1p and softplus as Value operations.

Every operation on Values makes a new Value that remembers its inputs and the derivative
of its result toward each input, computed on the spot (chapter 1). tanh, for example
(micrograd_gpt/autograd/value.py makes its nodes the same way, by a faster path), is

    t = math.tanh(x.data)
    return Value(t, (x,), (1 - t * t,), "tanh")   # result, inputs, local derivatives, name

Write four more the same way. Each takes one Value x and returns a new Value:

    sin(x)        the sine of x
    cos(x)        the cosine of x
    log1p(x)      ln(1 + x), for x > -1 (log1p(0) = 0)
    softplus(x)   ln(1 + e^x), a smooth relu

Work out each derivative by hand first: d/dx of the result, as a number at x.data.
The checker compares your values with the math module, and your derivatives with the
slope that tiny nudges of x measure (gradcheck); where one is off, it shows the table.

Check your work:  micrograd-gpt exercise check 1
"""
import math

from micrograd_gpt import Value


def sin(x):
    """sin(x) as a Value whose local derivative is d sin(x)/dx."""
    # TODO: return Value(the result, (x,), (the derivative,), "sin")
    raise NotImplementedError("write sin(x)")


def cos(x):
    """cos(x) as a Value whose local derivative is d cos(x)/dx."""
    # TODO
    raise NotImplementedError("write cos(x)")


def log1p(x):
    """ln(1 + x) as a Value whose local derivative is d ln(1 + x)/dx (math.log1p helps)."""
    # TODO
    raise NotImplementedError("write log1p(x)")


def softplus(x):
    """ln(1 + e^x) as a Value whose local derivative is d ln(1 + e^x)/dx."""
    # TODO
    raise NotImplementedError("write softplus(x)")
