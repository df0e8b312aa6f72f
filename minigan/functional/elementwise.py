"""Elementwise ops with NumPy-style broadcasting: each op's class, then its wrapper.

x, a, b, y: arrays of any shape (a and b broadcast against each other). For y = f(a, b) with
broadcasting, dL/da is gy * dy/da *summed back* to a's shape (``sum_to``): a dimension that was
stretched receives the sum of the gradients of its copies.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from minigan.autograd import Function, Tensor, as_tensor
from minigan.autograd.hints import TensorLike
from minigan.backend import get_array_module
from minigan.functional.inplace import in_place


def sum_to(array, shape):
    """Sum ``array`` over the broadcast dimensions so that it gets ``shape`` (the inverse of
    broadcasting, used by every binary op's backward).

    ``array`` has the shape that ``shape`` was broadcast to (NumPy's rule: shapes align at the
    right; a missing leading dimension or a size-1 dimension is stretched). The leading
    dimensions that ``shape`` lacks are summed away, and every dimension of size 1 in ``shape``
    that ``array`` stretched is summed back to size 1: (2, 4, 3) -> (4, 1) sums over axes 0
    and 2. Returns ``array`` itself when it has ``shape`` already."""
    if array.shape == tuple(shape):
        return array
    lead = array.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and array.shape[lead + i] != 1)
    out = array.sum(axis=axes, keepdims=True)
    return out.reshape(shape) if lead == 0 else out.reshape(out.shape[lead:])


def _check_dtypes(op_name, a, b):
    if a.dtype != b.dtype and a.dtype.kind == "f" and b.dtype.kind == "f":
        raise TypeError(f"{op_name}: dtype mismatch {a.dtype} vs {b.dtype}; convert one with "
                        ".to(dtype) so both have the same floating dtype")


class _Binary(Function):
    """y = f(a, b) broadcast; subclasses define ``compute``, and their ``backward`` returns
    ``self.unbroadcast(ga, gb)``: each gradient summed back to its input's shape."""

    def forward(self, a, b):
        _check_dtypes(type(self).__name__, a, b)
        self.a_shape, self.b_shape = a.shape, b.shape
        try:
            return self.compute(a, b)
        except ValueError as error:
            raise ValueError(f"{type(self).__name__}: shapes {a.shape} and {b.shape} "
                             f"do not broadcast ({error})") from None

    def unbroadcast(self, ga, gb):
        return (sum_to(ga, self.a_shape) if self.needs_input_grad[0] else None,
                sum_to(gb, self.b_shape) if self.needs_input_grad[1] else None)


class Add(_Binary):
    """y = a + b;  dy/da = dy/db = 1."""
    def compute(self, a, b):
        return a + b

    def backward(self, gy):
        return self.unbroadcast(gy, gy)


def add(a: TensorLike, b: TensorLike) -> Tensor:
    return Add()(a, b)


def _scaled(other, alpha):
    return other if alpha == 1 else mul(other, alpha)


def add_(x: TensorLike, other: TensorLike, alpha: float = 1) -> Tensor:
    """x <- x + alpha * other, in place."""
    return in_place(x, lambda t, o: add(t, _scaled(o, alpha)), as_tensor(other, like=x))


class Sub(_Binary):
    """y = a - b;  dy/da = 1, dy/db = -1."""
    def compute(self, a, b):
        return a - b

    def backward(self, gy):
        return self.unbroadcast(gy, -gy)


def sub(a: TensorLike, b: TensorLike) -> Tensor:
    return Sub()(a, b)


def sub_(x: TensorLike, other: TensorLike, alpha: float = 1) -> Tensor:
    """x <- x - alpha * other, in place."""
    return in_place(x, lambda t, o: sub(t, _scaled(o, alpha)), as_tensor(other, like=x))


class Mul(_Binary):
    """y = a * b;  dy/da = b, dy/db = a."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        return self.unbroadcast(gy * self.b, gy * self.a)


def mul(a: TensorLike, b: TensorLike) -> Tensor:
    return Mul()(a, b)


def mul_(x: TensorLike, other: TensorLike) -> Tensor:
    return in_place(x, mul, as_tensor(other, like=x))


class Div(_Binary):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        gb = -gy * self.a / (self.b * self.b) if self.needs_input_grad[1] else gy
        return self.unbroadcast(gy / self.b, gb)


def div(a: TensorLike, b: TensorLike) -> Tensor:
    return Div()(a, b)


def div_(x: TensorLike, other: TensorLike) -> Tensor:
    return in_place(x, div, as_tensor(other, like=x))


class Pow(_Binary):
    """y = a ** b;  dy/da = b a^(b-1), dy/db = a^b log a (a > 0 where b needs a gradient)."""
    def compute(self, a, b):
        self.a, self.b = a, b
        self.y = a ** b
        return self.y

    def backward(self, gy):
        """(ga, gb) = (gy * b * a^(b-1), gy * y * log a), summed back to the input shapes by
        ``self.unbroadcast``; where a <= 0, log 1 stands for log a (gb = 0 there)."""
        ga = gy * self.b * self.a ** (self.b - 1) if self.needs_input_grad[0] else gy
        gb = gy
        if self.needs_input_grad[1]:
            xp = get_array_module(self.a)
            gb = gy * self.y * xp.log(xp.where(self.a > 0, self.a, 1))
        return self.unbroadcast(ga, gb)


def pow(a: TensorLike, b: TensorLike) -> Tensor:  # noqa: A001 - the op's name
    return Pow()(a, b)


class Neg(Function):
    """y = -x;  dy/dx = -1."""
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


def neg(x: TensorLike) -> Tensor:
    return Neg()(x)


class Exp(Function):
    """y = e^x;  dy/dx = y."""
    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


def exp(x: TensorLike) -> Tensor:
    return Exp()(x)


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""
    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy):
        return gy / self.x


def log(x: TensorLike) -> Tensor:
    return Log()(x)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)  (infinite at x = 0, as in PyTorch)."""
    def forward(self, x):
        self.y = get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


def sqrt(x: TensorLike) -> Tensor:
    return Sqrt()(x)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y^2."""
    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


def tanh(x: TensorLike) -> Tensor:
    return Tanh()(x)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2 (no overflow);  dy/dx = y (1 - y)."""
    def forward(self, x):
        self.y = (get_array_module(x).tanh(x * 0.5) + 1) * 0.5
        return self.y

    def backward(self, gy):
        return gy * self.y * (1 - self.y)


def sigmoid(x: TensorLike) -> Tensor:
    return Sigmoid()(x)


class LeakyReLU(Function):
    """y = x if x > 0 else negative_slope * x (negative_slope = 0 is ReLU);
    dy/dx = 1 if x > 0 else negative_slope."""
    def __init__(self, negative_slope=0.0):
        self.negative_slope = negative_slope

    def forward(self, x):
        xp = get_array_module(x)
        self.positive = x > 0
        if self.negative_slope == 0:   # max, and a product by the mask backward: 10x faster
            return xp.maximum(x, 0).astype(x.dtype, copy=False)
        return xp.where(self.positive, x, x * self.negative_slope).astype(x.dtype, copy=False)

    def backward(self, gy):
        """gx = gy where x > 0 (``self.positive``), else gy * negative_slope; in gy's dtype."""
        if self.negative_slope == 0:
            return (gy * self.positive).astype(gy.dtype, copy=False)
        xp = get_array_module(gy)
        return xp.where(self.positive, gy, gy * self.negative_slope).astype(gy.dtype, copy=False)


def leaky_relu(x: TensorLike, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    function = LeakyReLU(negative_slope)
    return in_place(x, function) if inplace else function(x)


def relu(x: TensorLike, inplace: bool = False) -> Tensor:
    return leaky_relu(x, 0.0, inplace)


def relu_(x: TensorLike) -> Tensor:
    return relu(x, inplace=True)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0)."""
    def forward(self, x):
        xp = get_array_module(x)
        self.sign = xp.sign(x)
        return xp.abs(x)

    def backward(self, gy):
        return gy * self.sign


def abs(x: TensorLike) -> Tensor:  # noqa: A001
    return Abs()(x)


class Clamp(Function):
    """y = min(max(x, min), max) (either bound may be None);
    dy/dx = 1 where min <= x <= max (the bounds included, as in PyTorch), else 0."""
    def __init__(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        self.min, self.max = min, max

    def forward(self, x):
        xp = get_array_module(x)
        self.inside = xp.ones(x.shape, dtype=bool)
        y = x
        if self.min is not None:
            self.inside &= x >= self.min
            y = xp.maximum(y, self.min)
        if self.max is not None:
            self.inside &= x <= self.max
            y = xp.minimum(y, self.max)
        return y.astype(x.dtype, copy=False)

    def backward(self, gy):
        return gy * self.inside


def clamp(x: TensorLike, min: Optional[float] = None,  # noqa: A002 - PyTorch's names
          max: Optional[float] = None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not np.isscalar(bound):
            raise TypeError(f"clamp: {name} must be a number, got {type(bound).__name__}")
    return Clamp(min, max)(x)


def clamp_(x: TensorLike, min: Optional[float] = None,  # noqa: A002
           max: Optional[float] = None) -> Tensor:  # noqa: A002
    return in_place(x, lambda t: clamp(t, min, max))


class AsType(Function):
    """y = x cast to ``dtype``; the gradient is cast back to x's dtype."""
    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.x_dtype)


def astype(x: TensorLike, dtype: Any) -> Tensor:
    return AsType(dtype)(x) if np.dtype(dtype) != as_tensor(x).dtype else x
