"""The teaching layer: material the course reads and the learner does.

`book` is the founding document's functional GPT (make_gpt_params, gpt_forward, generate);
`by_hand` is a whole training step with its backward written out on plain floats (the speed
floor of chapter 12); `exercises` holds the exercises and the tutor that checks them.
"""
from ..common.lazy import lazy_exports

_EXPORTS = {
    "book": ".book", "make_gpt_params": ".book", "gpt_forward": ".book", "demo": ".book",
    "by_hand": ".by_hand", "exercises": ".exercises",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, modules=("book", "by_hand", "exercises"))
