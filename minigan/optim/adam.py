"""Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019)."""
from typing import Any, Dict, Iterable, Tuple

from minigan.backend import get_array_module
from minigan.autograd.hints import Array
from minigan.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam, as in PyTorch (each option per parameter group; t counts this parameter's steps):

        g = grad + weight_decay * p
        m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2
        p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    options = ("lr", "beta1", "beta2", "eps", "weight_decay")
    buffers = ("exp_avg", "exp_avg_sq")
    decoupled_weight_decay = False

    def __init__(self, params: Iterable, lr: float = 0.001,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay))

    def _check_options(self, group):
        super()._check_options(group)
        betas = group["betas"]
        if len(betas) != 2 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1), "
                             f"got {betas}")

    def _saved_options(self, group):
        options = {name: group[name] for name in ("lr", "eps", "weight_decay")}
        options["beta1"], options["beta2"] = (float(b) for b in group["betas"])
        return {name: options[name] for name in self.options}

    def _restored_options(self, values):
        values = dict(values)
        values["betas"] = (values.pop("beta1"), values.pop("beta2"))
        return values

    def update(self, group: Dict[str, Any], state: Dict[str, Any], p: Array, g: Array) -> Array:
        """One step of a parameter: p (an array) and its gradient g (p's shape) -> the new p by
        the class docstring's formula, an array of p's dtype. ``group`` holds the options
        (``group["lr"]``, ``group["betas"]`` ...); t = ``state["step"]`` (1 at the first
        step); m and v are ``self._buffer(state, "exp_avg", p)`` and
        ``self._buffer(state, "exp_avg_sq", p)``: zeros at first, updated in place."""
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        if weight_decay and self.decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * p
        m = self._buffer(state, "exp_avg", p)
        v = self._buffer(state, "exp_avg_sq", p)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        t = state["step"]
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        xp = get_array_module(p)
        return p - (lr * m_hat / (xp.sqrt(v_hat) + group["eps"])).astype(p.dtype, copy=False)


class AdamW(Adam):
    """Adam with decoupled weight decay, as in PyTorch: first p *= 1 - lr * weight_decay, then
    Adam's step with g = grad (the decay does not pass through m and v)."""

    decoupled_weight_decay = True

    def __init__(self, params: Iterable, lr: float = 0.001,
                 betas: Tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)
