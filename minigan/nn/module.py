"""``Module``: the base class of every layer, and ``Parameter``, the tensors a module owns.

A ``Module`` registers every ``Parameter`` and sub-``Module`` assigned as an attribute, and the
buffers given to ``register_buffer`` (tensors that are state but not trained, such as batch
norm's running statistics), so ``parameters()``, ``state_dict()`` and ``to(device)`` find them
by name ("blocks.0.conv1.weight").

A plain list, tuple or dict of modules assigned as an attribute is an error: PyTorch accepts it
and silently leaves those modules out of ``parameters()``, ``state_dict()`` and ``to()``, the
classic bug of a model whose layers never train. ``nn.ModuleList`` registers them.
"""
from collections import namedtuple

from minigan.autograd.tensor import Tensor
from minigan.backend import resolve_device, to_device, to_numpy
from minigan.io.npz import load_npz, save_npz

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Parameter(Tensor):
    """A Tensor that a Module owns and an optimizer updates (requires_grad=True)."""

    def __init__(self, data, dtype=None, device=None):
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
        """``self.name = value``, registering what the module owns for the traversals below:

        * ``name`` is a buffer: replace it (a Tensor or None; anything else is a TypeError
          "<Class>.<name> is a buffer: assign a Tensor or None, not <type>");
        * a list, tuple or dict holding a Module or Parameter: TypeError "<Class>.<name>: a
          plain <type> of modules would not be registered ... use nn.ModuleList or
          nn.Sequential";
        * anything else: drop ``name`` from ``_parameters`` and ``_modules``, then enter it in
          ``_parameters`` if it is a Parameter, in ``_modules`` if it is a Module (so a plain
          value assigned over a parameter unregisters it);

        then set the attribute itself with ``object.__setattr__``. Before ``Module.__init__``
        ran (no ``_parameters`` in ``self.__dict__``): RuntimeError "<Class>.__init__ must call
        super().__init__() before assigning attributes".
        """
        if "_parameters" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}.__init__ must call super().__init__() "
                               "before assigning attributes")
        if name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"{type(self).__name__}.{name} is a buffer: assign a Tensor or "
                                f"None, not {type(value).__name__}")
            self._buffers[name] = value
        elif _holds_modules(value):
            raise TypeError(f"{type(self).__name__}.{name}: a plain {type(value).__name__} of "
                            "modules would not be registered (no parameters, state_dict or "
                            "to(device) for them); use nn.ModuleList or nn.Sequential")
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
            if isinstance(value, Parameter):
                self._parameters[name] = value
            elif isinstance(value, Module):
                self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name, tensor):
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

    def forward(self, *args):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # -- traversal --------------------------------------------------------------------------
    def named_parameters(self, prefix=""):
        """``(prefix + name, parameter)`` pairs: this module's parameters in the order they
        were assigned, then those of each sub-module in turn, named by its attribute and a dot
        ("0.weight", "blocks.1.conv.bias")."""
        for name, p in self._parameters.items():
            yield prefix + name, p
        for name, m in self._modules.items():
            yield from m.named_parameters(prefix + name + ".")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for name, b in self._buffers.items():
            if b is not None:
                yield prefix + name, b
        for name, m in self._modules.items():
            yield from m.named_buffers(prefix + name + ".")

    def buffers(self):
        return [b for _, b in self.named_buffers()]

    def modules(self):
        yield self
        for m in self._modules.values():
            yield from m.modules()

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        return self.train(False)

    def to(self, device):
        """Move every parameter and buffer to ``device`` in place; returns self."""
        device = resolve_device(device)
        for t in self.parameters() + self.buffers():
            if t.device != device:  # moving replaces .data: only when it really moves
                t.data = to_device(t.data, device)
            if t.grad is not None:
                t.grad = to_device(t.grad, device)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    @property
    def device(self):
        tensors = self.parameters() or self.buffers()
        return tensors[0].device if tensors else "cpu"

    # -- state ------------------------------------------------------------------------------
    def _named_state(self, prefix=""):
        """Parameters, then buffers, of this module, then of each sub-module (PyTorch's order)."""
        yield from ((prefix + n, p) for n, p in self._parameters.items())
        yield from ((prefix + n, b) for n, b in self._buffers.items() if b is not None)
        for name, m in self._modules.items():
            yield from m._named_state(prefix + name + ".")

    def state_dict(self):
        """``{name: NumPy array}``: a copy of every parameter and buffer, named and ordered as
        ``_named_state`` gives them (a later change to the module does not change it)."""
        return {name: t.numpy().copy() for name, t in self._named_state()}

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays into the parameters and buffers, as PyTorch does.

        ``state_dict`` maps names (those of ``_named_state``) to arrays or Tensors. Every shape
        must fit and, with ``strict``, every name must match; otherwise nothing is loaded and
        one RuntimeError "Error(s) in loading state_dict for <Class>:" lists, a line each,
        "Unexpected key(s) in state_dict: 'a', 'b'", "Missing key(s) in state_dict: 'c'" (these
        two only with ``strict``) and "size mismatch for <name>: shape <s> in the state dict,
        <t> in the model". Without ``strict`` the names that match are loaded. Each value is
        cast to its tensor's dtype and moved to its device; assigning ``.data`` counts up the
        tensor's version. Returns ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        own = dict(self._named_state())
        missing = [name for name in own if name not in state_dict]
        unexpected = [name for name in state_dict if name not in own]
        errors = []
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        arrays = {}
        for name, t in own.items():
            if name in state_dict:
                value = state_dict[name]
                arrays[name] = to_numpy(value.data if isinstance(value, Tensor) else value)
                if arrays[name].shape != t.shape:
                    errors.append(f"size mismatch for {name}: shape {arrays[name].shape} in the "
                                  f"state dict, {t.shape} in the model")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n    "
                               + "\n    ".join(errors))
        for name, array in arrays.items():
            own[name].data = to_device(array.astype(own[name].dtype), own[name].device)
        return IncompatibleKeys(missing, unexpected)

    def save(self, path):
        """Write the state dict to ``path`` (.npz, atomically)."""
        save_npz(path, self.state_dict())

    def load(self, path):
        """Read a state dict written by ``save``; see ``load_state_dict`` for the checks."""
        self.load_state_dict(load_npz(path))
        return self

    def __repr__(self):
        lines = [f"  ({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        return f"{type(self).__name__}({extra}\n" + "\n".join(lines) + "\n)"

    def extra_repr(self):
        return ""
