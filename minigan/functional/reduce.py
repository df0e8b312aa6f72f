"""Reductions: sum, mean, max over axes (``axis=None`` means all), with ``keepdims``.

Backward broadcasts the gradient back over the reduced axes; for ``max`` it goes to the
positions that hold the maximum, split equally between ties.
"""
from minigan.autograd import Function
from minigan.backend import get_array_module


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(a % ndim for a in axes)) if ndim else ()


def _expand_reduced(g, x_shape, axes, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input shape."""
    if keepdims:
        return g
    shape = [1 if i in axes else n for i, n in enumerate(x_shape)]
    return g.reshape(shape)


class Sum(Function):
    """z = sum of x over ``axis``;  dz/dx = 1 at every summed element."""
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x_shape = x.shape
        self.axes = _normalize_axes(self.axis, x.ndim)
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, g):
        xp = get_array_module(g)
        return xp.broadcast_to(_expand_reduced(g, self.x_shape, self.axes, self.keepdims),
                               self.x_shape).copy()


class Mean(Sum):
    """z = sum(x) / count over ``axis``."""
    def forward(self, x):
        total = super().forward(x)
        self.count = 1
        for a in self.axes:
            self.count *= x.shape[a]
        return (total / self.count).astype(x.dtype, copy=False)

    def backward(self, g):
        return super().backward(g / self.count)


class Max(Function):
    """z = max of x over ``axis``;  dz/dx = [x == max] / (number of ties)."""
    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        if x.size == 0:
            raise ValueError("max() of an empty tensor")
        self.axes = _normalize_axes(self.axis, x.ndim)
        self.x = x
        self.z = x.max(axis=self.axes, keepdims=True)
        return self.z if self.keepdims else self.z.reshape(
            [n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, g):
        g = _expand_reduced(g, self.x.shape, self.axes, self.keepdims)
        mask = (self.x == self.z).astype(g.dtype)
        return g * mask / mask.sum(axis=self.axes, keepdims=True)


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return Sum(axis, keepdims)(x)


def mean(x, axis=None, keepdims=False):
    return Mean(axis, keepdims)(x)


def max(x, axis=None, keepdims=False):  # noqa: A001
    return Max(axis, keepdims)(x)
