"""Safe arithmetic expressions for the command line: "tanh(a*b + c)" -> a graph of Values.

`micrograd-gpt graph` and `micrograd-gpt trace` take an expression typed by the user. It is
never given to `eval`: Python's own parser (`ast`) reads it into a tree, and only a small
whitelist of tree nodes is accepted:

* numbers (`2`, `0.5`, `1e-3`) and variable names (`a`, `x1`, `weight`);
* the operators `+ - * / **`, unary minus and plus, and parentheses;
* calls of the engine's functions with one argument: exp, log, sqrt, tanh, sigmoid, relu,
  gelu, abs.

Anything else (attribute access, subscripts, other calls such as `__import__('os')`,
keywords, lambdas, comprehensions, comparisons, ...) is refused with a ValueError that says
what was found and what is allowed. The accepted tree is then walked to build Values, so
the graph has one leaf per variable, labelled with the variable's name.

>>> root, leaves = build_expression("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})
>>> round(root.data, 6), sorted(leaves)
(0.999329, ['a', 'b', 'c'])
"""
from __future__ import annotations

import ast
import math
import re

from ..autograd.value import Value

__all__ = ["FUNCTIONS", "parse_expression", "expression_variables", "build_expression",
           "parse_values"]

# The engine's one-argument functions, by the name used in expressions.
FUNCTIONS = {
    "exp": Value.exp,
    "log": Value.log,
    "sqrt": Value.sqrt,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "gelu": Value.gelu,
    "abs": Value.abs,
}

_BINARY_OPS = {
    ast.Add: lambda x, y: x + y,
    ast.Sub: lambda x, y: x - y,
    ast.Mult: lambda x, y: x * y,
    ast.Div: lambda x, y: x / y,
    ast.Pow: lambda x, y: x ** y,
}

_ALLOWED = ("numbers, variable names, + - * / **, unary - and +, parentheses, and the "
            "functions " + ", ".join(FUNCTIONS))
_MAX_LENGTH = 10_000  # characters; a typed expression is far shorter
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# What to call the tree nodes we refuse, so the message speaks the user's language.
_REFUSED_NAMES = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts", ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons", ast.BoolOp: "and/or", ast.IfExp: "if-expressions",
    ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets",
    ast.JoinedStr: "f-strings", ast.NamedExpr: ":=", ast.Starred: "* unpacking",
    ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}


def _refuse(what, text):
    return ValueError(f"expression {text!r}: not allowed: {what}. Allowed: {_ALLOWED}.")


def parse_expression(text):
    """Parse `text` and check every node of its tree; return the `ast.Expression`.

    Raises ValueError for a syntax error or for anything outside the whitelist (see the
    module docstring), naming what was refused.
    """
    if not isinstance(text, str):
        raise ValueError(f"expression must be a string, got {type(text).__name__}")
    if not text.strip():
        raise ValueError("expression is empty; write one such as 'tanh(a*b + c)'")
    if len(text) > _MAX_LENGTH:
        raise ValueError(f"expression is {len(text):,} characters long; at most "
                         f"{_MAX_LENGTH:,} are allowed")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ValueError(f"expression {text!r} is not valid syntax: {e.msg}") from None
    except (RecursionError, MemoryError):
        raise ValueError(f"expression {text[:40]!r}... nests too deeply") from None
    # the Name nodes that are the function of a call: `exp` in exp(x)
    callees = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        _check_node(node, text, callees)
    return tree


def _check_node(node, text, callees):
    """Refuse one tree node unless it is on the whitelist."""
    if isinstance(node, (ast.Expression, ast.Load, ast.UnaryOp, ast.BinOp, ast.Name)):
        if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise _refuse(f"the operator {_op_symbol(node.op)}", text)
        if isinstance(node, ast.BinOp) and type(node.op) not in _BINARY_OPS:
            raise _refuse(f"the operator {_op_symbol(node.op)}", text)
        if isinstance(node, ast.Name) and node.id in FUNCTIONS and id(node) not in callees:
            raise ValueError(f"expression {text!r}: {node.id} is a function; call it with "
                             f"one argument, e.g. {node.id}(x)")
        return
    # ast.operator/unaryop instances (ast.Add(), ...) also appear in walk(); they were
    # checked with their BinOp/UnaryOp above.
    if isinstance(node, (ast.operator, ast.unaryop)):
        return
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _refuse(f"the constant {value!r} (only plain numbers are)", text)
        return
    if isinstance(node, ast.Call):
        func = node.func
        if not isinstance(func, ast.Name):
            raise _refuse(f"calling {ast.unparse(func)!r}", text)
        if func.id not in FUNCTIONS:
            raise _refuse(f"calling {func.id!r}", text)
        if node.keywords:
            raise _refuse(f"keyword arguments (in {func.id}(...))", text)
        if len(node.args) != 1:
            raise ValueError(f"expression {text!r}: {func.id}() takes exactly one argument, "
                             f"got {len(node.args)}")
        return
    name = _REFUSED_NAMES.get(type(node), type(node).__name__)
    raise _refuse(f"{name} ({ast.unparse(node)!r})" if hasattr(node, "lineno") else name, text)


