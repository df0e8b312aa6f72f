"""A running average of a network's parameters (Polyak averaging, as in Salimans et al. 2016).

The paper (section 2.3) names this the complement of its history buffer: the buffer steadies
the discriminator, the average steadies the refiner we keep. Adversarial training circles
around its equilibrium; on the built-in eyes R swings every ~25 iterations between a near copy
of its input and an over-darkened, washed-out one, so the weights of any single step are a
lottery. After every refiner step

    average = decay * average + (1 - decay) * weights

so with decay 0.99 the average spans ~100 steps. It only changes what is saved and shown; R
itself trains exactly as in the paper.
"""
import copy

from minigan.autograd import no_grad


class ParameterAverage:
    """Holds ``module``-shaped averaged parameters: ``.module`` is a copy of the network."""

    def __init__(self, module, decay):
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"ParameterAverage: decay must lie in [0, 1), got {decay!r}")
        self.decay = float(decay)
        self.module = copy.deepcopy(module).eval()
        for p in self.module.parameters():
            p.requires_grad = False

    def update(self, module, decay=None):
        """average <- decay * average + (1 - decay) * module's parameters (decay 0: a copy)."""
        decay = self.decay if decay is None else decay
        with no_grad():
            for mine, theirs in zip(self.module.parameters(), module.parameters()):
                mine.data = theirs.data.copy() if decay == 0 else (
                    decay * mine.data + (1.0 - decay) * theirs.data).astype(mine.dtype)

    def state_dict(self):
        return self.module.state_dict()

    def load_state_dict(self, state):
        self.module.load_state_dict(state)
