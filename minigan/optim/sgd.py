"""Stochastic gradient descent with momentum, Nesterov momentum and weight decay."""
from minigan.optim.optimizer import Optimizer


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
        """Parameter ``i`` after one step: p (an array) and its gradient g (p's shape) -> the
        new p by the class docstring's formula, an array of p's dtype. Parameter i's momentum
        buffer is ``self.state["momentum_buffer"][i]`` (None until the first step sets it)."""
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buf = self.state["momentum_buffer"][i]
            buf = g.copy() if buf is None else self.momentum * buf + g
            self.state["momentum_buffer"][i] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        return p - (self.lr * g).astype(p.dtype, copy=False)
