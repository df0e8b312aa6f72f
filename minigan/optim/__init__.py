"""Optimizers, in the shape of PyTorch's ``torch.optim``: SGD and Adam, with saveable state."""
from minigan.optim.adam import Adam
from minigan.optim.optimizer import Optimizer
from minigan.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam"]
