"""Layers with parameters and activations, in the shape of PyTorch's ``torch.nn``.

Weights start as PyTorch's defaults: Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
1/sqrt(fan_in)) for weight and bias, drawn from a seeded generator (``minigan.manual_seed``);
batch norm starts at weight 1, bias 0.
"""
import math
from typing import Optional, Tuple

import numpy as np

from minigan import functional as F
from minigan.autograd import Tensor
from minigan.autograd.hints import DType, Window
from minigan.functional.generator import get_rng
from minigan.nn.module import Module, Parameter
from minigan.reference.geometry import square


def _uniform(shape, bound, rng, dtype, device):
    return Parameter(get_rng(rng).uniform(-bound, bound, size=shape).astype(dtype), device=device)


class Conv2d(Module):
    """y = conv2d(x, weight, bias, stride, padding); weight (out, in, K, K), bias (out,).

    ``kernel_size``, ``stride`` and ``padding`` are ints or pairs, as in PyTorch; a pair of two
    different values is an error (minigan's kernels are square, with one stride and padding).
    ``padding_mode``: what the padding holds, as in PyTorch: ``zeros``, or ``reflect`` /
    ``replicate`` (``F.pad`` of the input, then the convolution without padding).
    """

    PADDING_MODES = ("zeros", "reflect", "replicate")

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Window,
                 stride: Window = 1, padding: Window = 0, bias: bool = True,
                 padding_mode: str = "zeros", rng: Optional[np.random.Generator] = None,
                 dtype: DType = np.float32, device: Optional[str] = None):
        super().__init__()
        k = square("Conv2d", "kernel_size", kernel_size)
        s, p = square("Conv2d", "stride", stride), square("Conv2d", "padding", padding)
        if padding_mode not in self.PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {self.PADDING_MODES}, "
                             f"got {padding_mode!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = (k, k), (s, s), (p, p)
        self.padding_mode = padding_mode
        bound = 1 / math.sqrt(in_channels * k * k)
        self.weight = _uniform((out_channels, in_channels, k, k), bound, rng, dtype, device)
        self.bias = _uniform((out_channels,), bound, rng, dtype, device) if bias else None

    def padded(self, x: Tensor) -> Tuple[Tensor, int]:
        """``(x, padding)`` for the convolution itself: x padded by ``padding_mode`` and 0, or
        x as it is and ``padding`` (zeros, which the convolution adds)."""
        p = self.padding[0]
        if self.padding_mode == "zeros" or p == 0:
            return x, p
        return F.pad(x, (p, p, p, p), mode=self.padding_mode), 0

    def forward(self, x: Tensor) -> Tensor:
        x, padding = self.padded(x)
        return F.conv2d(x, self.weight, self.bias, self.stride[0], padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}"
                + ("" if self.bias is not None else ", bias=False")
                + ("" if self.padding_mode == "zeros" else f", padding_mode={self.padding_mode!r}"))


class Linear(Module):
    """y = x @ weight.T + bias; x (..., in), weight (out, in), bias (out,) -> y (..., out)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: Optional[np.random.Generator] = None, dtype: DType = np.float32,
                 device: Optional[str] = None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = _uniform((out_features, in_features), bound, rng, dtype, device)
        self.bias = _uniform((out_features,), bound, rng, dtype, device) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class MaxPool2d(Module):
    """y = max over kernel_size x kernel_size windows moved by ``stride`` (default kernel_size)."""

    def __init__(self, kernel_size: Window, stride: Optional[Window] = None, padding: Window = 0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class BatchNorm2d(Module):
    """Batch normalization of x (N, C, H, W) per channel (``F.batch_norm`` gives the formula).

    Training mode normalizes with the batch's statistics and updates the buffers
    ``running_mean`` and ``running_var`` by ``momentum`` (None: a cumulative average over
    ``num_batches_tracked`` batches); eval mode normalizes with the running ones. ``affine``
    adds the parameters ``weight`` (1) and ``bias`` (0). All of them are in the state dict.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype: DType = np.float32,
                 device: Optional[str] = None):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype), device=device) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype), device=device) if affine else None
        for name, initial in (("running_mean", np.zeros(num_features, dtype)),
                              ("running_var", np.ones(num_features, dtype)),
                              ("num_batches_tracked", np.array(0, np.int64))):
            self.register_buffer(name, Tensor(initial, device=device) if track_running_stats
                                 else None)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2d: expected input (N, C, H, W), got shape {x.shape}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if momentum is None:
                momentum = 1.0 / int(self.num_batches_tracked.item())
        use_batch_statistics = self.training or self.running_mean is None
        keep_running = not self.training or self.track_running_stats
        return F.batch_norm(x, self.running_mean if keep_running else None,
                            self.running_var if keep_running else None, self.weight, self.bias,
                            use_batch_statistics, momentum or 0.0, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class ReLU(Module):
    """y = max(x, 0); ``inplace``: x itself becomes y (``F.relu_``)."""
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """y = x if x > 0 else negative_slope * x; ``inplace``: x itself becomes y."""
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Dropout(Module):
    """``F.dropout`` with probability p while training; the identity in eval mode."""
    def __init__(self, p: float = 0.5, inplace: bool = False,
                 rng: Optional[np.random.Generator] = None):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace, self.rng = p, inplace, rng

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Flatten(Module):
    """Merge dimensions start_dim..end_dim: (N, C, H, W) -> (N, C*H*W) with the defaults."""
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return F.flatten(x, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x
