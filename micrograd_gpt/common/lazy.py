"""Lazy re-exports for a package's `__init__` (PEP 562): a name is imported when first used.

Each layer folder lists the names it offers and the module that defines each one; nothing is
imported until a name is asked for, so `from micrograd_gpt import Value` loads the autograd
files alone (no graphviz, no torch, no layer above).
"""
import importlib


def lazy_exports(package, exports, modules=()):
    """Return `(__getattr__, __dir__)` for `package` exporting `exports` (name -> module).

    A module path is relative to `package` (".value", ".nn"). A name in `modules` is the
    module itself (`"nn": ".nn"` with `modules=("nn",)` exports the module `nn`).
    """
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name], package)
        value = module if name in modules else getattr(module, name)
        namespace[name] = value  # next time, a plain attribute lookup
        return value

    def __dir__():
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
