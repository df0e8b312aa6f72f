"""Optimizers: SGD (momentum, Nesterov, weight decay) and Adam, updating parameters in place.

Each keeps its per-parameter state in arrays on the parameters' device and can save and restore
it as a flat ``{name: array}`` dict (``state_dict`` / ``load_state_dict``), so a resumed run
continues exactly where it stopped.
"""
import numpy as np

from .backend import get_array_module, to_device, to_numpy


class Optimizer:
    """Base class: holds the parameter list, hyperparameters and per-parameter state buffers."""

    hyperparameters = ()  # names saved with the state, in order
    buffers = ()          # names of per-parameter state arrays

    def __init__(self, params, **hyper):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
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


class SGD(Optimizer):
    """Stochastic gradient descent, as in PyTorch:

        g = grad + weight_decay * p
        buf = momentum * buf + g          (buf = g on the first step)
        p  -= lr * (g + momentum * buf if nesterov else buf)       (momentum > 0)
        p  -= lr * g                                                (momentum = 0)
    """

    hyperparameters = ("lr", "momentum", "weight_decay", "nesterov")
    buffers = ("momentum_buffer",)

    def __init__(self, params, lr=0.001, momentum=0.0, weight_decay=0.0, nesterov=False):
        if nesterov and momentum <= 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        super().__init__(params, lr=lr, momentum=momentum, weight_decay=weight_decay,
                         nesterov=bool(nesterov))

    def update(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buf = self.state["momentum_buffer"][i]
            buf = g.copy() if buf is None else self.momentum * buf + g
            self.state["momentum_buffer"][i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        return p - (self.lr * g).astype(p.dtype, copy=False)


class Adam(Optimizer):
    """Adam (Kingma & Ba), as in PyTorch:

        m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2
        p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    hyperparameters = ("lr", "beta1", "beta2", "eps", "weight_decay")
    buffers = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"Adam: betas must lie in [0, 1), got {betas}")
        super().__init__(params, lr=lr, beta1=betas[0], beta2=betas[1], eps=eps,
                         weight_decay=weight_decay)

    def update(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p
        m = self._buffer("exp_avg", i, p)
        v = self._buffer("exp_avg_sq", i, p)
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        t = self.step_count
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v / (1 - self.beta2 ** t)
        xp = get_array_module(p)
        return p - (self.lr * m_hat / (xp.sqrt(v_hat) + self.eps)).astype(p.dtype, copy=False)
