"""Dropout (Srivastava et al., 2014), as ``torch.nn.functional.dropout``.

While training, each element of x is kept with probability 1 - p and scaled up so that the
expected value is unchanged; in eval mode x passes unchanged:

    y = x * keep / (1 - p),   keep ~ Bernoulli(1 - p) per element   (p = 1: y = 0)
    gx = gy * keep / (1 - p)

The mask is drawn on the host from the seeded generator (``minigan.manual_seed``), so a run
draws the same masks on every device.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from minigan.autograd import Function, Tensor, as_tensor
from minigan.autograd.hints import TensorLike
from minigan.backend import to_device
from minigan.functional.generator import get_rng
from minigan.functional.inplace import in_place


class Dropout(Function):
    """y = x * scale, with scale = keep / (1 - p) drawn before the call;  gx = gy * scale."""
    def __init__(self, scale):
        self.scale = scale

    def forward(self, x):
        return x * self.scale.astype(x.dtype, copy=False)

    def backward(self, gy):
        return gy * self.scale.astype(gy.dtype, copy=False)


def dropout(input: TensorLike, p: float = 0.5, training: bool = True, inplace: bool = False,
            rng: Optional[np.random.Generator] = None) -> Tensor:  # noqa: A002 - PyTorch's name
    """``input`` with each element zeroed with probability p (training), else ``input``."""
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    x = as_tensor(input)
    if not training or p == 0:
        return x
    keep = get_rng(rng).random(x.shape) >= p
    scale = to_device((keep / (1 - p) if p < 1 else keep * 0.0).astype(x.dtype), x.device)
    if inplace:
        return in_place(x, lambda t: Dropout(scale)(t))
    return Dropout(scale)(x)
