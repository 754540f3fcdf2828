"""micrograd_gpt: a tiny scalar autograd engine with a GPT built on top, in pure Python.

Start with `Value` (one number that knows its gradient), then `micrograd_gpt.nn` (modules
built from Values) and `GPT`. Everything is plain Python; importing this package never
imports torch.
"""
__version__ = "0.1.0"

from .engine import (Value, no_grad, enable_grad, is_grad_enabled,  # noqa: F401
                     OperandError, DivisionByZeroError, FloatOverflowError)
from .gradcheck import gradcheck, GradcheckResult  # noqa: F401
from . import functional  # noqa: F401

# modules and the GPT
from . import nn  # noqa: F401
from .nn import Module, Linear, Embedding, LayerNorm, RMSNorm, MLP  # noqa: F401
from .attention import CausalSelfAttention, KVCache  # noqa: F401
from .gpt import GPTConfig, GPT, Block, count_parameters, sample_token  # noqa: F401
# the seed book's functional API
from .book import make_gpt_params, gpt_forward, softmax, generate, demo  # noqa: F401
# data, optimizers, training, checkpoints
from .data import CharTokenizer, load_dataset  # noqa: F401
from .optim import SGD, Adam, AdamW, clip_grad_norm  # noqa: F401
# the training function stays `micrograd_gpt.train.train`: exporting it here would hide
# the `micrograd_gpt.train` module behind a function of the same name
from .train import TrainConfig, TrainResult  # noqa: F401
from .checkpoint import save_checkpoint, load_checkpoint, CheckpointError  # noqa: F401
# seeing the graph: drawings and step-by-step traces
from .viz import draw_dot, render_graph, module_summary, GraphvizNotInstalled  # noqa: F401
from .trace import trace, format_trace, print_trace, save_trace_html  # noqa: F401
