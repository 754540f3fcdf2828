"""micrograd_gpt: a tiny scalar autograd engine with a GPT built on top, in pure Python.

Start with `Value` (one number that knows its gradient), then `micrograd_gpt.nn` (modules
built from Values) and `GPT`. The package is in layers, each using only those below it:

    edge       cli/ (the commands), book (the seed's functions), interop (PyTorch), expr,
               exercises/ (the exercises and their checker)
    looking    viz (graphs), trace (backward step by step), plots, inspection, report
    training   optim, data, presets, train, engines (values, torch), checkpoint, history,
               health
    model      nn, attention, gpt, bigram, context_mlp, rnn, lm (the interface of every
               model), models, sampling, by_hand (a training step with a hand-written
               backward)
    core       engine (Value), functional, finite_differences (gradcheck), checks, files

Importing this package loads nothing else: each name below is imported the first time it
is used, so `from micrograd_gpt import Value` loads the engine alone (no graphviz, no
torch), and `from micrograd_gpt import draw_dot` loads the drawing code when asked.
"""
import importlib

__version__ = "0.1.0"

# name -> the submodule that defines it (a submodule's own name maps to itself)
_EXPORTS = {
    # core: the engine, gradient checking, operations on lists of Values
    "Value": "engine", "no_grad": "engine", "enable_grad": "engine",
    "is_grad_enabled": "engine", "OperandError": "engine", "DivisionByZeroError": "engine",
    "FloatOverflowError": "engine",
    "gradcheck": "finite_differences", "GradcheckResult": "finite_differences",
    "functional": "functional",
    # the model layer
    "nn": "nn", "Module": "nn", "Linear": "nn", "Embedding": "nn", "LayerNorm": "nn",
    "RMSNorm": "nn", "MLP": "nn",
    "CausalSelfAttention": "attention", "KVCache": "attention",
    "GPT": "gpt", "GPTConfig": "gpt", "count_parameters": "gpt",
    "LanguageModel": "lm",
    # training: the optimizers
    "SGD": "optim", "Adam": "optim", "AdamW": "optim", "clip_grad_norm": "optim",
    # looking at graphs
    "draw_dot": "viz", "render_graph": "viz", "GraphvizNotInstalled": "viz",
    # the seed book's functional API (its softmax and generate stay in `book`, beside the
    # model's own: `from micrograd_gpt.book import softmax, generate`)
    "book": "book", "make_gpt_params": "book", "gpt_forward": "book", "demo": "book",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name):
    """Import the submodule that defines `name` on first use (PEP 562)."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'micrograd_gpt' has no attribute {name!r}")
    module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
    value = module if _EXPORTS[name] == name else getattr(module, name)
    globals()[name] = value  # next time, a plain attribute lookup
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
