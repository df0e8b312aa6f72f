"""The type hints of minigan's public API.

    TensorLike  what an op takes as a tensor: a Tensor, an array, a (nested) list or a number
    Dim         a dimension, several, or None for all of them
    Window      a kernel size, stride or padding: one int, or a pair of equal ints
    DType       a dtype as NumPy takes it: numpy.float32, "float64", a numpy.dtype
    Array       the array a Tensor holds: a numpy.ndarray, or a cupy.ndarray on a GPU
"""
from typing import Any, Sequence, Tuple, Union

import numpy as np

from minigan.autograd.tensor import Tensor

TensorLike = Union[Tensor, np.ndarray, Sequence, float, int]
Dim = Union[int, Tuple[int, ...], None]
Window = Union[int, Tuple[int, int]]
DType = Union[np.dtype, type, str, None]
Array = Any   # numpy.ndarray | cupy.ndarray; CuPy is optional, so it cannot be named here
