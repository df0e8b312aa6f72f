"""2-D convolution as a differentiable op.

x (N, C, H, W), weight (F, C, K, K), bias (F,) or None -> y (N, F, Ho, Wo),

    Ho = (H + 2p - K) // s + 1,   y[n,f,i,j] = b[f] + sum_{c,u,v} w[f,c,u,v] xpad[n,c,s*i+u,s*j+v]

The math lives in ``minigan.reference.conv_spec`` (NumPy) and ``kernels/conv2d.cu`` (CUDA); this op
checks its arguments, then calls forward, grad-input, grad-weight and grad-bias of whichever
implementation matches the arrays' device.
"""
from __future__ import annotations

from typing import Optional

from minigan.autograd import Function, Tensor
from minigan.autograd.hints import TensorLike, Window
from minigan.functional.dispatch import implementation
from minigan.reference.geometry import conv2d_geometry, square


def check_conv2d_arguments(x, w, b, stride, padding):
    """The convolution's ``ConvGeometry``, or a clear ValueError/TypeError when the arguments
    do not fit together: the window (``minigan.reference.geometry``), one floating dtype, the
    bias shape."""
    if x.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv2d: input must be (N, C, H, W) and weight (F, C, K, K), got "
                         f"shapes {x.shape} and {w.shape}")
    g = conv2d_geometry("conv2d", x.shape, w.shape, stride, padding)
    if x.dtype.kind != "f" or x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        bias_dtype = None if b is None else b.dtype
        raise TypeError(f"conv2d: input, weight and bias must share one floating dtype; got "
                        f"input {x.dtype}, weight {w.dtype}, bias {bias_dtype}")
    if b is not None and b.shape != (g.F,):
        raise ValueError(f"conv2d: bias must have shape ({g.F},), got {b.shape}")
    return g


class Conv2d(Function):
    """y = conv2d(x, w, b); gx, gw, gb come from the implementation of the arrays' device."""
    def __init__(self, stride=1, padding=0):
        self.stride, self.padding = stride, padding

    def forward(self, x, w, b=None):
        check_conv2d_arguments(x, w, b, self.stride, self.padding)
        self.x, self.w, self.has_bias = x, w, b is not None
        self.impl = implementation(x, w)
        return self.impl.conv2d_forward(x, w, b, self.stride, self.padding)

    def backward(self, gy):
        """(gx, gw[, gb]) for gy (N, F, Ho, Wo), by the implementation the forward pass chose
        (``self.impl``): gx (N, C, H, W) = ``conv2d_backward_input``, gw (F, C, K, K) =
        ``conv2d_backward_weight``, gb (F,) = ``conv2d_backward_bias``, each only where
        ``self.needs_input_grad`` asks for it (else None); no gb when the op had no bias. The
        implementations need a C-contiguous gy (it may arrive as a view)."""
        gy = gy if gy.flags.c_contiguous else gy.copy()
        need_x, need_w = self.needs_input_grad[:2]
        gx = self.impl.conv2d_backward_input(gy, self.w, self.x.shape, self.stride,
                                             self.padding) if need_x else None
        gw = self.impl.conv2d_backward_weight(gy, self.x, self.w.shape, self.stride,
                                              self.padding) if need_w else None
        if not self.has_bias:
            return gx, gw
        gb = self.impl.conv2d_backward_bias(gy) if self.needs_input_grad[2] else None
        return gx, gw, gb


def conv2d(input: TensorLike, weight: TensorLike, bias: Optional[TensorLike] = None,
           stride: Window = 1, padding: Window = 0) -> Tensor:  # noqa: A002 - PyTorch's name
    """y = conv2d(input, weight) + bias, ``stride`` and ``padding`` each an int or a pair of
    equal ints; see the module docstring for shapes."""
    stride, padding = square("conv2d", "stride", stride), square("conv2d", "padding", padding)
    if bias is None:
        return Conv2d(stride, padding)(input, weight)
    return Conv2d(stride, padding)(input, weight, bias)
