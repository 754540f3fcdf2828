"""The autograd layer: scalar Values and reverse-mode differentiation, standard library only.

Read `value.py` first: the node, each operation beside its local derivative, `backward()`.
Beside it: `errors` (what goes wrong, named), `modes` (no_grad, module scopes), `tape`
(recording nodes in creation order for a fast backward), `fused` (one node for a sum, a dot
product, a softmax), `functional` (operations on lists of Values) and `gradcheck`.
"""
from ..common.lazy import lazy_exports

_EXPORTS = {
    "Value": ".value",
    "no_grad": ".value", "enable_grad": ".value", "is_grad_enabled": ".value",
    "OperandError": ".value", "DivisionByZeroError": ".value", "FloatOverflowError": ".value",
    "NonFiniteGradientError": ".value", "Tape": ".value",
    "gradcheck": ".gradcheck", "GradcheckResult": ".gradcheck",
    "functional": ".functional",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, modules=("functional",))
