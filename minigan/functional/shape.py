"""Shape ops: reshape, transpose, broadcast_to, concatenate, stack, indexing.

None of them changes a value, so each backward only moves the gradient back into place.
"""
import itertools

from minigan.autograd import Function, Tensor, as_tensor
from minigan.backend import get_array_module, scatter_add
from minigan.functional.elementwise import sum_to


class Reshape(Function):
    """z = x viewed with ``shape`` (one entry may be -1)."""
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view shape {x.shape} ({x.size} elements) "
                             f"as {self.shape}") from None

    def backward(self, g):
        return g.reshape(self.x_shape)


class Transpose(Function):
    """z = x with its axes permuted by ``axes`` (reversed when None)."""
    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        if self.axes is not None and sorted(a % x.ndim for a in self.axes) != list(range(x.ndim)):
            raise ValueError(f"transpose: axes {self.axes} are not a permutation of "
                             f"{x.ndim} dimensions")
        return x.transpose(self.axes)

    def backward(self, g):
        if self.axes is None:
            return g.transpose()
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a % len(self.axes)] = i
        return g.transpose(inverse)


class BroadcastTo(Function):
    """z = x repeated along broadcast dimensions to ``shape``; backward sums them back."""
    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.x_shape = x.shape
        try:
            return get_array_module(x).broadcast_to(x, self.shape).copy()
        except ValueError:
            raise ValueError(f"broadcast_to: shape {x.shape} cannot broadcast to {self.shape}") from None

    def backward(self, g):
        return sum_to(g, self.x_shape)


class Concatenate(Function):
    """z = the inputs joined along ``axis``; backward splits the gradient at the same places."""
    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        try:
            return get_array_module(*xs).concatenate(xs, axis=self.axis)
        except ValueError as error:
            shapes = [x.shape for x in xs]
            raise ValueError(f"concatenate along axis {self.axis}: shapes {shapes} ({error})") from None

    def backward(self, g):
        bounds = list(itertools.accumulate(self.sizes))[:-1]
        return tuple(get_array_module(g).split(g, bounds, axis=self.axis))


class GetItem(Function):
    """z = x[index] (basic or advanced NumPy indexing); backward scatters with add.at."""
    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.x_shape = x.shape
        return x[self.index]

    def backward(self, g):
        xp = get_array_module(g)
        gx = xp.zeros(self.x_shape, dtype=g.dtype)
        scatter_add(gx, self.index, g)
        return gx


def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return Reshape(shape)(x)


def transpose(x, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = axes[0]
    return Transpose(axes or None)(x)


def broadcast_to(x, shape):
    return BroadcastTo(shape)(x)


def concatenate(tensors, axis=0):
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate needs at least one tensor")
    return Concatenate(axis)(*tensors)


def stack(tensors, axis=0):
    """Join equally shaped tensors along a new ``axis``."""
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ValueError(f"stack needs tensors of one shape, got {sorted(shapes)}")
    ndim = tensors[0].ndim + 1
    axis = axis % ndim
    expanded = [reshape(t, t.shape[:axis] + (1,) + t.shape[axis:]) for t in tensors]
    return concatenate(expanded, axis)


def getitem(x, index):
    if isinstance(index, Tensor):
        index = index.data
    return GetItem(index)(x)


def flatten(x, start_axis=1):
    """(N, ...) -> (N, prod(...)) for start_axis=1."""
    x = as_tensor(x)
    return reshape(x, x.shape[:start_axis] + (-1,))
