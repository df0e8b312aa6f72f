"""``Optimizer``: the base class of SGD and Adam, which update parameters in place.

Each keeps its per-parameter state in arrays on the parameters' device and can save and restore
it as a flat ``{name: array}`` dict (``state_dict`` / ``load_state_dict``), so a resumed run
continues exactly where it stopped.
"""
import numpy as np

from minigan.autograd.tensor import Tensor
from minigan.backend import get_array_module, to_device, to_numpy


class Optimizer:
    """Base class: holds the parameter list, hyperparameters and per-parameter state buffers."""

    hyperparameters = ()  # names saved with the state, in order
    buffers = ()          # names of per-parameter state arrays

    def __init__(self, params, **hyper):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, "
                                "not a Tensor (minigan has no parameter groups: pass "
                                "model.parameters())")
        for name, value in hyper.items():
            if value < 0:
                raise ValueError(f"{type(self).__name__}: {name} must be >= 0, got {value}")
            setattr(self, name, value)
        self.step_count = 0
        self.state = {name: [None] * len(self.params) for name in self.buffers}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        """One update of every parameter that has a gradient."""
        self.step_count += 1
        for i, p in enumerate(self.params):
            if p.grad is not None:
                p.data = self.update(i, p.data, p.grad)

    def update(self, i, param, grad):
        raise NotImplementedError

    def _buffer(self, name, i, like):
        if self.state[name][i] is None:
            self.state[name][i] = get_array_module(like).zeros_like(like)
        return self.state[name][i]

    # -- state ------------------------------------------------------------------------------
    def state_dict(self):
        """``{"step": n, "<hyper>": value, "<buffer>.<i>": array}`` as NumPy arrays."""
        state = {"step": np.asarray(self.step_count)}
        for name in self.hyperparameters:
            state[name] = np.asarray(getattr(self, name))
        for name, arrays in self.state.items():
            for i, array in enumerate(arrays):
                if array is not None:
                    state[f"{name}.{i}"] = to_numpy(array).copy()
        return state

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned; raises KeyError/ValueError on a mismatch."""
        expected = {"step", *self.hyperparameters}
        missing = sorted(expected - set(state))
        allowed = {f"{b}.{i}" for b in self.buffers for i in range(len(self.params))} | expected
        unexpected = sorted(set(state) - allowed)
        if missing or unexpected:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        for name in self.buffers:
            for i, p in enumerate(self.params):
                key = f"{name}.{i}"
                if key in state and tuple(state[key].shape) != p.shape:
                    raise ValueError(f"{type(self).__name__}.load_state_dict: '{key}' has shape "
                                     f"{tuple(state[key].shape)}, parameter {i} has {p.shape}")
        self.step_count = int(state["step"])
        for name in self.hyperparameters:
            setattr(self, name, type(getattr(self, name))(state[name]))
        for name in self.buffers:
            for i, p in enumerate(self.params):
                key = f"{name}.{i}"
                self.state[name][i] = (to_device(np.asarray(state[key], dtype=p.dtype), p.device)
                                       if key in state else None)
