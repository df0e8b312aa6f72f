"""Optimizers, in the shape of PyTorch's ``torch.optim``: SGD, Adam and AdamW with parameter
groups and saveable state, and ``lr_scheduler`` (StepLR, CosineAnnealingLR)."""
from minigan.autograd.torch_names import missing_attribute
from minigan.optim import lr_scheduler
from minigan.optim.adam import Adam, AdamW
from minigan.optim.optimizer import Optimizer
from minigan.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]


def __getattr__(name):
    raise missing_attribute("minigan.optim", "module 'minigan.optim'", name, __all__)
