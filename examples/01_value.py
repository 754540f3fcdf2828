"""A Value and its derivative: by hand, by backward(), by gradcheck.

    python examples/01_value.py

b = a² + 3a at a = 2: the derivative db/da = 2a + 3 = 7, three ways.
"""
from micrograd_gpt import Value, gradcheck


def f(a):
    return a * a + 3 * a


def main():
    # 1. by hand, with a central difference: (f(a + h) - f(a - h)) / 2h
    h = 1e-6
    print(f"nudging a:    db/da ≈ {(f(2 + h) - f(2 - h)) / (2 * h):.6f}")

    # 2. by backward(): the same function on Values
    a = Value(2.0, label="a")
    b = f(a)
    b.backward()
    print(f"backward():   b = {b.data}, db/da = {a.grad}")

    # 3. gradcheck compares backward() with central differences for you
    result = gradcheck(lambda x, y: (x * y).tanh() + x ** 2, [0.5, -1.5])
    print("gradcheck of tanh(x*y) + x**2 at x=0.5, y=-1.5:")
    print(result)
    assert a.grad == 7.0 and result.passed


if __name__ == "__main__":
    main()
