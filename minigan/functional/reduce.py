"""Reductions: sum, mean, var/std, max/min (and amax/amin), argmax/argmin.

x: any shape. ``dim``: an int, a tuple of ints, or None for every dimension; ``keepdim=True``
keeps each reduced dimension with size 1. As in PyTorch, NumPy's names ``axis`` and
``keepdims`` are accepted as aliases. ``max(x, dim)`` / ``min(x, dim)`` return
``(values, indices)`` along one dimension, as ``torch.max`` does; ``max(x)`` is the largest
element and ``amax(x, dim)`` the largest over several dimensions.

Backward broadcasts gy back over the reduced dimensions; ``amax``/``max(x)`` send it to the
positions that hold the maximum, split equally between ties; ``max(x, dim)`` sends it to the
one index it returned.
"""
from __future__ import annotations

import operator
import warnings
from collections import namedtuple
from typing import Optional, Union

import numpy as np

from minigan.autograd import Function, Tensor, as_tensor
from minigan.autograd.hints import Dim, TensorLike
from minigan.backend import get_array_module

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])


def _dim_alias(op, dim, keepdim, axis, keepdims):
    """Fold PyTorch's NumPy-style aliases ``axis``/``keepdims`` into ``dim``/``keepdim``."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}() got both dim and its alias axis; give one of them")
        dim = axis
    return dim, keepdim if keepdims is None else keepdims


def _normalize_dims(dim, ndim):
    """``dim`` (None | int | tuple of ints, negative counting from the end) -> sorted tuple."""
    if dim is None:
        return tuple(range(ndim))
    try:
        dims = (operator.index(dim),) if not isinstance(dim, (tuple, list)) else tuple(
            operator.index(d) for d in dim)
    except TypeError:
        raise TypeError(f"dim must be an int or a tuple of ints, got {dim!r}") from None
    for d in dims:
        if not -ndim <= d < ndim:
            raise IndexError(f"dim {d} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted(d % ndim for d in dims)) if ndim else ()


def _expand_reduced(gy, x_shape, dims, keepdim):
    """Reshape a reduced gradient so it broadcasts against the input shape."""
    if keepdim:
        return gy
    return gy.reshape([1 if i in dims else n for i, n in enumerate(x_shape)])


class Sum(Function):
    """y = sum of x over ``dim``;  dy/dx = 1 at every summed element (gy broadcast back)."""
    def __init__(self, dim=None, keepdim=False):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        self.x_shape = x.shape
        self.dims = _normalize_dims(self.dim, x.ndim)
        return x.sum(axis=self.dims, keepdims=self.keepdim)

    def backward(self, gy):
        """gx (x's shape) = gy broadcast back over the summed dimensions (``_expand_reduced``
        first puts back the dimensions that ``keepdim=False`` dropped); a copy, not a view."""
        xp = get_array_module(gy)
        return xp.broadcast_to(_expand_reduced(gy, self.x_shape, self.dims, self.keepdim),
                               self.x_shape).copy()


def sum(x: TensorLike, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,  # noqa: A001
        keepdims: Optional[bool] = None) -> Tensor:
    dim, keepdim = _dim_alias("sum", dim, keepdim, axis, keepdims)
    return Sum(dim, keepdim)(x)


class Mean(Sum):
    """y = sum of x over ``dim`` / count;  dy/dx = 1 / count (count: the elements each mean
    averages; x floating, as in PyTorch): gx is ``Sum.backward`` of gy / count."""
    def forward(self, x):
        if x.dtype.kind != "f":
            raise TypeError(f"mean: needs a floating tensor, got dtype {x.dtype} "
                            "(convert it first, e.g. .float())")
        total = super().forward(x)
        self.count = 1
        for d in self.dims:
            self.count *= x.shape[d]
        return (total / self.count).astype(x.dtype, copy=False)

    def backward(self, gy):
        return super().backward(gy / self.count)


def mean(x: TensorLike, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None,
         keepdims: Optional[bool] = None) -> Tensor:
    dim, keepdim = _dim_alias("mean", dim, keepdim, axis, keepdims)
    return Mean(dim, keepdim)(x)


def var(x: TensorLike, dim: Dim = None, unbiased: Optional[bool] = None, keepdim: bool = False, *,
        correction: Optional[int] = None) -> Tensor:
    """sum over ``dim`` of (x - mean x)^2 / (n - correction), n values per result.

    correction 1 (the unbiased estimate) is PyTorch's default; ``unbiased=False`` or
    ``correction=0`` gives the mean square deviation. ``var(x, False)`` is ``unbiased=False``,
    as in PyTorch. n - correction <= 0 gives inf or nan, with a warning. A composition of
    differentiable ops: gx = gy * 2 (x - mean x) / (n - correction).
    """
    if isinstance(dim, bool):  # torch.var(x, unbiased)
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError("var/std: give unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    x = as_tensor(x)
    dims = _normalize_dims(dim, x.ndim)
    n = 1
    for d in dims:
        n *= x.shape[d]
    centred = x - mean(x, dims, keepdim=True)
    total = sum(centred * centred, dims, keepdim)
    dof = n - correction
    if dof > 0:
        return total / dof
    warnings.warn(f"var(): degrees of freedom is <= 0 ({n} values, correction {correction})",
                  RuntimeWarning, stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / 0


def std(x: TensorLike, dim: Dim = None, unbiased: Optional[bool] = None, keepdim: bool = False, *,
        correction: Optional[int] = None) -> Tensor:
    """sqrt(var(x, ...)): see ``var``."""
    return var(x, dim, unbiased, keepdim, correction=correction).sqrt()


class Amax(Function):
    """y = max of x over ``dim``;  dy/dx = [x == y] / (number of ties): ties share gy."""
    pick = "max"

    def __init__(self, dim=None, keepdim=False):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{self.pick}() of an empty tensor")
        self.dims = _normalize_dims(self.dim, x.ndim)
        self.x = x
        self.y = getattr(x, self.pick)(axis=self.dims, keepdims=True)
        return self.y if self.keepdim else self.y.reshape(
            [n for i, n in enumerate(x.shape) if i not in self.dims])

    def backward(self, gy):
        """gx = gy * [x == y] / (number of ties), with gy and y broadcast back over the
        reduced dimensions: the elements that hold the extremum share gy equally."""
        gy = _expand_reduced(gy, self.x.shape, self.dims, self.keepdim)
        mask = (self.x == self.y).astype(gy.dtype)
        return gy * mask / mask.sum(axis=self.dims, keepdims=True)


def amax(x: TensorLike, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return Amax(dim, keepdim)(x)


class Amin(Amax):
    """y = min of x over ``dim``;  dy/dx = [x == y] / (number of ties)."""
    pick = "min"


def amin(x: TensorLike, dim: Dim = None, keepdim: bool = False) -> Tensor:
    return Amin(dim, keepdim)(x)


class MaxAlongDim(Function):
    """values = max of x along one ``dim``, ``self.indices`` = where (the first maximum);
    dvalues/dx = 1 at that index, 0 elsewhere."""
    arg = "argmax"

    def __init__(self, dim, keepdim=False):
        self.dim, self.keepdim = dim, keepdim

    def forward(self, x):
        if x.size == 0:
            raise ValueError(f"{self.arg[3:]}() of an empty tensor")
        xp = get_array_module(x)
        (self.axis,) = _normalize_dims(self.dim, x.ndim)
        self.x_shape = x.shape
        self.where = xp.expand_dims(getattr(xp, self.arg)(x, axis=self.axis), self.axis)
        values = xp.take_along_axis(x, self.where, self.axis)
        self.indices = self.where if self.keepdim else self.where.squeeze(self.axis)
        return values if self.keepdim else values.squeeze(self.axis)

    def backward(self, gy):
        """gx (x's shape) = gy at the index the forward pass returned
        (``self.where``, along ``self.axis``), 0 elsewhere; in gy's dtype."""
        xp = get_array_module(gy)
        if not self.keepdim:
            gy = xp.expand_dims(gy, self.axis)
        positions = xp.arange(self.x_shape[self.axis]).reshape(
            [-1 if i == self.axis else 1 for i in range(len(self.x_shape))])
        return xp.where(positions == self.where, gy, 0).astype(gy.dtype, copy=False)


class MinAlongDim(MaxAlongDim):
    """values = min of x along one ``dim``, ``self.indices`` = where (the first minimum)."""
    arg = "argmin"


def _extremum(op, whole, along, x, dim, keepdim, axis, keepdims):
    dim, keepdim = _dim_alias(op, dim, keepdim, axis, keepdims)
    if dim is None:
        return whole()(x)
    if isinstance(dim, (tuple, list, Tensor)):
        raise TypeError(f"{op}(x, dim) takes one int dim (got {dim!r}); for several dims use "
                        f"a{op}(x, dim), for the elementwise {op} of two tensors use "
                        f"{op}imum")
    function = along(dim, keepdim)
    values = function(x)
    return ValuesIndices(values, Tensor.wrap(function.indices.astype("int64", copy=False)))


def max(x: TensorLike, dim: Optional[int] = None, keepdim: bool = False, *, axis: Dim = None,  # noqa: A001
        keepdims: Optional[bool] = None) -> Union[Tensor, ValuesIndices]:
    """max(x): the largest element (0-d); max(x, dim): (values, indices) along ``dim``."""
    return _extremum("max", Amax, MaxAlongDim, x, dim, keepdim, axis, keepdims)


def min(x: TensorLike, dim: Optional[int] = None, keepdim: bool = False, *, axis: Dim = None,  # noqa: A001
        keepdims: Optional[bool] = None) -> Union[Tensor, ValuesIndices]:
    """min(x): the smallest element (0-d); min(x, dim): (values, indices) along ``dim``."""
    return _extremum("min", Amin, MinAlongDim, x, dim, keepdim, axis, keepdims)


def _arg(op, x, dim, keepdim, axis, keepdims):
    dim, keepdim = _dim_alias(op, dim, keepdim, axis, keepdims)
    data = x.data if isinstance(x, Tensor) else x
    xp = get_array_module(data)
    if dim is None:
        index = xp.asarray(getattr(xp, op)(data))
        index = index.reshape((1,) * data.ndim) if keepdim else index
    else:
        (axis,) = _normalize_dims(dim, data.ndim)
        index = getattr(xp, op)(data, axis=axis)
        index = xp.expand_dims(index, axis) if keepdim else index
    return Tensor.wrap(index.astype(xp.int64, copy=False))


def argmax(x: TensorLike, dim: Optional[int] = None, keepdim: bool = False, *, axis: Dim = None,
           keepdims: Optional[bool] = None) -> Tensor:
    """Index of the largest element (flat when ``dim`` is None), int64, no gradient."""
    return _arg("argmax", x, dim, keepdim, axis, keepdims)


def argmin(x: TensorLike, dim: Optional[int] = None, keepdim: bool = False, *, axis: Dim = None,
           keepdims: Optional[bool] = None) -> Tensor:
    """Index of the smallest element (flat when ``dim`` is None), int64, no gradient."""
    return _arg("argmin", x, dim, keepdim, axis, keepdims)
