"""Adam (Kingma & Ba, 2015)."""
from minigan.backend import get_array_module
from minigan.optim.optimizer import Optimizer


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
        """Parameter ``i`` after one step: p (an array) and its gradient g (p's shape) -> the
        new p by the class docstring's formula (g + weight_decay * p in place of g), an array of
        p's dtype; t = ``self.step_count`` (1 at the first step). m and v are
        ``self._buffer("exp_avg", i, p)`` and ``self._buffer("exp_avg_sq", i, p)``: zeros at
        first, updated in place."""
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
