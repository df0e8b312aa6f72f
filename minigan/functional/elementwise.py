"""Elementwise ops with NumPy-style broadcasting.

For z = f(a, b) with broadcasting, dL/da is dL/dz * dz/da *summed back* to a's shape
(``sum_to``): a dimension that was stretched receives the sum of the gradients of its copies.
"""
import numpy as np

from minigan.autograd import Function, Tensor
from minigan.backend import get_array_module


def sum_to(array, shape):
    """Sum ``array`` over the broadcast dimensions so that it gets ``shape`` (the inverse of
    broadcasting, used by every binary op's backward)."""
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
                        ".astype(...) so both have the same floating dtype")


class _Binary(Function):
    def forward(self, a, b):
        _check_dtypes(type(self).__name__, a, b)
        self.a_shape, self.b_shape = a.shape, b.shape
        try:
            return self.compute(a, b)
        except ValueError as error:
            raise ValueError(f"{type(self).__name__}: shapes {a.shape} and {b.shape} "
                             f"do not broadcast ({error})") from None

    def reduce(self, ga, gb):
        return (sum_to(ga, self.a_shape) if self.needs_input_grad[0] else None,
                sum_to(gb, self.b_shape) if self.needs_input_grad[1] else None)


class Add(_Binary):
    """z = a + b."""
    def compute(self, a, b):
        return a + b

    def backward(self, g):
        return self.reduce(g, g)


class Sub(_Binary):
    """z = a - b."""
    def compute(self, a, b):
        return a - b

    def backward(self, g):
        return self.reduce(g, -g)


class Mul(_Binary):
    """z = a * b;  dz/da = b, dz/db = a."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return self.reduce(g * self.b, g * self.a)


class Div(_Binary):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        gb = -g * self.a / (self.b * self.b) if self.needs_input_grad[1] else g
        return self.reduce(g / self.b, gb)


class Pow(_Binary):
    """z = a ** b;  dz/da = b a^(b-1), dz/db = a^b log a (a > 0 where b needs a gradient)."""
    def compute(self, a, b):
        self.a, self.b = a, b
        self.z = a ** b
        return self.z

    def backward(self, g):
        ga = g * self.b * self.a ** (self.b - 1) if self.needs_input_grad[0] else g
        gb = g
        if self.needs_input_grad[1]:
            xp = get_array_module(self.a)
            gb = g * self.z * xp.log(xp.where(self.a > 0, self.a, 1))
        return self.reduce(ga, gb)


class _Unary(Function):
    """z = f(x); backward returns g * f'(x) from what ``forward`` kept."""


class Neg(_Unary):
    """z = -x."""
    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


class Exp(_Unary):
    """z = e^x;  dz/dx = z."""
    def forward(self, x):
        self.z = get_array_module(x).exp(x)
        return self.z

    def backward(self, g):
        return g * self.z


class Log(_Unary):
    """z = ln x;  dz/dx = 1/x."""
    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, g):
        return g / self.x


class Tanh(_Unary):
    """z = tanh x;  dz/dx = 1 - z^2."""
    def forward(self, x):
        self.z = get_array_module(x).tanh(x)
        return self.z

    def backward(self, g):
        return g * (1 - self.z * self.z)


class Sigmoid(_Unary):
    """z = 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2 (no overflow);  dz/dx = z (1 - z)."""
    def forward(self, x):
        self.z = (get_array_module(x).tanh(x * 0.5) + 1) * 0.5
        return self.z

    def backward(self, g):
        return g * self.z * (1 - self.z)


class LeakyReLU(_Unary):
    """z = x if x > 0 else slope * x (slope = 0 is ReLU)."""
    def __init__(self, slope=0.0):
        self.slope = slope

    def forward(self, x):
        xp = get_array_module(x)
        self.positive = x > 0
        if self.slope == 0:   # max and a product by the mask: branch-free, 10x faster than where
            return xp.maximum(x, 0).astype(x.dtype, copy=False)
        return xp.where(self.positive, x, x * self.slope).astype(x.dtype, copy=False)

    def backward(self, g):
        if self.slope == 0:
            return (g * self.positive).astype(g.dtype, copy=False)
        return get_array_module(g).where(self.positive, g, g * self.slope).astype(g.dtype, copy=False)


class Abs(_Unary):
    """z = |x|;  dz/dx = sign(x) (0 at 0)."""
    def forward(self, x):
        xp = get_array_module(x)
        self.sign = xp.sign(x)
        return xp.abs(x)

    def backward(self, g):
        return g * self.sign


class AsType(_Unary):
    """z = x cast to ``dtype``; the gradient is cast back."""
    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, g):
        return g.astype(self.x_dtype)


def add(a, b):
    return Add()(a, b)


def sub(a, b):
    return Sub()(a, b)


def mul(a, b):
    return Mul()(a, b)


def div(a, b):
    return Div()(a, b)


def pow(a, b):  # noqa: A001 - the op's name
    return Pow()(a, b)


def neg(x):
    return Neg()(x)


def exp(x):
    return Exp()(x)


def log(x):
    return Log()(x)


def tanh(x):
    return Tanh()(x)


def sigmoid(x):
    return Sigmoid()(x)


def relu(x):
    return LeakyReLU(0.0)(x)


def leaky_relu(x, slope=0.01):
    return LeakyReLU(slope)(x)


def abs(x):  # noqa: A001
    return Abs()(x)


def astype(x, dtype):
    return AsType(dtype)(x) if np.dtype(dtype) != Tensor(x).dtype else x
