"""Gradient clipping, as ``torch.nn.utils``: applied between ``backward()`` and ``step()``.

    clip_grad_norm_:   n = (sum over every gradient element of |g|^p)^(1/p)   (p = inf: max |g|)
                       each g <- g * min(1, max_norm / (n + 1e-6))
    clip_grad_value_:  each g <- clamp(g, -clip_value, clip_value)
"""
import math
from typing import Iterable, Union

from minigan.autograd import Tensor, no_grad
from minigan.backend import get_array_module


def _gradients(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Union[Tensor, Iterable[Tensor]], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """Scale the gradients in place so that their joint norm is at most ``max_norm``;
    returns the norm before clipping (a 0-d Tensor)."""
    grads = _gradients(parameters)
    if not grads:
        return Tensor(0.0)
    xp = get_array_module(grads[0].data)
    p = float(norm_type)
    if p == math.inf:
        total = max(xp.abs(g.data).max() for g in grads)
    else:
        total = sum((xp.abs(g.data) ** p).sum() for g in grads) ** (1.0 / p)
    total = xp.asarray(total, dtype=grads[0].dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(f"the total norm of order {norm_type} of the gradients is not "
                           "finite, so it cannot be clipped (error_if_nonfinite=True)")
    scale = xp.minimum(max_norm / (total + 1e-6), 1.0).astype(total.dtype)
    with no_grad():
        for g in grads:
            g.mul_(Tensor.wrap(scale))
    return Tensor.wrap(total)


def clip_grad_value_(parameters: Union[Tensor, Iterable[Tensor]], clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    with no_grad():
        for g in _gradients(parameters):
            g.clamp_(-clip_value, clip_value)
