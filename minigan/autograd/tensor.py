"""``Tensor``: an array with an optional gradient, and the backward walk over the graph.

A ``Tensor`` wraps one array (``.data``) and, when an op made it, remembers that op
(``.creator``, PyTorch's ``grad_fn``). ``Tensor.backward`` visits the graph once in reverse
topological order and calls each ``Function.backward(gy) -> gradients of its inputs``.

The ops themselves (``+``, ``matmul``, ``conv2d``, ``add_`` ...) live in ``minigan.functional``,
which also installs them as methods (``a + b`` calls ``functional.add``): this module knows no
op, so a reader can hold the whole engine in their head.

Versions. Every change of a tensor's values (an in-place op, assigning ``.data``) counts up its
version. An op remembers the versions of its inputs and of its output, and ``backward`` refuses
to run an op whose input or output changed since, as PyTorch does: its gradient would belong to
values that are gone. A tensor that shares memory with another (an op's output that is a view of
its input, ``detach()``) shares its version counter too.
"""
from typing import Any, Optional, Tuple, Union

import numpy as np

from minigan import backend
from minigan.autograd.torch_names import missing_attribute


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


class Tensor:
    """An array (``data``), its gradient (``grad``, a Tensor or None) and the op that made it.

    ``requires_grad``: floating dtypes only; ``creator`` (alias ``grad_fn``): the Function that
    produced it, None for a leaf. In-place ops (``+=``, ``add_``, ``zero_`` ...) change a
    tensor's own array and count up its version.
    """

    __array_priority__ = 1000  # so ndarray + Tensor calls Tensor.__radd__
    # ``==`` gives a boolean Tensor (installed by minigan.functional), so hashing, and with it
    # dict and set membership, goes by identity, as in PyTorch.
    __hash__ = object.__hash__

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None,
                 device: Optional[str] = None):
        """``data`` (an array, a list, a number; always copied, as ``torch.tensor`` does) on
        ``device``; None: the default device for host data, its own device for a device array."""
        self._data = _as_array(data, dtype, device, copy=True)
        self._version_counter = _VersionCounter()
        self._base = None
        self._grad = None
        self.creator = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is dL/d(self); ``grads = {id(self): self._seed_gradient(gradient)}``
        (an array of self's shape; it checks the argument, and gives ones for a one-element
        tensor when it is None).

        The chain rule, once per op: the tensors of ``_topological_order(self)`` are visited
        from the last (self) to the first, so a tensor's gradient is complete - summed over
        every op that used it - before its creator passes it on:

            for t in reversed(_topological_order(self)):
                gy = grads.pop(id(t))                   (skip t when no gradient reached it)
                t a leaf:   t._accumulate_grad(gy)      (sets or adds to t.grad)
                otherwise:  f = t.creator;  _check_unchanged(f, t)
                            gxs = f.backward(gy)  (a bare array: one input)
                            for each input x of f with x.requires_grad and gx not None:
                                _check_gradient(f, x, gx)
                                grads[id(x)] = gx, or grads[id(x)] + gx when x already has one

        The walk is iterative, so graphs deeper than Python's recursion limit work. Unless
        ``retain_graph``, each op is freed as soon as it has been used (``t.creator = None``,
        ``f.inputs = ()``), so a second ``backward`` through it finds no graph.
        """
        grads = {id(self): self._seed_gradient(gradient)}
        for tensor in reversed(_topological_order(self)):
            gy = grads.pop(id(tensor), None)
            if gy is None:
                continue
            function = tensor.creator
            if function is None:  # a leaf
                tensor._accumulate_grad(gy)
                continue
            _check_unchanged(function, tensor)
            gxs = function.backward(gy)
            if not isinstance(gxs, tuple):
                gxs = (gxs,)
            for inp, gx in zip(function.inputs, gxs):
                if gx is None or not inp._requires_grad:
                    continue
                _check_gradient(function, inp, gx)
                key = id(inp)
                grads[key] = gx if key not in grads else grads[key] + gx
            if not retain_graph:
                tensor.creator = None
                function.inputs = ()

    def _seed_gradient(self, gradient):
        if not self._requires_grad:
            raise RuntimeError("backward() on a tensor that does not require grad "
                               "(no input had requires_grad=True, or it was made under no_grad())")
        if gradient is None:
            if self._data.size != 1:
                raise ValueError("backward() without a gradient argument needs a one-element "
                                 f"tensor; this one has shape {self.shape}")
            return backend.get_array_module(self._data).ones_like(self._data)
        gradient = _as_array(gradient, self.dtype, self.device)
        if gradient.shape != self.shape:
            raise ValueError(f"grad has shape {gradient.shape} but the tensor has shape "
                             f"{self.shape}")
        return gradient

    def _accumulate_grad(self, gy):
        """``grad = gy`` (a copy in this tensor's dtype), or ``grad += gy`` in place."""
        if self._grad is None:
            self._grad = Tensor.wrap(gy.astype(self._data.dtype))
        elif getattr(self._grad._data.flags, "writeable", True):
            self._grad._data += gy
            self._grad._version_counter.value += 1
        else:
            self._grad.data = self._grad._data + gy

    # -- the gradient and the graph ---------------------------------------------------------
    @property
    def grad(self) -> Optional["Tensor"]:
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            _check_assigned_grad(self, value)
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.creator is not None and bool(flag) != self._requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables; "
                               "use .detach() to cut a tensor made by an op from the graph")
        if flag:
            _check_can_require_grad(self._data.dtype)
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        """Set ``requires_grad`` in place; returns self."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self) -> Any:
        return self.creator

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    def detach(self) -> "Tensor":
        """Same array, cut from the graph: no gradient flows through the result."""
        return self._alias(self._data)

    @classmethod
    def wrap(cls, array: Any) -> "Tensor":
        """A Tensor holding ``array`` as it is, on its own device (no copy): what an op returns."""
        tensor = cls.__new__(cls)
        tensor._data, tensor._version_counter, tensor._grad = array, _VersionCounter(), None
        tensor.creator, tensor._requires_grad, tensor._base = None, False, None
        return tensor

    def _alias(self, array):
        """A leaf holding ``array``, a view of this tensor's memory: one version counter, and
        ``_base`` the tensor that owns the memory."""
        alias = Tensor.wrap(array)
        alias._version_counter = self._version_counter
        alias._base = self if self._base is None else self._base
        return alias

    def _move_to_new_memory(self, array):
        """Hold ``array`` from now on, with a version counter of its own; the tensors that
        shared the old memory become stale (using one raises)."""
        old = self._version_counter
        old.stale = True
        self._version_counter = _VersionCounter(old.value + 1)
        self._data, self._base = array, None

    def _check_not_stale(self):
        if self._version_counter.stale:
            raise RuntimeError(
                "this tensor shared memory with another (a view of it, or detach()) that an "
                "in-place op recorded in the graph has changed since, giving that one new "
                "memory; PyTorch would have changed both. Take the view again after the "
                "in-place op, or clone() before it")

    @property
    def _version(self):
        return self._version_counter.value

    @property
    def data(self) -> Any:
        return self._data

    @data.setter
    def data(self, array):
        self._data = array.data if isinstance(array, Tensor) else array
        self._version_counter.value += 1

    # -- array facts ------------------------------------------------------------------------
    @property
    def shape(self) -> Tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim: Optional[int] = None) -> Union[Tuple[int, ...], int]:
        """The shape, or its entry ``dim`` (as ``torch.Tensor.size``)."""
        return self._data.shape if dim is None else self._data.shape[dim]

    def numel(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> str:
        return backend.device_of(self._data)

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __repr__(self):
        grad = ", requires_grad=True" if self._requires_grad else ""
        return f"Tensor({backend.to_numpy(self._data)!r}, device='{self.device}'{grad})"

    # -- conversions ------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as a NumPy array: the tensor's own array on the CPU, a copy from a GPU."""
        self._check_not_stale()
        if self._requires_grad:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return backend.to_numpy(self._data)

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        return array if dtype is None else array.astype(dtype, copy=False)

    def item(self) -> Union[int, float, bool]:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element; this one has shape "
                             f"{self.shape} ({self._data.size} elements)")
        self._check_not_stale()
        return backend.to_numpy(self._data).reshape(()).item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists of numbers; a 0-d tensor gives a number."""
        self._check_not_stale()
        return backend.to_numpy(self._data).tolist()

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

    def to(self, *args: Any, device: Optional[str] = None, dtype: Any = None) -> "Tensor":
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

    def cpu(self) -> "Tensor":
        return self.to("cpu")

    def cuda(self) -> "Tensor":
        """``self.to('cuda')``: a clear error when no GPU is usable."""
        return self.to("cuda")

    def __getattr__(self, name):
        raise missing_attribute("Tensor", f"'{type(self).__name__}' object", name,
                                dir(type(self)))


def zero_grads(tensors, set_to_none: bool = True) -> None:
    """Clear each tensor's gradient: None, or zeros in place (``set_to_none=False``)."""
    for t in tensors:
        if set_to_none:
            t.grad = None
        elif t.grad is not None:
            t.grad.zero_()


