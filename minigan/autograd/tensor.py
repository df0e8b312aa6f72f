"""``Tensor``: an array with an optional gradient, and the backward walk over the graph.

A ``Tensor`` wraps one array (``.data``) and, when it was made by an op, remembers the
``Function`` that made it (``.creator``). ``Tensor.backward`` walks the graph once in reverse
topological order and calls each ``Function.backward(gy) -> gradients of its inputs``.

The ops themselves (``+``, ``matmul``, ``conv2d``, ``==`` ...) live in ``minigan.functional``,
which also installs the operator methods on ``Tensor`` (``a + b`` calls ``functional.add``):
this module knows no op, so a reader can hold the whole engine in their head.

Every assignment to ``.data`` counts up the tensor's *version*. An op remembers the versions of
its inputs, and ``backward`` refuses to run an op whose input changed since (as PyTorch does):
its gradient would belong to values the tensor no longer holds.
"""
import numpy as np

from minigan import backend


def _as_array(data, dtype, device):
    """Any array-like -> an array on ``device`` (Python floats become float32).

    Host data (a NumPy array, a list, a number) goes to the default device when ``device`` is
    None, as ``torch.tensor`` does; an array already on a device stays there.
    """
    if isinstance(data, Tensor):
        data = data.data
    xp = backend.get_array_module(data)
    if xp is np:
        if not isinstance(data, np.ndarray):
            from_python = not isinstance(data, np.generic)
            data = np.asarray(data)
            if dtype is None and from_python and data.dtype == np.float64:
                dtype = np.float32  # Python floats and lists default to float32, as in PyTorch
        if device is None:
            device = backend.get_default_device()
    if dtype is not None and data.dtype != np.dtype(dtype):
        data = data.astype(dtype)
    if device is not None:
        data = backend.to_device(data, device)
    return data


def _names_a_dtype(name):
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True


def _check_can_require_grad(dtype):
    if dtype.kind != "f":
        raise RuntimeError(f"only floating-point tensors can require gradients; this one has "
                           f"dtype {dtype} (convert it first, e.g. .to(numpy.float32))")


