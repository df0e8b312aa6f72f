"""Shape ops: reshape/view, permute/transpose, squeeze/unsqueeze/flatten, broadcast_to, cat,
stack, indexing and assigning by index, clone, copying values: each op's class, then its
wrapper(s).

None of them computes a new value, so each backward only moves gy back into place.
"""
from __future__ import annotations

import itertools
import operator
from typing import Any, Sequence

from minigan.autograd import Function, Tensor, as_tensor
from minigan.autograd.function import may_share_memory
from minigan.autograd.hints import Dim, TensorLike
from minigan.backend import get_array_module, scatter_add
from minigan.functional.elementwise import sum_to
from minigan.functional.inplace import in_place


def _shape_arg(shape):
    """``f(x, 2, 3)`` and ``f(x, (2, 3))`` both mean the shape (2, 3), as in PyTorch."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def _dim(dim, ndim, op):
    """``dim`` counted from 0 (negative: from the end), checked against ``ndim`` dimensions."""
    dim = operator.index(dim)
    if not -ndim <= dim < ndim:
        raise IndexError(f"{op}: dim {dim} is out of range for a tensor with "
                         f"{ndim} dimensions (allowed: {-ndim} to {ndim - 1})")
    return dim % ndim


class Reshape(Function):
    """y = x with ``shape`` (same elements in the same order; one entry may be -1);
    gx = gy reshaped to x's shape."""
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view shape {x.shape} ({x.size} elements) "
                             f"as {self.shape}") from None

    def backward(self, gy):
        return gy.reshape(self.x_shape)


def reshape(x: TensorLike, *shape: int) -> Tensor:
    """x (any shape) -> the same elements in ``shape``: ``reshape(x, 2, -1)`` or ``(2, -1)``."""
    return Reshape(_shape_arg(shape))(x)


def view(x: TensorLike, *shape: int) -> Tensor:
    """``reshape`` that shares x's memory, as PyTorch's ``view``: a layout that would need a
    copy (a transposed tensor, say) is an error."""
    y = reshape(x, *shape)
    if y.numel() and not may_share_memory(y.data, as_tensor(x).data):
        raise RuntimeError(f"view size is not compatible with input tensor's size and stride "
                           f"(shape {as_tensor(x).shape} -> {y.shape} needs a copy); use "
                           ".reshape(...) instead")
    return y


