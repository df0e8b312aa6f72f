"""The seeded random generator behind parameter initialisation.

Layers draw their initial weights from ``get_rng()`` unless given a generator of their own, so
``manual_seed(s)`` before building a model makes its initial weights reproducible.
"""
import numpy as np

_rng = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the global generator to ``seed``; returns it."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def get_rng(rng=None):
    """``rng`` if given, else the global generator."""
    return _rng if rng is None else rng
