"""micrograd_gpt: a tiny scalar autograd engine with a GPT built on top, in pure Python.

Start with `Value` (one number that knows its gradient; read `autograd/value.py`), then
`nn` (modules built from Values) and `GPT`. The package is in layers, one folder each, and a
layer uses only the layers below it (import-linter checks this):

    cli/        the command line: one module per command
    teaching/   the book (the founding document's functions), the by-hand step, exercises/
    viz/        looking: graphs, backward step by step, plots, inspecting a trained model
    training/   optimizers, data, the training loop, engines (Values, torch), checkpoints
    models/     modules, attention, the GPT, the ladder (bigram, MLP, RNN), torch twins
    autograd/   Value and backward, errors, modes, the tape, fused nodes, functional, gradcheck
    common/     argument checks and atomic files, shared by every layer

Importing this package loads nothing else: each name below is imported the first time it
is used, so `from micrograd_gpt import Value` loads the autograd files alone (no graphviz,
no torch), and `from micrograd_gpt import draw_dot` loads the drawing code when asked.
"""
from .common.lazy import lazy_exports

__version__ = "0.1.0"

# name -> the module that defines it
_EXPORTS = {
    # autograd: the engine, gradient checking, operations on lists of Values
    "Value": ".autograd.value", "no_grad": ".autograd.modes", "enable_grad": ".autograd.modes",
    "is_grad_enabled": ".autograd.modes", "OperandError": ".autograd.errors",
    "DivisionByZeroError": ".autograd.errors", "FloatOverflowError": ".autograd.errors",
    "gradcheck": ".autograd.gradcheck", "GradcheckResult": ".autograd.gradcheck",
    "functional": ".autograd.functional",
    # models
    "nn": ".models.nn", "Module": ".models.nn", "Linear": ".models.nn",
    "Embedding": ".models.nn", "LayerNorm": ".models.nn", "RMSNorm": ".models.nn",
    "MLP": ".models.nn",
    "CausalSelfAttention": ".models.attention", "KVCache": ".models.attention",
    "GPT": ".models.gpt", "GPTConfig": ".models.gpt", "count_parameters": ".models.gpt",
    "LanguageModel": ".models.language_model",
    # training: the optimizers
    "SGD": ".training.optim", "Adam": ".training.optim", "AdamW": ".training.optim",
    "clip_grad_norm": ".training.clip_grad",
    # looking at graphs
    "draw_dot": ".viz.graph", "render_graph": ".viz.graph",
    "GraphvizNotInstalled": ".viz.graph",
    # the book's functional API (its softmax and generate stay in `book`, beside the model's
    # own: `from micrograd_gpt.teaching.book import softmax, generate`)
    "book": ".teaching.book", "make_gpt_params": ".teaching.book",
    "gpt_forward": ".teaching.book", "demo": ".teaching.book",
}

__all__ = ["__version__", *_EXPORTS]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, modules=("functional", "nn", "book"))