class _VersionCounter:
    """How often the values in one memory changed; ``stale`` once its owner moved away."""
    __slots__ = ("value", "stale")

    def __init__(self, value=0):
        self.value, self.stale = value, False


def _check_unchanged(function, output):
    """The inputs and the output of ``function`` still hold the values it saw."""
    name = type(function).__name__
    for i, (inp, seen) in enumerate(zip(function.inputs, function.input_versions)):
        if inp._version != seen:
            raise RuntimeError(
                f"backward(): input {i} of {name} (shape {inp.shape}) was changed after {name} "
                f"used it (its data is at version {inp._version}, {name} saw version {seen}: an "
                "in-place op or an assignment to .data); change a tensor only after backward(), "
                "or write the change out of place (y = y + 1)")
    if output._version != function.output_version:
        raise RuntimeError(
            f"backward(): the output of {name} (shape {output.shape}) was changed in place "
            f"after {name} made it (version {output._version}, {name} made version "
            f"{function.output_version}); change it out of place (y = y + 1) or clone() it first")


def _check_gradient(function, inp, gx):
    if gx.shape != inp.shape:
        raise RuntimeError(f"{type(function).__name__}.backward returned a gradient of shape "
                           f"{gx.shape} for an input of shape {inp.shape}")


def _check_assigned_grad(tensor, value):
    if not isinstance(value, Tensor):
        kind = type(value)
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                        f"{kind.__module__}.{kind.__name__} (wrap an array as Tensor(array))")
    if value.shape != tensor.shape:
        raise RuntimeError(f"attempting to assign a gradient of shape {value.shape} to a tensor "
                           f"of shape {tensor.shape}")
    if value.dtype != tensor.dtype:
        raise RuntimeError(f"attempting to assign a gradient of dtype {value.dtype} to a tensor "
                           f"of dtype {tensor.dtype}")
    if value.device != tensor.device:
        raise RuntimeError(f"attempting to assign a gradient on {value.device} to a tensor on "
                           f"{tensor.device}")


def _as_array(data, dtype, device, copy=False):
    """Any array-like -> an array on ``device`` (Python floats become float32).

    Host data (a NumPy array, a list, a number) goes to the default device when ``device`` is
    None, as ``torch.tensor`` does; an array already on a device stays there. ``copy``: never
    the array that was given.
    """
    if isinstance(data, Tensor):
        data = data.data
    given = data
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
    if copy and data is given:
        data = data.copy()
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
