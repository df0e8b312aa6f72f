"""Elementwise ops with NumPy-style broadcasting: each op's class, then its wrapper.

x, a, b, y: arrays of any shape (a and b broadcast against each other). For y = f(a, b) with
broadcasting, dL/da is gy * dy/da *summed back* to a's shape (``sum_to``): a dimension that was
stretched receives the sum of the gradients of its copies.
"""
import numpy as np

from minigan.autograd import Function, as_tensor
from minigan.backend import get_array_module


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


def add(a, b):
    return Add()(a, b)


class Sub(_Binary):
    """y = a - b;  dy/da = 1, dy/db = -1."""
    def compute(self, a, b):
        return a - b

    def backward(self, gy):
        return self.unbroadcast(gy, -gy)


def sub(a, b):
    return Sub()(a, b)


class Mul(_Binary):
    """y = a * b;  dy/da = b, dy/db = a."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        return self.unbroadcast(gy * self.b, gy * self.a)


def mul(a, b):
    return Mul()(a, b)


class Div(_Binary):
    """y = a / b;  dy/da = 1/b, dy/db = -a/b^2."""
    def compute(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        gb = -gy * self.a / (self.b * self.b) if self.needs_input_grad[1] else gy
        return self.unbroadcast(gy / self.b, gb)


def div(a, b):
    return Div()(a, b)


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


def pow(a, b):  # noqa: A001 - the op's name
    return Pow()(a, b)


class Neg(Function):
    """y = -x;  dy/dx = -1."""
    def forward(self, x):
        return -x

    def backward(self, gy):
        """gx = -gy (x, gy: one shape)."""
        return -gy


def neg(x):
    return Neg()(x)


class Exp(Function):
    """y = e^x;  dy/dx = y."""
    def forward(self, x):
        self.y = get_array_module(x).exp(x)
        return self.y

    def backward(self, gy):
        """gx = gy * y, with y = e^x kept from the forward pass."""
        return gy * self.y


def exp(x):
    return Exp()(x)


class Log(Function):
    """y = ln x;  dy/dx = 1/x."""
    def forward(self, x):
        self.x = x
        return get_array_module(x).log(x)

    def backward(self, gy):
        """gx = gy / x."""
        return gy / self.x


def log(x):
    return Log()(x)


class Sqrt(Function):
    """y = sqrt(x);  dy/dx = 1 / (2 y)  (infinite at x = 0, as in PyTorch)."""
    def forward(self, x):
        self.y = get_array_module(x).sqrt(x)
        return self.y

    def backward(self, gy):
        """gx = gy / (2 y), with y = sqrt(x) kept from the forward pass."""
        return gy / (2 * self.y)


def sqrt(x):
    return Sqrt()(x)


class Tanh(Function):
    """y = tanh x;  dy/dx = 1 - y^2."""
    def forward(self, x):
        self.y = get_array_module(x).tanh(x)
        return self.y

    def backward(self, gy):
        """gx = gy * (1 - y^2), with y = tanh x kept from the forward pass."""
        return gy * (1 - self.y * self.y)


def tanh(x):
    return Tanh()(x)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x), computed as (1 + tanh(x/2)) / 2 (no overflow);  dy/dx = y (1 - y)."""
    def forward(self, x):
        self.y = (get_array_module(x).tanh(x * 0.5) + 1) * 0.5
        return self.y

    def backward(self, gy):
        """gx = gy * y * (1 - y), with y = sigmoid(x) kept from the forward pass."""
        return gy * self.y * (1 - self.y)


def sigmoid(x):
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


def relu(x):
    return LeakyReLU(0.0)(x)


def leaky_relu(x, negative_slope=0.01):
    return LeakyReLU(negative_slope)(x)


class Abs(Function):
    """y = |x|;  dy/dx = sign(x) (0 at 0)."""
    def forward(self, x):
        xp = get_array_module(x)
        self.sign = xp.sign(x)
        return xp.abs(x)

    def backward(self, gy):
        """gx = gy * sign(x) (``self.sign``; 0 at x = 0)."""
        return gy * self.sign


def abs(x):  # noqa: A001
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
        """gx = gy where min <= x <= max (``self.inside``), else 0."""
        return gy * self.inside


def clamp(x, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max")
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not np.isscalar(bound):
            raise TypeError(f"clamp: {name} must be a number, got {type(bound).__name__}")
    return Clamp(min, max)(x)


class AsType(Function):
    """y = x cast to ``dtype``; the gradient is cast back to x's dtype."""
    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return gy.astype(self.x_dtype)


def astype(x, dtype):
    return AsType(dtype)(x) if np.dtype(dtype) != as_tensor(x).dtype else x
