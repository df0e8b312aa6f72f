"""The seeded random generator behind initial weights and dropout masks.

Layers draw their initial weights, and ``dropout`` its masks, from ``get_rng()`` unless given a
generator of their own, so ``minigan.manual_seed(s)`` before building a model makes its initial
weights and its dropout masks reproducible.
"""
import numpy as np

_rng = np.random.default_rng(0)


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the global generator to ``seed``; returns it."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def get_rng(rng=None) -> np.random.Generator:
    """``rng`` if given, else the global generator."""
    return _rng if rng is None else rng
