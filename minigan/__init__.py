"""minigan: SimGAN (Shrivastava et al., CVPR 2017) from scratch, on NumPy or CuPy.

    from minigan import Tensor, nn, optim, functional as F

The library is the packages of this folder (the README's table "What is where" gives their
layers, and ``tests/test_import_layers.py`` holds them); every top-level module
(``train_eyes``, ``refine``, ...) is a program, and ``python -m minigan`` lists them.
"""
from minigan import backend
from minigan import functional
from minigan import functional as F  # noqa: F401
from minigan import nn, optim
from minigan.autograd import Function, Tensor, gradcheck, no_grad
from minigan.backend import get_default_device, set_default_device
from minigan.functional.generator import manual_seed

__version__ = "0.1.0"
__all__ = ["Tensor", "Function", "no_grad", "functional", "F", "nn", "optim", "gradcheck",
           "manual_seed", "backend", "get_default_device", "set_default_device"]