def _op_symbol(op):
    return {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<",
            ast.RShift: ">>", ast.BitOr: "|", ast.BitAnd: "&", ast.BitXor: "^",
            ast.Not: "not", ast.Invert: "~"}.get(
                type(op), type(op).__name__)


def expression_variables(text):
    """The variable names used in `text`, in order of first appearance (functions excluded).

    >>> expression_variables("tanh(a*b + c) * a")
    ['a', 'b', 'c']
    """
    tree = parse_expression(text)
    names = []
    for node in _in_reading_order(tree.body):
        if isinstance(node, ast.Name) and node.id not in names and node.id not in FUNCTIONS:
            names.append(node.id)
    return names


def _in_reading_order(node):
    """Nodes of a tree left to right (ast.walk is breadth-first, not reading order)."""
    stack = [node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def build_expression(text, values):
    """Build the graph of `text` with the variables set from `values` (name -> number).

    Returns `(root, leaves)`: the output Value and a dict name -> leaf Value (labelled with
    its name). A variable used twice (`a*a`) is one leaf with two edges, as it should be.
    Numbers in the text become constant leaves; `-3` is one constant, not neg(3).
    Raises ValueError for a missing variable, for a value given to a name the
    expression does not use, and for math errors (log of a negative number, ...).
    """
    tree = parse_expression(text)
    needed = expression_variables(text)
    values = dict(values)
    missing = [n for n in needed if n not in values]
    if missing:
        example = ",".join(f"{n}=1" for n in needed)
        raise ValueError(f"no value for variable(s) {', '.join(missing)}: pass every variable "
                         f"in --values, e.g. --values {example}")
    unused = [n for n in values if n not in needed]
    if unused:
        raise ValueError(f"--values gives {', '.join(unused)}, which the expression "
                         f"{text!r} does not use (it uses: {', '.join(needed) or 'no variables'})")
    leaves = {name: Value(float(values[name]), label=name) for name in needed}
    try:
        root = _build(tree.body, leaves, text)
    except RecursionError:
        raise ValueError(f"expression {text[:40]!r}... nests too deeply") from None
    except OverflowError as error:  # float ** float raises this instead of giving inf;
        # the engine's FloatOverflowError says which operation (and which derivative)
        detail = (str(error) if isinstance(error, ValueError)
                  else "a result is too large for a float")
        raise ValueError(f"expression {text!r} cannot be computed: {detail}") from None
    if not isinstance(root, Value):  # a bare number: still give back a Value
        root = Value(root)
    return root, leaves


def _build(node, leaves, text):
    """Turn one checked tree node into a Value (recursively)."""
    if isinstance(node, ast.Constant):
        return Value(float(node.value))
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp):
        if _is_number(node):  # -3 is one constant, not neg(3)
            return Value(_literal(node))
        operand = _build(node.operand, leaves, text)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _build(node.left, leaves, text)
        if isinstance(node.op, ast.Pow) and _is_number(node.right):
            right = _literal(node.right)  # x ** 2: a plain exponent, the engine's "**2" node
        else:
            right = _build(node.right, leaves, text)
        return _BINARY_OPS[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        return FUNCTIONS[node.func.id](_build(node.args[0], leaves, text))
    raise _refuse(type(node).__name__, text)  # unreachable: parse_expression checked


def _is_number(node):
    """A literal number, possibly with a sign: `2`, `-3`, the exponent of x ** -0.5."""
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant)


def _literal(node):
    """The float of a node that `_is_number`."""
    if isinstance(node, ast.UnaryOp):
        return -float(node.operand.value) if isinstance(node.op, ast.USub) else float(
            node.operand.value)
    return float(node.value)


def parse_values(text):
    """Parse "a=2,b=-3,c=10" into {"a": 2.0, "b": -3.0, "c": 10.0}.

    Spaces around names and numbers are ignored; an empty string gives {}. Raises a
    ValueError naming the bad item: no '=', a name that is not an identifier, a number
    that does not parse or is not finite, or a name given twice.
    """
    values = {}
    if text is None or not text.strip():
        return values
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise ValueError(f"--values {text!r}: empty item (two commas in a row?)")
        if "=" not in item:
            raise ValueError(f"--values: {item!r} has no '='; write name=number, "
                             "e.g. a=2,b=-3")
        name, _, number = (part.strip() for part in item.partition("="))
        if not _NAME.match(name):
            raise ValueError(f"--values: {name!r} is not a variable name (letters, digits "
                             "and _, not starting with a digit)")
        if name in FUNCTIONS:
            raise ValueError(f"--values: {name!r} is a function name, not a variable")
        try:
            value = float(number)
        except ValueError:
            raise ValueError(f"--values: {number!r} (for {name}) is not a number") from None
        if not math.isfinite(value):
            raise ValueError(f"--values: {name}={number} is not a finite number")
        if name in values:
            raise ValueError(f"--values: {name} is given twice")
        values[name] = value
    return values
