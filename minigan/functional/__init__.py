"""Differentiable ops (``import minigan.functional as F``).

Each op is a ``Function`` subclass in one of the files below with a lowercase wrapper beside it.
Importing this package also gives ``Tensor`` its operators and methods (``a + b``, ``a @ b``,
``t.sum()``, ``t.reshape(...)``, ``t[i]``), which is why ``minigan.autograd`` needs no op.
"""
from minigan.autograd import Tensor, as_tensor
from minigan.functional.conv import conv2d
from minigan.functional.elementwise import (abs, add, astype, div, exp, leaky_relu, log, mul, neg, pow, relu,
                          sigmoid, sub, tanh)
from minigan.functional.linalg import matmul
from minigan.functional.loss import (cross_entropy, l1_loss, log_softmax, mse_loss, patch_cross_entropy,
                   softmax)
from minigan.functional.pool import max_pool2d
from minigan.functional.reduce import max, mean, sum
from minigan.functional.shape import broadcast_to, concatenate, flatten, getitem, reshape, stack, transpose


def _reflected(op):
    return lambda self, other: op(as_tensor(other, like=self), self)


def _install_tensor_methods():
    T = Tensor
    T.__add__, T.__radd__ = add, _reflected(add)
    T.__sub__, T.__rsub__ = sub, _reflected(sub)
    T.__mul__, T.__rmul__ = mul, _reflected(mul)
    T.__truediv__, T.__rtruediv__ = div, _reflected(div)
    T.__pow__, T.__rpow__ = pow, _reflected(pow)
    T.__matmul__, T.__rmatmul__ = matmul, _reflected(matmul)
    T.__neg__ = neg
    T.__abs__ = abs
    T.__getitem__ = getitem
    T.sum, T.mean, T.max = sum, mean, max
    T.reshape, T.transpose, T.broadcast_to = reshape, transpose, broadcast_to
    T.exp, T.log, T.tanh, T.sigmoid, T.relu, T.abs = exp, log, tanh, sigmoid, relu, abs
    T.astype, T.flatten = astype, flatten
    T.T = property(lambda self: transpose(self))


_install_tensor_methods()

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "tanh", "sigmoid", "relu",
    "leaky_relu", "abs", "astype", "sum", "mean", "max", "reshape", "transpose", "broadcast_to",
    "concatenate", "stack", "getitem", "flatten", "matmul", "conv2d", "max_pool2d",
    "patch_cross_entropy", "cross_entropy", "l1_loss", "mse_loss", "softmax", "log_softmax",
]
