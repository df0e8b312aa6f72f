"""2-D max-pooling as a differentiable op.

x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H + 2p - K) // s + 1, each output the maximum of its
K x K window (K = ``kernel_size``; padding counts as -inf). Backward sends each gy to the
window's argmax, which the forward pass stores (``minigan.reference.pool_spec``,
``kernels/maxpool2d.cu``).
"""
from __future__ import annotations

from minigan.autograd import Function, Tensor
from minigan.autograd.hints import TensorLike, Window
from minigan.functional.dispatch import implementation
from minigan.reference.geometry import pool_geometry, square


def check_max_pool2d_arguments(x, kernel_size, stride, padding):
    """Raise a clear ValueError/TypeError when the arguments of max_pool2d do not fit: the
    window geometry (``minigan.reference.geometry``) and a floating input."""
    if x.dtype.kind != "f":
        raise TypeError(f"max_pool2d: input must be a floating dtype, got {x.dtype}")
    pool_geometry("max_pool2d", x.shape, kernel_size, stride, padding)


class MaxPool2d(Function):
    """y = max over each window; gx = gy routed to the argmax the forward pass stored."""
    def __init__(self, kernel_size, stride, padding):
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        check_max_pool2d_arguments(x, self.kernel_size, self.stride, self.padding)
        self.x_shape = x.shape
        self.impl = implementation(x)
        y, self.argmax = self.impl.max_pool2d_forward(x, self.kernel_size, self.stride,
                                                      self.padding)
        return y

    def backward(self, gy):
        """gx (N, C, H, W) = every gy (N, C, Ho, Wo) added at the argmax of its window
        (``self.argmax``, stored by the forward pass), by ``self.impl.max_pool2d_backward``,
        which needs a C-contiguous gy."""
        gy = gy if gy.flags.c_contiguous else gy.copy()
        return self.impl.max_pool2d_backward(gy, self.argmax, self.x_shape, self.kernel_size,
                                             self.stride, self.padding)


def max_pool2d(input: TensorLike, kernel_size: Window, stride: Window = None,
               padding: Window = 0) -> Tensor:  # noqa: A002 - PyTorch's name
    """Max over K x K windows moved by ``stride`` (default: ``kernel_size``); each argument an
    int or a pair of equal ints. See the module docstring for shapes."""
    kernel_size = square("max_pool2d", "kernel_size", kernel_size)
    stride = kernel_size if stride is None else square("max_pool2d", "stride", stride)
    return MaxPool2d(kernel_size, stride, square("max_pool2d", "padding", padding))(input)
