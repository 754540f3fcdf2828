"""How to install PyTorch, the one optional package a user installs by hand, written once.

Every message, page and chapter says the same line. It asks PyTorch's CPU wheel index, so
it fetches the CPU build (a few hundred MB) on any machine; PyPI's torch is, on Linux, the
CUDA build (several GB with its nvidia packages) whether or not there is a GPU. The version is the one the tests run against (pyproject's `torch` extra pins it too:
installed first by this line, the extra finds it already there).
"""
from __future__ import annotations

__all__ = ["TORCH_VERSION", "TORCH_CPU_INDEX", "INSTALL_TORCH", "TORCH_ON_A_GPU"]

TORCH_VERSION = "2.13.0"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
INSTALL_TORCH = f"pip install torch=={TORCH_VERSION} --index-url {TORCH_CPU_INDEX}"
# for a GPU the CPU build will not do; PyTorch's own page picks the line for a CUDA version
TORCH_ON_A_GPU = ("with an NVIDIA GPU, take instead the line for your CUDA version from "
                  "https://pytorch.org/get-started/locally/")
