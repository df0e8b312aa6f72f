"""Differentiable ops (``import minigan.functional as F``).

Each op is a ``Function`` subclass with its lowercase wrapper right below it, in the file of
its family: elementwise, compare, reduce, shape, pad, linalg, conv, pool, norm, dropout, loss;
an in-place op (``add_``) sits beside its op and goes through ``inplace.in_place``. Names and
arguments follow ``torch`` / ``torch.nn.functional`` (``dim``, ``keepdim``, ``kernel_size``,
``negative_slope``). Importing this package also gives ``Tensor`` its operators and methods
(``a + b``, ``a += b``, ``a == b``, ``a @ b``, ``t.sum(dim)``, ``t.view(...)``, ``t[i] = v``),
which is why ``minigan.autograd`` needs no op. ``generator`` holds the seeded generator of
initial weights and dropout masks (``minigan.manual_seed``).
"""
import numpy as np

from minigan.autograd import Tensor, as_tensor
from minigan.autograd.hints import TensorLike
from minigan.autograd.torch_names import missing_attribute
from minigan.functional.compare import eq, ge, gt, le, lt, ne
from minigan.functional.conv import conv2d
from minigan.functional.dropout import dropout
from minigan.functional.elementwise import (abs, add, add_, astype, clamp, clamp_, div, div_, exp,
                                            leaky_relu, log, mul, mul_, neg, pow, relu, relu_,
                                            sigmoid, sqrt, sub, sub_, tanh)
from minigan.functional.linalg import linear, matmul
from minigan.functional.loss import (binary_cross_entropy_with_logits, cross_entropy, l1_loss,
                                     log_softmax, mse_loss, patch_cross_entropy, softmax)
from minigan.functional.norm import batch_norm
from minigan.functional.pad import pad
from minigan.functional.pool import max_pool2d
from minigan.functional.reduce import (amax, amin, argmax, argmin, max, mean, min, std, sum,
                                       var)
from minigan.functional.shape import (broadcast_to, cat, clone, concatenate, contiguous, copy_,
                                      fill_, flatten, getitem, permute, reshape, setitem,
                                      squeeze, stack, transpose, unsqueeze, view, zero_)


def _reflected(op):
    return lambda self, other: op(as_tensor(other, like=self), self)


def _comparison(op):
    """``t == None`` and the like fall back to Python's identity rules, as in PyTorch."""
    return lambda self, other: NotImplemented if other is None else op(self, other)


def _cast(dtype):
    def cast(self) -> Tensor:
        return astype(self, dtype)
    return cast


def _with_alpha(op):
    """``t.add(other, alpha=2)``: t + 2 * other, as in PyTorch."""
    def method(self, other: TensorLike, alpha: float = 1) -> Tensor:
        return op(self, other if alpha == 1 else mul(as_tensor(other, like=self), alpha))
    return method


def _transposed(self) -> Tensor:
    """``t.T``: the dimensions in reverse order."""
    return permute(self, tuple(reversed(range(self.ndim))))


def _install_tensor_methods():
    T = Tensor
    T.__add__, T.__radd__ = add, _reflected(add)
    T.__sub__, T.__rsub__ = sub, _reflected(sub)
    T.__mul__, T.__rmul__ = mul, _reflected(mul)
    T.__truediv__, T.__rtruediv__ = div, _reflected(div)
    T.__pow__, T.__rpow__ = pow, _reflected(pow)
    T.__matmul__, T.__rmatmul__ = matmul, _reflected(matmul)
    T.__neg__, T.__abs__ = neg, abs
    T.__iadd__, T.__isub__, T.__imul__, T.__itruediv__ = add_, sub_, mul_, div_
    T.__eq__, T.__ne__ = _comparison(eq), _comparison(ne)
    T.__lt__, T.__le__, T.__gt__, T.__ge__ = lt, le, gt, ge
    T.__getitem__, T.__setitem__ = getitem, setitem
    T.add, T.sub, T.mul, T.div, T.pow, T.matmul, T.neg = (_with_alpha(add), _with_alpha(sub),
                                                          mul, div, pow, matmul, neg)
    T.add_, T.sub_, T.mul_, T.div_, T.clamp_, T.relu_ = add_, sub_, mul_, div_, clamp_, relu_
    T.copy_, T.fill_, T.zero_ = copy_, fill_, zero_
    T.sum, T.mean, T.max, T.min, T.amax, T.amin = sum, mean, max, min, amax, amin
    T.var, T.std, T.argmax, T.argmin = var, std, argmax, argmin
    T.reshape, T.view, T.permute, T.transpose = reshape, view, permute, transpose
    T.flatten, T.squeeze, T.unsqueeze = flatten, squeeze, unsqueeze
    T.broadcast_to, T.clone, T.contiguous = broadcast_to, clone, contiguous
    T.exp, T.log, T.sqrt, T.abs, T.clamp = exp, log, sqrt, abs, clamp
    T.tanh, T.sigmoid, T.relu, T.astype = tanh, sigmoid, relu, astype
    T.float, T.double, T.long = _cast(np.float32), _cast(np.float64), _cast(np.int64)
    T.T = property(_transposed)


_install_tensor_methods()

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "exp", "log", "sqrt", "tanh", "sigmoid", "relu",
    "leaky_relu", "abs", "clamp", "astype", "eq", "ne", "lt", "le", "gt", "ge", "sum", "mean",
    "var", "std", "max", "min", "amax", "amin", "argmax", "argmin", "reshape", "view", "permute",
    "transpose", "flatten", "squeeze", "unsqueeze", "broadcast_to", "cat", "concatenate",
    "stack", "getitem", "setitem", "clone", "contiguous", "pad", "matmul", "linear", "conv2d",
    "max_pool2d", "batch_norm", "dropout", "patch_cross_entropy", "cross_entropy",
    "binary_cross_entropy_with_logits", "l1_loss", "mse_loss", "softmax", "log_softmax",
    "add_", "sub_", "mul_", "div_", "clamp_", "relu_", "copy_", "fill_", "zero_",
]


def __getattr__(name):
    raise missing_attribute("minigan.functional", "module 'minigan.functional'", name,
                            __all__)
