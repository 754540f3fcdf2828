"""micrograd_gpt: a tiny scalar autograd engine with a GPT built on top, in pure Python.

Start with `Value` (one number that knows its gradient), then `micrograd_gpt.nn` (modules
built from Values) and `GPT`. Everything is plain Python; importing this package never
imports torch.
"""
__version__ = "0.1.0"

from .engine import Value, no_grad, enable_grad, is_grad_enabled, OperandError  # noqa: F401
from .gradcheck import gradcheck, GradcheckResult  # noqa: F401
from . import functional  # noqa: F401

# --- nn / gpt exports ---
# --- book (seed functional API) exports ---
# --- data / optim / train / checkpoint exports ---
# --- viz / trace exports ---
