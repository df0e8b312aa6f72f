"""``Tensor``: an array with an optional gradient, and the backward walk over the graph.

A ``Tensor`` wraps one array (``.data``) and, when it was made by an op, remembers the
``Function`` that made it (``.creator``). ``Tensor.backward`` walks the graph once in reverse
topological order and calls each ``Function.backward(grad_output) -> grads of its inputs``.

The ops themselves (``+``, ``matmul``, ``conv2d`` ...) live in ``minigan.functional``, which also
installs the operator methods on ``Tensor`` (``a + b`` calls ``functional.add``): this module
knows no op, so a reader can hold the whole engine in their head.
"""
import numpy as np

from minigan import backend


def _as_array(data, dtype, device):
    """Any array-like -> a NumPy/CuPy array on ``device`` (Python floats become float32)."""
    if isinstance(data, Tensor):
        data = data.data
    xp = backend.get_array_module(data)
    if xp is np and not isinstance(data, np.ndarray):
        from_python = not isinstance(data, np.generic)
        data = np.asarray(data)
        if dtype is None and from_python and data.dtype == np.float64:
            dtype = np.float32  # Python floats and lists default to float32, as in PyTorch
    if dtype is not None and data.dtype != np.dtype(dtype):
        data = data.astype(dtype)
    if device is not None:
        data = backend.to_device(data, device)
    return data


class Tensor:
    """An array with an optional gradient.

    Attributes: ``data`` (numpy.ndarray | cupy.ndarray), ``grad`` (array or None, filled by
    ``backward`` for leaves with ``requires_grad``), ``requires_grad``, ``creator`` (the Function
    that produced it, None for a leaf).
    """

    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        self.data = _as_array(data, dtype, device)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.creator = None

    # -- array facts ------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def is_leaf(self):
        return self.creator is None

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({backend.to_numpy(self.data)!r}, device='{self.device}'{grad})"

    # -- conversions ------------------------------------------------------------------------
    def numpy(self):
        """The values as a NumPy array (a copy from the GPU, the array itself on the CPU)."""
        return backend.to_numpy(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape {self.shape}")
        return self.numpy().reshape(()).item()

    def to(self, device):
        """This tensor on ``device`` ('cpu' | 'cuda'): itself if already there, else a leaf copy."""
        device = backend.resolve_device(device)
        if device == self.device:
            return self
        return Tensor(backend.to_device(self.data, device), requires_grad=self.requires_grad)

    def detach(self):
        """Same data, cut from the graph: no gradient flows through the result."""
        return Tensor(self.data)

    # -- gradients --------------------------------------------------------------------------
    def zero_grad(self):
        self.grad = None

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is dL/d(self); it may be omitted for a one-element tensor (then 1).
        The walk is iterative, so graphs deeper than Python's recursion limit work.
        Unless ``retain_graph``, the graph is freed afterwards.
        """
        if not self.requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad "
                               "(no input had requires_grad=True, or it was made under no_grad())")
        if grad is None:
            if self.size != 1:
                raise ValueError("backward() without a grad argument needs a one-element tensor; "
                                 f"this one has shape {self.shape}")
            grad = backend.get_array_module(self.data).ones_like(self.data)
        else:
            grad = _as_array(grad, self.dtype, self.device)
            if grad.shape != self.shape:
                raise ValueError(f"grad has shape {grad.shape} but the tensor has shape {self.shape}")

        grads = {id(self): grad}
        for tensor in reversed(_topological_order(self)):
            grad_out = grads.pop(id(tensor), None)
            if grad_out is None:
                continue
            function = tensor.creator
            if function is None:  # a leaf
                tensor.grad = grad_out if tensor.grad is None else tensor.grad + grad_out
                continue
            input_grads = function.backward(grad_out)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            for inp, g in zip(function.inputs, input_grads):
                if g is None or not inp.requires_grad:
                    continue
                if g.shape != inp.shape:
                    raise RuntimeError(f"{type(function).__name__}.backward returned a gradient of "
                                       f"shape {g.shape} for an input of shape {inp.shape}")
                key = id(inp)
                grads[key] = g if key not in grads else grads[key] + g
            if not retain_graph:
                tensor.creator = None
                function.inputs = ()


def _topological_order(root):
    """Tensors reachable from ``root`` through creators, each after all of its inputs."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        tensor, inputs_done = stack.pop()
        if inputs_done:
            order.append(tensor)
            continue
        if id(tensor) in visited:
            continue
        visited.add(id(tensor))
        stack.append((tensor, True))
        if tensor.creator is not None:
            for inp in tensor.creator.inputs:
                if inp.requires_grad and id(inp) not in visited:
                    stack.append((inp, False))
    return order