class Tensor:
    """An array with an optional gradient.

    Attributes: ``data`` (numpy.ndarray | cupy.ndarray), ``grad`` (array or None, filled by
    ``backward`` for leaves with ``requires_grad``), ``requires_grad`` (floating dtypes only),
    ``creator`` (the Function that produced it, None for a leaf).
    """

    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__
    # ``==`` gives a boolean Tensor (installed by minigan.functional), so hashing, and with it
    # dict and set membership, goes by identity, as in PyTorch.
    __hash__ = object.__hash__

    def __init__(self, data, requires_grad=False, dtype=None, device=None):
        """``data`` (an array, a list, a number) on ``device``; None: the default device for
        host data (``minigan.backend.get_default_device``), its own device for a device array."""
        self._data = _as_array(data, dtype, device)
        self._version = 0
        self.grad = None
        self.creator = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    @classmethod
    def wrap(cls, array):
        """A Tensor holding ``array`` as it is, on its own device (no copy): what an op returns."""
        tensor = cls.__new__(cls)
        tensor._data, tensor._version, tensor.grad = array, 0, None
        tensor.creator, tensor._requires_grad = None, False
        return tensor

    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, array):
        self._data = array
        self._version += 1

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if flag:
            _check_can_require_grad(self._data.dtype)
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` in place; returns self. Only a leaf can stop requiring grad."""
        if not requires_grad and self.creator is not None:
            raise RuntimeError("requires_grad_(False) on a tensor made by an op: use .detach() "
                               "to cut it from the graph")
        self.requires_grad = requires_grad
        return self

    # -- array facts ------------------------------------------------------------------------
    @property
    def shape(self):
        return self._data.shape

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        """The number of dimensions (``ndim``)."""
        return self._data.ndim

    def size(self, dim=None):
        """The shape, or its entry ``dim`` (as ``torch.Tensor.size``)."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self):
        """The number of elements."""
        return self._data.size

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def device(self):
        return backend.device_of(self._data)

    @property
    def is_leaf(self):
        return self.creator is None

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __repr__(self):
        grad = ", requires_grad=True" if self._requires_grad else ""
        return f"Tensor({backend.to_numpy(self._data)!r}, device='{self.device}'{grad})"

    # -- conversions ------------------------------------------------------------------------
    def numpy(self):
        """The values as a NumPy array (a copy from the GPU, the array itself on the CPU)."""
        return backend.to_numpy(self._data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape "
                               f"{self.shape} ({self._data.size} elements)")
        return self.numpy().reshape(()).item()

    def tolist(self):
        """The values as (nested) Python lists of numbers; a 0-d tensor gives a number."""
        return self.numpy().tolist()

    def __float__(self):
        return float(self._one_element("float"))

    def __int__(self):
        return int(self._one_element("int"))

    def __bool__(self):
        if self._data.size != 1:
            what = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of a Tensor with {what} is ambiguous; "
                               "use .any() or .all() on its .numpy(), or compare one element")
        return bool(self.item())

    def _one_element(self, to):
        if self._data.size != 1:
            raise ValueError(f"only one-element tensors can be converted to a Python {to}; "
                             f"this one has shape {self.shape}")
        return self.item()

    def to(self, *args, device=None, dtype=None):
        """This tensor on ``device`` and/or as ``dtype``: ``t.to('cuda')``, ``t.to(np.float64)``.

        Itself when nothing changes; a device move gives a leaf copy, a dtype change is an op
        (the gradient flows back, cast to the old dtype).
        """
        for arg in args:
            if isinstance(arg, str) and not _names_a_dtype(arg):
                device = arg
            else:
                dtype = arg
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = out.astype(dtype)  # installed by minigan.functional (a differentiable cast)
        if device is not None:
            device = backend.resolve_device(device)
            if device != out.device:
                out = Tensor(out._data, device=device, requires_grad=out._requires_grad)
        return out

    def cpu(self):
        """``self.to('cpu')``."""
        return self.to("cpu")

    def cuda(self):
        """``self.to('cuda')``: a clear error when no GPU is usable."""
        return self.to("cuda")

    def detach(self):
        """Same data, cut from the graph: no gradient flows through the result."""
        return Tensor.wrap(self._data)

    # -- gradients --------------------------------------------------------------------------
    def zero_grad(self):
        self.grad = None

    def backward(self, grad=None, retain_graph=False):
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``grad`` is dL/d(self), an array of self's shape (given as anything ``Tensor`` takes,
        made self's dtype and device); it may be omitted for a one-element tensor (then 1).

        The chain rule, once per op: the tensors of ``_topological_order(self)`` are visited
        from the last (self) to the first, so a tensor's gradient is complete - summed over
        every op that used it - before its creator passes it on:

            grads = {self: grad}
            for t in reversed(_topological_order(self)):
                gy = grads.pop(t)                       (skip t when no gradient reached it)
                t a leaf:   t.grad = gy, or t.grad + gy when t.grad is already set
                otherwise:  f = t.creator;  gxs = f.backward(gy)  (a bare array: one input)
                            for each input x of f with x.requires_grad and gx not None:
                                grads[x] = gx, or grads[x] + gx when x already has one

        The walk is iterative, so graphs deeper than Python's recursion limit work. Unless
        ``retain_graph``, each op is freed as soon as it has been used (``t.creator = None``,
        ``f.inputs = ()``), so a second ``backward`` through it finds no graph.

        Errors: RuntimeError "backward() on a tensor that does not require grad ..." when self
        does not require grad; ValueError "backward() without a grad argument needs a
        one-element tensor ..." and "grad has shape ... but the tensor has shape ...";
        ``_raise_changed_input(f, x, seen)`` before ``f.backward`` when an input x of f has a
        ``_version`` other than the one f saw (``f.input_versions``); RuntimeError
        "<Op>.backward returned a gradient of shape ... for an input of shape ..." when a
        gradient does not have its input's shape.
        """
        if not self._requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad "
                               "(no input had requires_grad=True, or it was made under no_grad())")
        if grad is None:
            if self._data.size != 1:
                raise ValueError("backward() without a grad argument needs a one-element tensor; "
                                   f"this one has shape {self.shape}")
            grad = backend.get_array_module(self._data).ones_like(self._data)
        else:
            grad = _as_array(grad, self.dtype, self.device)
            if grad.shape != self.shape:
                raise ValueError(f"grad has shape {grad.shape} but the tensor has shape {self.shape}")

        grads = {id(self): grad}
        for tensor in reversed(_topological_order(self)):
            gy = grads.pop(id(tensor), None)
            if gy is None:
                continue
            function = tensor.creator
            if function is None:  # a leaf
                tensor.grad = gy if tensor.grad is None else tensor.grad + gy
                continue
            for inp, seen in zip(function.inputs, function.input_versions):
                if inp._version != seen:
                    _raise_changed_input(function, inp, seen)
            gxs = function.backward(gy)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for inp, gx in zip(function.inputs, gxs):
                if gx is None or not inp._requires_grad:
                    continue
                if gx.shape != inp.shape:
                    raise RuntimeError(f"{type(function).__name__}.backward returned a gradient of "
                                       f"shape {gx.shape} for an input of shape {inp.shape}")
                key = id(inp)
                grads[key] = gx if key not in grads else grads[key] + gx
            if not retain_graph:
                tensor.creator = None
                function.inputs = ()


def _raise_changed_input(function, inp, seen):
    """An input of ``function`` had its data replaced after the op used it: say which."""
    name = type(function).__name__
    i = next(i for i, t in enumerate(function.inputs) if t is inp)
    raise RuntimeError(
        f"backward(): input {i} of {name} (shape {inp.shape}) was changed after {name} used it "
        f"(its data is at version {inp._version}, {name} saw version {seen}); change a tensor "
        "only after backward(), or run the forward pass again")


def _topological_order(root):
    """Tensors reachable from ``root`` through creators, each after all of its inputs.

    A list that ends with ``root``; each tensor appears once, however many ops use it (the
    shared node of a diamond too), and an input that does not require grad is left out (no
    gradient goes there). A depth-first search with an explicit stack instead of recursion, so
    a chain of 10,000 ops works.
    """
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
                if inp._requires_grad and id(inp) not in visited:
                    stack.append((inp, False))
    return order
