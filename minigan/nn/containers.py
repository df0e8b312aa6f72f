"""Modules that hold other modules: ``Sequential`` (applies them in order) and ``ModuleList``
(a list whose modules are registered, so their parameters train and their state is saved)."""
from typing import Any, Iterable

from minigan.autograd import Tensor
from minigan.nn.module import Module


class ModuleList(Module):
    """A list of modules named "0", "1", ... in the state dict; it has no ``forward``."""

    def __init__(self, modules: Iterable[Module] = ()):
        super().__init__()
        self.extend(modules)

    def append(self, module: Module) -> "ModuleList":
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}: element {len(self)} is a "
                            f"{type(module).__name__}, not a Module")
        setattr(self, str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        for module in modules:
            self.append(module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return ModuleList(modules[index])
        return modules[index]

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError("ModuleList has no forward(): call its modules in the "
                                  "forward() of the module that holds it")


class Sequential(ModuleList):
    """Applies its modules in order; they are named "0", "1", ... in the state dict."""

    def __init__(self, *modules: Module):
        super().__init__(modules)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*list(self._modules.values())[index])
        return super().__getitem__(index)

    def forward(self, x: Tensor) -> Tensor:
        for module in self._modules.values():
            x = module(x)
        return x
