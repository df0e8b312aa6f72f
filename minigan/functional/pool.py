"""2-D max-pooling as a differentiable op.

x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H + 2p - K) // s + 1, each output the maximum of its
K x K window (padding counts as -inf). Backward sends each dy to the window's argmax, which the
forward pass stores (``minigan.reference.pool``, ``kernels/maxpool2d.cu``).
"""
from minigan.autograd import Function
from minigan.functional.dispatch import implementation


def check_max_pool2d_arguments(x, kernel, stride, padding):
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: input must be (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"max_pool2d: input must be a floating dtype, got {x.dtype}")
    if int(kernel) != kernel or not 1 <= kernel <= 11:
        raise ValueError(f"max_pool2d: kernel must be an integer in [1, 11], got {kernel!r}")
    if int(stride) != stride or stride < 1:
        raise ValueError(f"max_pool2d: stride must be a positive integer, got {stride!r}")
    if int(padding) != padding or not 0 <= padding <= kernel // 2:
        raise ValueError(f"max_pool2d: padding must be an integer in [0, kernel // 2] = "
                         f"[0, {kernel // 2}], got {padding!r}")
    if x.shape[2] + 2 * padding < kernel or x.shape[3] + 2 * padding < kernel:
        raise ValueError(f"max_pool2d: input {x.shape[2]}x{x.shape[3]} with padding {padding} "
                         f"is smaller than the {kernel}x{kernel} window")


class MaxPool2d(Function):
    def __init__(self, kernel, stride=None, padding=0):
        self.kernel = int(kernel)
        self.stride = self.kernel if stride is None else int(stride)
        self.padding = int(padding)

    def forward(self, x):
        check_max_pool2d_arguments(x, self.kernel, self.stride, self.padding)
        self.x_shape = x.shape
        self.impl = implementation(x)
        y, self.argmax = self.impl.max_pool2d_forward(x, self.kernel, self.stride, self.padding)
        return y

    def backward(self, gy):
        gy = gy if gy.flags.c_contiguous else gy.copy()
        return self.impl.max_pool2d_backward(gy, self.argmax, self.x_shape, self.kernel,
                                             self.stride, self.padding)


def max_pool2d(x, kernel, stride=None, padding=0):
    """Max over K x K windows moved by ``stride`` (default K); see the module docstring."""
    return MaxPool2d(kernel, stride, padding)(x)
