"""Pick the implementation of a kernel-backed op for the arrays at hand.

NumPy arrays go to ``minigan.reference.cpu`` (the CPU backend: the fast convolution beside the
plain, readable reference); CuPy arrays go to ``minigan.cuda`` (the hand-written kernels). Both
modules expose the same functions.
"""
import numpy as np

from minigan.backend import get_array_module
from minigan.reference import cpu


def implementation(*arrays):
    if get_array_module(*arrays) is np:
        return cpu
    from minigan import cuda  # imported only on the GPU path: it needs CuPy
    return cuda
