"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""
from typing import Any, Dict, Iterable

from minigan.autograd.hints import Array
from minigan.optim.optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, as in PyTorch (each option per parameter group):

        g = grad + weight_decay * p
        buf = momentum * buf + g          (buf = g on the first step)
        p  -= lr * (g + momentum * buf if nesterov else buf)       (momentum > 0)
        p  -= lr * g                                                (momentum = 0)
    """

    options = ("lr", "momentum", "weight_decay", "nesterov")
    buffers = ("momentum_buffer",)

    def __init__(self, params: Iterable, lr: float = 0.001, momentum: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay,
                                      nesterov=bool(nesterov)))

    def _check_options(self, group):
        super()._check_options(group)
        if group["nesterov"] and group["momentum"] <= 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")

    def update(self, group: Dict[str, Any], state: Dict[str, Any], p: Array, g: Array) -> Array:
        """One step of a parameter: p (an array) and its gradient g (p's shape) -> the new p by
        the class docstring's formula, an array of p's dtype. ``group`` holds the options
        (``group["lr"]`` ...); the momentum buffer is ``state["momentum_buffer"]`` (absent
        until the first step sets it)."""
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum:
            buf = state.get("momentum_buffer")
            buf = g.copy() if buf is None else momentum * buf + g
            state["momentum_buffer"] = buf
            g = g + momentum * buf if group["nesterov"] else buf
        return p - (group["lr"] * g).astype(p.dtype, copy=False)
