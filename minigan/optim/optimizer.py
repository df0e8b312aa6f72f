"""``Optimizer``: the base class of SGD, Adam and AdamW, which update parameters in place.

As in PyTorch, the parameters come in ``param_groups``: a list of dicts, each with its
``"params"`` and its own options (``lr``, ``momentum`` ...; ``defaults`` fill what a group does
not give). ``opt.param_groups[0]["lr"] = 0.01`` changes a group's learning rate, which is what
``lr_scheduler`` does. Per-parameter state (momentum buffers, Adam's moments and step) lives
in arrays on the parameters' device and is saved and restored as a flat ``{name: array}``
dict (``state_dict`` / ``load_state_dict``), so a resumed run continues exactly where it stopped.
"""
from typing import Any, Dict, Iterable

import numpy as np

from minigan.autograd import no_grad, zero_grads
from minigan.autograd.hints import Array
from minigan.autograd.tensor import Tensor
from minigan.autograd.torch_names import missing_attribute
from minigan.backend import get_array_module, to_device, to_numpy


class Optimizer:
    """Base class: ``param_groups``, per-parameter ``state``, ``step()``, saveable state.

    A subclass names its options and state arrays (``options``, ``buffers``) and writes
    ``update(group, state, p, g) -> new p`` on arrays.
    """

    options = ()   # the per-group options, saved with the state in this order
    buffers = ()   # the names of the per-parameter state arrays
    def __init__(self, params: Iterable, defaults: Dict[str, Any]):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}         # parameter -> {name: array, "step": int}
        self.step_count = 0     # calls of step(), saved as "step"
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for group in params if isinstance(params[0], dict) else [{"params": params}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Add a group: ``{"params": [tensors], option: value ...}``; options it lacks come
        from ``defaults``."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"{type(self).__name__}: a parameter group is a dict with 'params', "
                            f"got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(group["params"]):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: parameter {i} of group "
                                f"{len(self.param_groups)} is a {type(p).__name__}, not a Tensor")
            if id(p) in taken:
                raise ValueError("some parameters appear in more than one parameter group")
        unknown = sorted(set(group) - {"params", *self.defaults})
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown option(s) {unknown} in a "
                             f"parameter group; it takes {sorted(self.defaults)}")
        for name, value in self.defaults.items():
            group.setdefault(name, value)
        self._check_options(group)
        self.param_groups.append(group)

    def _check_options(self, group):
        for name, value in group.items():
            if name != "params" and not isinstance(value, (bool, tuple)) and value < 0:
                raise ValueError(f"{type(self).__name__}: {name} must be >= 0, got {value}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient: None, or zeros in place (``set_to_none=False``)."""
        zero_grads(self._parameters(), set_to_none)

    def step(self) -> None:
        """One update of every parameter that has a gradient, written into it in place."""
        self.step_count += 1
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state.setdefault(p, {})
                    state["step"] = state.get("step", 0) + 1
                    p.copy_(Tensor.wrap(self.update(group, state, p.data, p.grad.data)))

    def update(self, group: Dict[str, Any], state: Dict[str, Any], p: Array, g: Array) -> Array:
        raise NotImplementedError

    @staticmethod
    def _buffer(state, name, like):
        """``state[name]``, zeros like ``like`` the first time."""
        if name not in state:
            state[name] = get_array_module(like).zeros_like(like)
        return state[name]

    def _parameters(self):
        return [p for group in self.param_groups for p in group["params"]]

    def __getattr__(self, name):
        raise missing_attribute("Optimizer", f"'{type(self).__name__}' object", name,
                                dir(type(self)) + list(self.__dict__))

    # -- state ------------------------------------------------------------------------------
    def _saved_options(self, group):
        """The options of ``group`` under their saved names (a subclass may rename them)."""
        return {name: group[name] for name in self.options}

    def _restored_options(self, values):
        """The inverse of ``_saved_options``: group options from saved values."""
        return values

    def _option_keys(self):
        """(group index, option name, key): group 0's option under its name, group g's
        under ``group<g>.<name>``."""
        return [(g, name, name if g == 0 else f"group{g}.{name}")
                for g, group in enumerate(self.param_groups) for name in self._saved_options(group)]

    def state_dict(self) -> Dict[str, np.ndarray]:
        """``{"step": n, "<option>": value, "group<g>.<option>": value, "<buffer>.<i>": array,
        "step.<i>": m}`` as NumPy arrays; i counts the parameters over all groups, and
        ``step.<i>`` appears only where parameter i's own step count differs from n."""
        state = {"step": np.asarray(self.step_count)}
        for g, name, key in self._option_keys():
            state[key] = np.asarray(self._saved_options(self.param_groups[g])[name])
        params = self._parameters()
        for name in self.buffers:
            for i, p in enumerate(params):
                if name in self.state.get(p, {}):
                    state[f"{name}.{i}"] = to_numpy(self.state[p][name]).copy()
        for i, p in enumerate(params):
            step = self.state.get(p, {}).get("step", 0)
            if step != self.step_count:
                state[f"step.{i}"] = np.asarray(step)
        return state

    def load_state_dict(self, state: Dict[str, np.ndarray]) -> None:
        """Restore what ``state_dict`` returned; raises KeyError/ValueError on a mismatch."""
        params = self._parameters()
        expected = {"step", *(key for _, _, key in self._option_keys())}
        per_parameter = {f"{name}.{i}" for name in (*self.buffers, "step")
                         for i in range(len(params))}
        missing = sorted(expected - set(state))
        unexpected = sorted(set(state) - expected - per_parameter)
        if missing or unexpected:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        for name in self.buffers:
            for i, p in enumerate(params):
                key = f"{name}.{i}"
                if key in state and tuple(state[key].shape) != p.shape:
                    raise ValueError(f"{type(self).__name__}.load_state_dict: '{key}' has shape "
                                     f"{tuple(state[key].shape)}, parameter {i} has {p.shape}")
        self.step_count = int(state["step"])
        for g, group in enumerate(self.param_groups):
            saved = self._saved_options(group)
            values = {name: type(value)(state[name if g == 0 else f"group{g}.{name}"])
                      for name, value in saved.items()}
            group.update(self._restored_options(values))
        self.state = {}
        for i, p in enumerate(params):
            own = {name: to_device(np.asarray(state[f"{name}.{i}"], dtype=p.dtype), p.device)
                   for name in self.buffers if f"{name}.{i}" in state}
            own["step"] = int(state.get(f"step.{i}", self.step_count))
            if own["step"]:
                self.state[p] = own
