"""The autograd layer: scalar Values and reverse-mode differentiation, standard library only.

Read `value.py` first: the node, each operation beside its local derivative, `backward()`.
Beside it: `errors` (what goes wrong, named, and where a gradient overflowed), `modes`
(no_grad, module scopes), `tape` (nodes listed in creation order, for a backward without a
search), `fused` (one node for a sum, a dot product, a cross-entropy), `activations`
(sigmoid and GELU with their derivatives), `functional` (operations on lists of Values)
and `gradcheck`.
"""
from ..common.lazy import lazy_exports

_EXPORTS = {
    "Value": ".value", "topological_order": ".value",
    "no_grad": ".modes", "enable_grad": ".modes", "is_grad_enabled": ".modes",
    "OperandError": ".errors", "DivisionByZeroError": ".errors",
    "FloatOverflowError": ".errors", "NonFiniteGradientError": ".errors",
    "Tape": ".tape", "record_for_backward": ".tape",
    "gradcheck": ".gradcheck", "GradcheckResult": ".gradcheck",
    "functional": ".functional",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, modules=("functional",))
