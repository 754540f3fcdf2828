"""The chain rule step by step: every forward value and every backward update, as tables.

    python examples/02_trace.py
"""
from micrograd_gpt import Value
from micrograd_gpt.viz.tracing import print_trace, trace


def main():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c, f = Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    print("L = (a*b + c) * f at a=2, b=-3, c=10, f=-2\n")
    t = trace(L)
    print_trace(t)

    L.backward()  # the real thing gives the trace's numbers
    assert [v.grad for v in (a, b, c, f)] == [t.grad(n) for n in "abcf"]
    print("\nbackward() agrees: dL/da, dL/db, dL/dc, dL/df =",
          [v.grad for v in (a, b, c, f)])


if __name__ == "__main__":
    main()
