"""minigan: SimGAN (Shrivastava et al., CVPR 2017) from scratch, on NumPy or CuPy.

    from minigan import Tensor, nn, optim, functional as F
"""
from . import backend
from .autograd import Function, Tensor, no_grad
from . import functional
from . import functional as F  # noqa: F401
from .backend import get_default_device, set_default_device
from .gradcheck import gradcheck
from .rng import manual_seed
from . import nn, optim  # noqa: E402

__version__ = "0.1.0"
__all__ = ["Tensor", "Function", "no_grad", "functional", "F", "nn", "optim", "gradcheck",
           "manual_seed", "backend", "get_default_device", "set_default_device"]
