"""Batch normalization (Ioffe & Szegedy, 2015) as a differentiable op.

x (N, C, *), weight and bias (C,) or None, running_mean and running_var (C,) Tensors or None.
Per channel c, over the m = N * prod(*) values x[:, c]:

    training:  mu = mean x,  var = mean (x - mu)^2,  x_hat = (x - mu) / sqrt(var + eps)
               running_mean <- (1 - momentum) running_mean + momentum mu
               running_var  <- (1 - momentum) running_var + momentum var m / (m - 1)
    eval:      x_hat = (x - running_mean) / sqrt(running_var + eps)
    y = weight x_hat + bias

The running variance is unbiased (m - 1), the one that normalizes is not, as in PyTorch.
Backward, with g_hat = gy weight and means over the m values of a channel:

    training:  gx = (g_hat - mean g_hat - x_hat mean(g_hat x_hat)) / sqrt(var + eps)
    eval:      gx = g_hat / sqrt(running_var + eps)
    gweight = sum gy x_hat,   gbias = sum gy
"""
from __future__ import annotations

from typing import Optional

from minigan.autograd import Function, Tensor
from minigan.autograd.hints import TensorLike
from minigan.backend import get_array_module


class BatchNorm(Function):
    """y = weight x_hat + bias with the statistics of the batch (training) or the running ones."""
    def __init__(self, running_mean, running_var, training, momentum, eps, has_weight, has_bias):
        self.running_mean, self.running_var = running_mean, running_var
        self.training, self.momentum, self.eps = training, momentum, eps
        self.has_weight, self.has_bias = has_weight, has_bias

    def forward(self, x, *affine):
        weight = affine[0] if self.has_weight else None
        bias = affine[-1] if self.has_bias else None
        self.axes = (0,) + tuple(range(2, x.ndim))
        self.shape = [1, x.shape[1]] + [1] * (x.ndim - 2)  # (1, C, 1, ...): broadcasts over x
        if self.training:
            mean, var = x.mean(axis=self.axes), x.var(axis=self.axes)
            self._update_running_statistics(mean, var, x.size // x.shape[1])
        else:
            mean = self.running_mean.data.astype(x.dtype, copy=False)
            var = self.running_var.data.astype(x.dtype, copy=False)
        self.inv_std = (1 / get_array_module(x).sqrt(var + self.eps)).reshape(self.shape)
        self.x_hat = (x - mean.reshape(self.shape)) * self.inv_std
        self.weight = weight
        y = self.x_hat if weight is None else self.x_hat * weight.reshape(self.shape)
        return y if bias is None else y + bias.reshape(self.shape)

    def _update_running_statistics(self, mean, var, m):
        if self.running_mean is None:
            return
        unbiased = var * (m / (m - 1))
        for running, batch in ((self.running_mean, mean), (self.running_var, unbiased)):
            running.data = ((1 - self.momentum) * running.data
                            + self.momentum * batch).astype(running.dtype, copy=False)

    def backward(self, gy):
        g_hat = gy if self.weight is None else gy * self.weight.reshape(self.shape)
        if self.training:
            mean_g = g_hat.mean(axis=self.axes, keepdims=True)
            mean_gx = (g_hat * self.x_hat).mean(axis=self.axes, keepdims=True)
            gx = (g_hat - mean_g - self.x_hat * mean_gx) * self.inv_std
        else:
            gx = g_hat * self.inv_std
        gxs = [gx]
        if self.has_weight:
            gxs.append((gy * self.x_hat).sum(axis=self.axes))
        if self.has_bias:
            gxs.append(gy.sum(axis=self.axes))
        return tuple(gxs)


def batch_norm(input: TensorLike, running_mean: Optional[Tensor],  # noqa: A002
               running_var: Optional[Tensor], weight: Optional[TensorLike] = None,
               bias: Optional[TensorLike] = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Normalize each channel of ``input`` (N, C, *); see the module docstring.

    In training mode the batch statistics normalize and, when given, ``running_mean`` and
    ``running_var`` are updated in place; in eval mode the running ones normalize.
    """
    x = input if isinstance(input, Tensor) else Tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...), got shape {x.shape}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} must have shape ({channels},) for input of "
                             f"shape {x.shape}, got {tuple(t.shape)}")
        if t is not None and isinstance(t, Tensor) and t.device != x.device:
            raise ValueError(f"batch_norm: {name} is on {t.device} but input is on {x.device}")
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"batch_norm: {name} must be a Tensor (it is updated in place), "
                            f"got {type(t).__name__}")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if training and x.numel() // channels < 2:
        raise ValueError(f"batch_norm: training needs more than one value per channel, got "
                         f"input of shape {x.shape}")
    if not training and running_mean is None:
        raise ValueError("batch_norm: eval mode (training=False) needs running_mean and "
                         "running_var")
    function = BatchNorm(running_mean, running_var, training, momentum, eps,
                         weight is not None, bias is not None)
    return function(x, *(t for t in (weight, bias) if t is not None))