def flatten(x: TensorLike, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one: (2, 3, 4, 5), 1, 2 -> (2, 12, 5)."""
    x = as_tensor(x)
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = _dim(start_dim, x.ndim, "flatten"), _dim(end_dim, x.ndim, "flatten")
    if start > end:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    return reshape(x, x.shape[:start] + (-1,) + x.shape[end + 1:])


def squeeze(x: TensorLike, dim: Dim = None) -> Tensor:
    """Drop dimensions of size 1 (only ``dim``, an int or tuple, when given; a ``dim`` whose
    size is not 1 is kept, as in PyTorch)."""
    x = as_tensor(x)
    if dim is None:
        dims = range(x.ndim)
    else:
        dims = [_dim(d, x.ndim, "squeeze") for d in (dim if isinstance(dim, tuple) else (dim,))]
    return reshape(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x: TensorLike, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (in [-ndim - 1, ndim]): (2, 3), 1 -> (2, 1, 3)."""
    x = as_tensor(x)
    dim = _dim(dim, x.ndim + 1, "unsqueeze")
    return reshape(x, x.shape[:dim] + (1,) + x.shape[dim:])


class Permute(Function):
    """y = x with its dimensions reordered: y.shape[i] = x.shape[dims[i]]."""
    def __init__(self, dims):
        self.dims = tuple(dims)

    def forward(self, x):
        dims = tuple(_dim(d, x.ndim, "permute") for d in self.dims)
        if sorted(dims) != list(range(x.ndim)):
            raise ValueError(f"permute: dims {self.dims} are not a permutation of the "
                             f"{x.ndim} dimensions of shape {x.shape}")
        self.dims = dims
        return x.transpose(dims)

    def backward(self, gy):
        """gx = gy with the inverse permutation: dimension ``dims[i]`` of x is dimension i
        of y, so gx = gy.transpose(inverse) with inverse[dims[i]] = i."""
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return gy.transpose(inverse)


def permute(x: TensorLike, *dims: int) -> Tensor:
    """Reorder the dimensions: ``permute(x, 2, 0, 1)`` makes (C, H, W) of (H, W, C)."""
    return Permute(_shape_arg(dims))(x)


def transpose(x: TensorLike, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions: (2, 3, 4), 0, 2 -> (4, 3, 2)."""
    x = as_tensor(x)
    dims = list(range(x.ndim))
    a, b = _dim(dim0, x.ndim, "transpose"), _dim(dim1, x.ndim, "transpose")
    dims[a], dims[b] = b, a
    return Permute(dims)(x)


class BroadcastTo(Function):
    """y = x repeated along broadcast dimensions to ``shape``;
    gx = ``sum_to(gy, x's shape)``: each stretched dimension receives the sum of its copies'."""
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return get_array_module(x).broadcast_to(x, self.shape).copy()
        except ValueError:
            raise ValueError(f"broadcast_to: shape {x.shape} cannot broadcast to "
                             f"{self.shape}") from None

    def backward(self, gy):
        return sum_to(gy, self.x_shape)


def broadcast_to(x: TensorLike, shape: Sequence[int]) -> Tensor:
    return BroadcastTo(shape)(x)


class Cat(Function):
    """y = the inputs joined along ``dim``; backward splits gy at the same places."""
    def __init__(self, dim=0):
        self.dim = dim

    def forward(self, *xs):
        self.sizes = [x.shape[self.dim] for x in xs]
        try:
            return get_array_module(*xs).concatenate(xs, axis=self.dim)
        except ValueError as error:
            shapes = [x.shape for x in xs]
            raise ValueError(f"cat along dim {self.dim}: shapes {shapes} ({error})") from None

    def backward(self, gy):
        """(gx_1, ..., gx_k) = gy split along ``dim`` at the inputs' sizes there
        (``self.sizes``)."""
        bounds = list(itertools.accumulate(self.sizes))[:-1]
        return tuple(get_array_module(gy).split(gy, bounds, axis=self.dim))


def cat(tensors: Sequence[TensorLike], dim: int = 0) -> Tensor:
    """Join tensors along an existing ``dim``; all other dimensions must agree."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    return Cat(dim)(*tensors)


concatenate = cat


def stack(tensors: Sequence[TensorLike], dim: int = 0) -> Tensor:
    """Join equally shaped tensors along a new dimension ``dim``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape, got {sorted(shapes)}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


class GetItem(Function):
    """y = x[index] (basic or advanced NumPy indexing); backward scatters gy with add.at."""
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.x_shape = x.shape
        return x[self.index]

    def backward(self, gy):
        """gx = zeros of x's shape with gy added at ``index`` (``scatter_add``, NumPy's
        ``add.at``): an element picked twice by an advanced index gets both gradients."""
        xp = get_array_module(gy)
        gx = xp.zeros(self.x_shape, dtype=gy.dtype)
        scatter_add(gx, self.index, gy)
        return gx


def _index_arrays(index):
    """Tensors in an index (a mask, integer positions) as their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def getitem(x: TensorLike, index: Any) -> Tensor:
    return GetItem(_index_arrays(index))(x)


class SetItem(Function):
    """y = x with y[index] = v (v broadcast into the indexed place);
    gx = gy with 0 at index, gv = gy[index] summed back to v's shape."""
    def __init__(self, index):
        self.index = index

    def forward(self, x, v):
        self.v_shape, self.v_dtype = v.shape, v.dtype
        y = x.copy()
        try:
            y[self.index] = v
        except ValueError as error:
            raise ValueError(f"t[index] = value: value of shape {v.shape} does not fit "
                             f"the indexed part of shape {x.shape} ({error})") from None
        return y

    def backward(self, gy):
        gx = gv = None
        if self.needs_input_grad[0]:
            gx = gy.copy()
            gx[self.index] = 0
        if self.needs_input_grad[1]:
            picked = gy[self.index]
            missing = len(self.v_shape) - picked.ndim   # v may carry leading 1s
            if missing > 0:
                picked = picked.reshape((1,) * missing + picked.shape)
            gv = sum_to(picked, self.v_shape).astype(self.v_dtype, copy=False)
        return gx, gv


def setitem(x: TensorLike, index: Any, value: TensorLike) -> Tensor:
    """``x[index] = value``, in place."""
    function = SetItem(_index_arrays(index))
    return in_place(x, function, as_tensor(value, like=x))


class CopyValues(Function):
    """y = src broadcast to x's shape in x's dtype (x gives only shape and dtype);
    gx = 0, gsrc = gy summed back to src's shape, in src's dtype."""
    def forward(self, x, src):
        self.src_shape, self.src_dtype = src.shape, src.dtype
        try:
            return get_array_module(x).broadcast_to(src, x.shape).astype(x.dtype)
        except ValueError:
            raise ValueError(f"copy_: src of shape {src.shape} does not broadcast to the "
                             f"tensor's shape {x.shape}") from None

    def backward(self, gy):
        gx = get_array_module(gy).zeros_like(gy) if self.needs_input_grad[0] else None
        gsrc = (sum_to(gy, self.src_shape).astype(self.src_dtype, copy=False)
                if self.needs_input_grad[1] else None)
        return gx, gsrc


def copy_(x: TensorLike, src: TensorLike) -> Tensor:
    """x <- src broadcast to x's shape and cast to x's dtype, in place (the gradient flows to
    src); a src on another device is moved unless it requires grad."""
    src = as_tensor(src, like=x)
    if src.device != x.device:
        if src.requires_grad:
            raise RuntimeError(f"copy_: src is on {src.device}, the tensor on {x.device}; "
                               "move src with .to(device) first to keep its gradient")
        src = src.to(x.device)
    return in_place(x, CopyValues(), src)


def fill_(x: TensorLike, value: TensorLike) -> Tensor:
    """x <- value everywhere (a number or a one-element tensor), in place."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"fill_ only supports a one-element value tensor, got shape "
                               f"{value.shape}")
        value = reshape(value, ())
    return copy_(x, value)


def zero_(x: TensorLike) -> Tensor:
    return fill_(x, 0)


class Clone(Function):
    """y = a copy of x;  dy/dx = 1 (the copy stays in the graph, unlike ``detach``)."""
    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return gy


def clone(x: TensorLike) -> Tensor:
    return Clone()(x)


def contiguous(x: TensorLike) -> Tensor:
    """x itself when its array is C-contiguous, else a contiguous copy (in the graph)."""
    x = as_tensor(x)
    return x if x.is_contiguous() else clone(x)
