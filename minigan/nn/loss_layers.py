"""Losses as modules, as ``torch.nn``: ``nn.MSELoss()(prediction, target)`` calls the function
of ``minigan.functional`` with the module's ``reduction``."""
from typing import Optional

from minigan import functional as F
from minigan.autograd import Tensor
from minigan.autograd.hints import TensorLike
from minigan.functional.loss import REDUCTIONS
from minigan.nn.module import Module


class _Loss(Module):
    def __init__(self, *, reduction: str = "mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be one of {REDUCTIONS}, "
                             f"got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """mean (or sum) of (prediction - target)^2."""
    def forward(self, prediction: Tensor, target: TensorLike) -> Tensor:
        return F.mse_loss(prediction, target, self.reduction)


class L1Loss(_Loss):
    """mean (or sum) of |prediction - target|."""
    def forward(self, prediction: Tensor, target: TensorLike) -> Tensor:
        return F.l1_loss(prediction, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of (N, C) logits against (N,) integer labels."""
    def forward(self, logits: Tensor, labels: TensorLike) -> Tensor:
        return F.cross_entropy(logits, labels, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1], from the logits."""
    def __init__(self, weight: Optional[TensorLike] = None, *, reduction: str = "mean",
                 pos_weight: Optional[TensorLike] = None):
        super().__init__(reduction=reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, logits: Tensor, target: TensorLike) -> Tensor:
        return F.binary_cross_entropy_with_logits(logits, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)
