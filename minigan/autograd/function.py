"""``Function``: one differentiable op, the base class of every op in ``minigan.functional``.

``Function.__call__`` runs ``forward`` on raw arrays and links the output into the graph (the
output's ``creator`` is the function, the function's ``inputs`` are the input tensors, and
``input_versions`` and ``output_version`` the versions at that moment), so that
``Tensor.backward`` can later call ``backward`` with the gradient of the output. An output that
is a view of an input's array shares that input's version counter.
"""
import numpy as np

from minigan import backend
from minigan.autograd import grad_mode
from minigan.autograd.tensor import Tensor


class Function:
    """One differentiable op: ``forward(*arrays) -> array`` and ``backward(gy) -> gxs``.

    Subclasses keep whatever ``backward`` needs on ``self`` during ``forward``. ``backward``
    gets ``gy`` = dL/dy and returns one gradient per input (a tuple, or a bare array for one
    input); ``None`` where an input needs no gradient (``self.needs_input_grad[i]`` says
    which do). Only a floating output joins the graph.
    """

    def __call__(self, *inputs):
        like = _first_tensor(inputs)
        tensors = [x if isinstance(x, Tensor) else as_tensor(x, like) for x in inputs]
        for t in tensors:
            t._check_not_stale()
        if len(tensors) > 1:
            _check_same_device(type(self).__name__, tensors)
        self.needs_input_grad = tuple(t._requires_grad for t in tensors)
        array = self.forward(*[t._data for t in tensors])
        source = _shares_memory_with(array, tensors)
        output = Tensor.wrap(array) if source is None else source._alias(array)
        if (grad_mode.is_grad_enabled() and any(self.needs_input_grad)
                and output._data.dtype.kind == "f"):
            output._requires_grad = True
            output.creator = self
            self.inputs = tensors
            self.input_versions = [t._version for t in tensors]
            self.output_version = output._version
        return output

    def forward(self, *arrays):
        raise NotImplementedError

    def backward(self, gy):
        raise NotImplementedError


def may_share_memory(a, b):
    """Whether arrays ``a`` and ``b`` (of one device) may overlap in memory."""
    if type(a) is not type(b):
        return False
    xp = np if isinstance(a, np.ndarray) else backend.get_array_module(a)
    return bool(xp.may_share_memory(a, b))


def _shares_memory_with(array, tensors):
    """The input whose array ``array`` may be a view of (reshape, indexing ...), or None."""
    return next((t for t in tensors if may_share_memory(array, t._data)), None)


def _first_tensor(values):
    for value in values:
        if isinstance(value, Tensor):
            return value
    return None


def as_tensor(value, like=None):
    """``value`` as a Tensor; a Python/NumPy scalar takes the dtype and device of ``like``."""
    if isinstance(value, Tensor):
        return value
    if like is not None and np.isscalar(value):
        xp = backend.get_array_module(like.data)
        dtype = like.dtype if np.issubdtype(like.dtype, np.floating) else None
        return Tensor.wrap(xp.asarray(value, dtype=dtype))
    return Tensor(value, device=like.device if like is not None else None)


def _check_same_device(op_name, tensors):
    if len({type(t._data) for t in tensors}) == 1:  # one array type: one device
        return
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise ValueError(f"{op_name}: inputs are on different devices {sorted(devices)}; "
                         "move them with .to(device) first")
