"""2-D max-pooling as a differentiable op.

x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H + 2p - K) // s + 1, each output the maximum of its
K x K window (K = ``kernel_size``; padding counts as -inf). Backward sends each gy to the
window's argmax, which the forward pass stores (``minigan.reference.pool``,
``kernels/maxpool2d.cu``).
"""
from minigan.autograd import Function
from minigan.functional.conv import square
from minigan.functional.dispatch import implementation


def check_max_pool2d_arguments(x, kernel_size, stride, padding):
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: input must be (N, C, H, W), got shape {x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"max_pool2d: input must be a floating dtype, got {x.dtype}")
    if int(kernel_size) != kernel_size or not 1 <= kernel_size <= 11:
        raise ValueError(f"max_pool2d: kernel_size must be an integer in [1, 11], "
                         f"got {kernel_size!r}")
    if int(stride) != stride or stride < 1:
        raise ValueError(f"max_pool2d: stride must be a positive integer, got {stride!r}")
    if int(padding) != padding or not 0 <= padding <= kernel_size // 2:
        raise ValueError(f"max_pool2d: padding must be an integer in [0, kernel_size // 2] = "
                         f"[0, {kernel_size // 2}], got {padding!r}")
    if x.shape[2] + 2 * padding < kernel_size or x.shape[3] + 2 * padding < kernel_size:
        raise ValueError(f"max_pool2d: input {x.shape[2]}x{x.shape[3]} with padding {padding} "
                         f"is smaller than the {kernel_size}x{kernel_size} window")


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
        gy = gy if gy.flags.c_contiguous else gy.copy()
        return self.impl.max_pool2d_backward(gy, self.argmax, self.x_shape, self.kernel_size,
                                             self.stride, self.padding)


def max_pool2d(input, kernel_size, stride=None, padding=0):  # noqa: A002 - PyTorch's name
    """Max over K x K windows moved by ``stride`` (default: ``kernel_size``); each argument an
    int or a pair of equal ints. See the module docstring for shapes."""
    kernel_size = square("max_pool2d", "kernel_size", kernel_size)
    stride = kernel_size if stride is None else square("max_pool2d", "stride", stride)
    return MaxPool2d(kernel_size, stride, square("max_pool2d", "padding", padding))(input)
