"""Pick the implementation of a kernel-backed op for the arrays at hand.

NumPy arrays go to the CPU backend (``minigan.cpu.ops()``: the cache-blocked convolution, or the
readable spec ``minigan.reference`` under ``MINIGAN_CPU=reference``); CuPy arrays go to
``minigan.cuda`` (the hand-written kernels). All three expose the same functions.
"""
import numpy as np

from minigan import cpu
from minigan.backend import get_array_module


def implementation(*arrays):
    if get_array_module(*arrays) is np:
        return cpu.ops()
    from minigan import cuda  # imported only on the GPU path: it needs CuPy
    return cuda
