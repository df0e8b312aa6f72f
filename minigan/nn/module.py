"""``Module``: the base class of every layer, and ``Parameter``, the tensors a module owns.

A ``Module`` registers every ``Parameter`` and sub-``Module`` assigned as an attribute, and the
buffers given to ``register_buffer`` (tensors that are state but not trained, such as batch
norm's running statistics), so ``parameters()``, ``state_dict()`` and ``to(device)`` find them
by name ("blocks.0.conv1.weight").

A plain list, tuple or dict of modules assigned as an attribute is an error: PyTorch accepts it
and silently leaves those modules out of ``parameters()``, ``state_dict()`` and ``to()``, the
classic bug of a model whose layers never train. ``nn.ModuleList`` registers them.
"""
import os
from collections import namedtuple
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

from minigan.autograd.hints import DType
from minigan.autograd.tensor import Tensor, zero_grads
from minigan.autograd.torch_names import missing_attribute
from minigan.backend import device_of, resolve_device, to_device, to_numpy
from minigan.io.npz import load_npz, save_npz

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates (requires_grad=True)."""

    def __init__(self, data: Any, dtype: DType = None, device: Optional[str] = None):
        super().__init__(data, requires_grad=True, dtype=dtype, device=device)


def _holds_modules(value):
    items = value.values() if isinstance(value, dict) else value
    return isinstance(value, (list, tuple, dict)) and any(
        isinstance(item, (Module, Parameter)) for item in items)


class Module:
    """Base class: subclasses set parameters/sub-modules in ``__init__`` and define ``forward``."""

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        """``self.name = value``, registering what the module owns for the traversals below.

        First ``self._check_assignment(name, value)`` (it refuses what cannot be assigned).
        Then: ``name`` is a buffer: replace it in ``_buffers``; otherwise drop ``name`` from
        ``_parameters`` and ``_modules``, then enter it in ``_parameters`` if it is a
        Parameter, in ``_modules`` if it is a Module (so a plain value assigned over a
        parameter unregisters it). Last, set the attribute itself with ``object.__setattr__``.
        """
        self._check_assignment(name, value)
        if name in self._buffers:
            self._buffers[name] = value
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
            if isinstance(value, Parameter):
                self._parameters[name] = value
            elif isinstance(value, Module):
                self._modules[name] = value
        object.__setattr__(self, name, value)

    def _check_assignment(self, name, value):
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               "before assigning attributes")
        if name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign a Tensor or "
                                f"None, not {type(value).__name__}")
        elif _holds_modules(value):
            raise TypeError(f"{type(self).__name__}.{name}: a plain {type(value).__name__} of "
                            "modules would not be registered (no parameters, state_dict or "
                            "to(device) for them); use nn.ModuleList or nn.Sequential")

    def register_buffer(self, name: str, tensor: Optional[Tensor]) -> None:
        """Register ``tensor`` (or None) as state that is saved and moved but not trained."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: '{name}' must be a Tensor or None, "
                            f"got {type(tensor).__name__}")
        if name in self.__dict__ and name not in self._buffers:
            raise KeyError(f"register_buffer: attribute '{name}' already exists")
        self._buffers[name] = tensor
        object.__setattr__(self, name, tensor)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # -- traversal --------------------------------------------------------------------------
    def named_parameters(self, prefix: str = "") -> Iterator[Tuple[str, "Parameter"]]:
        """``(prefix + name, parameter)`` pairs: this module's parameters in the order they
        were assigned, then those of each sub-module in turn, named by its attribute and a dot
        ("0.weight", "blocks.1.conv.bias")."""
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, m in self._modules.items():
            yield from m.named_parameters(prefix + name + ".")

    def parameters(self) -> List["Parameter"]:
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix: str = "") -> Iterator[Tuple[str, Tensor]]:
        for name, b in self._buffers.items():
            if b is not None:
                yield prefix + name, b
        for name, m in self._modules.items():
            yield from m.named_buffers(prefix + name + ".")

    def buffers(self) -> List[Tensor]:
        return [b for _, b in self.named_buffers()]

    def named_modules(self, prefix: str = "") -> Iterator[Tuple[str, "Module"]]:
        """``(name, module)`` for this module ("" or ``prefix``) and every one below it."""
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(prefix + ("." if prefix else "") + name)

    def modules(self) -> Iterator["Module"]:
        return (m for _, m in self.named_modules())

    def named_children(self) -> Iterator[Tuple[str, "Module"]]:
        return iter(self._modules.items())

    def children(self) -> Iterator["Module"]:
        return iter(self._modules.values())

    def apply(self, fn: Callable[["Module"], None]) -> "Module":
        """``fn(m)`` for every sub-module, the deepest first, then for this module; returns
        self (``model.apply(init_weights)``)."""
        for m in self._modules.values():
            m.apply(fn)
        fn(self)
        return self

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: None, or zeros in place (``set_to_none=False``)."""
        zero_grads(self.parameters(), set_to_none)

    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def to(self, device: str) -> "Module":
        """Move every parameter and buffer (and gradient) to ``device`` in place; returns self."""
        device = resolve_device(device)
        return self._convert(lambda array: to_device(array, device) if device_of(array) != device
                             else array)

    def double(self) -> "Module":
        """Every floating parameter and buffer (and gradient) as float64, in place."""
        return self._convert(lambda array: _floating_as(array, np.float64))

    def float(self) -> "Module":
        """Every floating parameter and buffer (and gradient) as float32, in place."""
        return self._convert(lambda array: _floating_as(array, np.float32))

    def _convert(self, convert):
        for t in self.parameters() + self.buffers():
            grad, t.grad = t.grad, None
            array = convert(t.data)
            if array is not t.data:  # replacing .data counts up the version: only on a change
                t.data = array
            if grad is not None:
                moved = convert(grad.data)
                t.grad = grad if moved is grad.data else Tensor.wrap(moved)
        return self

    def cpu(self) -> "Module":
        return self.to("cpu")

    def cuda(self) -> "Module":
        return self.to("cuda")

    @property
    def device(self) -> str:
        tensors = self.parameters() or self.buffers()
        return tensors[0].device if tensors else "cpu"

    # -- state ------------------------------------------------------------------------------
    def _named_state(self, prefix=""):
        """Parameters, then buffers, of this module, then of each sub-module (PyTorch's order)."""
        yield from ((prefix + n, p) for n, p in self._parameters.items())
        yield from ((prefix + n, b) for n, b in self._buffers.items() if b is not None)
        for name, m in self._modules.items():
            yield from m._named_state(prefix + name + ".")

    def state_dict(self) -> Dict[str, np.ndarray]:
        """``{name: NumPy array}``: a copy of every parameter and buffer, named and ordered as
        ``_named_state`` gives them (a later change to the module does not change it)."""
        return {name: to_numpy(t.data).copy() for name, t in self._named_state()}

    def load_state_dict(self, state_dict: Dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters and buffers, as PyTorch does.

        ``state_dict`` maps names (those of ``_named_state``) to arrays or Tensors.
        ``_check_state_dict(self, own, arrays, state_dict, strict)`` raises when a shape does
        not fit or, with ``strict``, a name is missing or unexpected; then nothing is loaded.
        Without ``strict`` the names that match are loaded. Each value is cast to its tensor's
        dtype and moved to its device by assigning ``.data`` (which counts up its version).
        Returns ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        own = dict(self._named_state())
        arrays = {name: to_numpy(value.data if isinstance(value, Tensor) else value)
                  for name, value in state_dict.items() if name in own}
        missing, unexpected = _check_state_dict(self, own, arrays, state_dict, strict)
        for name, array in arrays.items():
            own[name].data = to_device(array.astype(own[name].dtype), own[name].device)
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write the state dict to ``path`` (.npz, atomically)."""
        save_npz(path, self.state_dict())

    def load(self, path: Union[str, os.PathLike]) -> "Module":
        """Read a state dict written by ``save``; see ``load_state_dict`` for the checks."""
        self.load_state_dict(load_npz(path))
        return self

    def __repr__(self):
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ")
                 for name, m in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}({extra}\n" + "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""

    def __getattr__(self, name):
        raise missing_attribute("Module", f"'{type(self).__name__}' object", name,
                                dir(type(self)) + list(self.__dict__))


def _check_state_dict(module, own, arrays, state_dict, strict):
    """(missing, unexpected) names; one RuntimeError listing every mismatch, as PyTorch's."""
    missing = [name for name in own if name not in state_dict]
    unexpected = [name for name in state_dict if name not in own]
    errors = []
    if strict and unexpected:
        errors.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
    if strict and missing:
        errors.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
    errors += [f"size mismatch for {name}: shape {array.shape} in the state dict, "
               f"{own[name].shape} in the model"
               for name, array in arrays.items() if array.shape != own[name].shape]
    if errors:
        raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n    "
                           + "\n    ".join(errors))
    return missing, unexpected


def _floating_as(array, dtype):
    return array.astype(dtype) if array.dtype.kind == "f" and array.dtype != dtype else array
