"""Layers with parameters and activations, in the shape of PyTorch's ``torch.nn``.

Weights start as PyTorch's defaults: Kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in),
1/sqrt(fan_in)) for weight and bias, drawn from a seeded generator (``minigan.manual_seed``).
"""
import math

import numpy as np

from minigan import functional as F
from minigan.nn.init import get_rng
from minigan.nn.module import Module, Parameter


def _uniform(shape, bound, rng, dtype, device):
    return Parameter(get_rng(rng).uniform(-bound, bound, size=shape).astype(dtype), device=device)


class Conv2d(Module):
    """y = conv2d(x, weight, bias, stride, padding); weight (out, in, K, K), bias (out,)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 rng=None, dtype=np.float32, device=None):
        super().__init__()
        self.stride, self.padding = stride, padding
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = _uniform(shape, bound, rng, dtype, device)
        self.bias = _uniform((out_channels,), bound, rng, dtype, device) if bias else None

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class Linear(Module):
    """y = x @ weight.T + bias; weight (out, in), bias (out,)."""

    def __init__(self, in_features, out_features, bias=True, rng=None, dtype=np.float32, device=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)
        self.weight = _uniform((out_features, in_features), bound, rng, dtype, device)
        self.bias = _uniform((out_features,), bound, rng, dtype, device) if bias else None

    def forward(self, x):
        y = F.matmul(x, F.transpose(self.weight))
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}"


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)


class Tanh(Module):
    def forward(self, x):
        return F.tanh(x)


class Sigmoid(Module):
    def forward(self, x):
        return F.sigmoid(x)


class Flatten(Module):
    """(N, ...) -> (N, prod(...))."""
    def forward(self, x):
        return F.flatten(x)


class Identity(Module):
    def forward(self, x):
        return x
