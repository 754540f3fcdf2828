"""Shared pytest fixtures. Keep this file small: helpers that only one test file needs
belong in that file."""
import pytest


@pytest.fixture
def torch():
    """The torch module, or a visible skip when torch is not installed.

    Tests that compare with PyTorch take this fixture; the rest of their file (for example
    the finite-difference checks) still runs without torch.
    """
    return pytest.importorskip("torch", reason="comparison with PyTorch needs torch")
