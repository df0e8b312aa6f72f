"""Losses: patch-wise softmax cross-entropy (SimGAN's local adversarial loss), classification
cross-entropy, binary cross-entropy on logits, L1 and mean squared error.

patch_cross_entropy: logits (N, C, H, W), labels (N, H, W) ints in [0, C):

    loss[n,h,w] = logsumexp_c logits[n,:,h,w] - logits[n, labels[n,h,w], h, w]
    reduction 'sum' -> sum of loss, 'mean' -> sum / (N*H*W), 'none' -> loss itself

The loss and its gradient softmax - onehot come out of one fused pass
(``minigan.reference.xent_spec`` on the CPU, ``kernels/patch_xent.cu`` on the GPU).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from minigan.autograd import Function, Tensor, as_tensor
from minigan.autograd.hints import TensorLike
from minigan.backend import get_array_module
from minigan.functional.dispatch import implementation
from minigan.functional import elementwise as E
from minigan.functional import reduce as R

REDUCTIONS = ("sum", "mean", "none")


def _check_reduction(reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")


def patch_labels(labels, logits_shape, xp):
    """Labels as an int32 (N, H, W) array on the logits' device.

    Accepts one int for every patch, an (N,) array (one label per image, as in SimGAN) or a
    full (N, H, W) map. Raises ValueError for a wrong shape, TypeError for a non-integer dtype
    and ValueError for a label outside [0, C) given on the host (an int, a list, a NumPy array).
    Labels already on the GPU are not read back (that would wait for the GPU in every
    training step): there the kernel makes an out-of-range label's loss NaN.
    """
    n, c, h, w = logits_shape
    if isinstance(labels, Tensor):
        labels = labels.data
    host = np.asarray(labels) if get_array_module(labels) is np else None
    labels = xp.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, got dtype {labels.dtype}")
    if labels.ndim == 0:
        labels = xp.broadcast_to(labels, (n, h, w))
    elif labels.shape == (n,):
        labels = xp.broadcast_to(labels[:, None, None], (n, h, w))
    elif labels.shape != (n, h, w):
        raise ValueError(f"labels must be an int, shape ({n},) or ({n}, {h}, {w}) for logits of "
                         f"shape {logits_shape}; got shape {labels.shape}")
    if host is not None and host.size and (int(host.min()) < 0 or int(host.max()) >= c):
        raise ValueError(f"labels must lie in [0, {c}) for {c} classes; got values in "
                         f"[{int(host.min())}, {int(host.max())}]")
    return xp.ascontiguousarray(labels, dtype=xp.int32)


class PatchCrossEntropy(Function):
    """loss = cross-entropy per patch, reduced;  gx = (softmax - onehot) * gy (one fused pass)."""
    def __init__(self, labels, reduction="sum"):
        _check_reduction(reduction)
        self.labels, self.reduction = labels, reduction

    def forward(self, logits):
        if logits.ndim != 4 or logits.dtype.kind != "f":
            raise ValueError(f"patch_cross_entropy: logits must be a floating (N, C, H, W) map, "
                             f"got shape {logits.shape} dtype {logits.dtype}")
        xp = get_array_module(logits)
        labels = patch_labels(self.labels, logits.shape, xp)
        logits = xp.ascontiguousarray(logits)
        loss, self.dlogits = implementation(logits).patch_cross_entropy_forward(logits, labels)
        self.count = loss.size
        if self.reduction == "none":
            return loss
        total = loss.sum()
        return total / self.count if self.reduction == "mean" else total

    def backward(self, gy):
        """gx (N, C, H, W) = (softmax - onehot) (``self.dlogits``, from the forward pass) times
        dL/dloss: for reduction 'none' gy (N, H, W), one value per patch, broadcast over C; for
        'sum' gy; for 'mean' gy / (N*H*W)."""
        if self.reduction == "none":
            return self.dlogits * gy[:, None]
        scale = gy / self.count if self.reduction == "mean" else gy
        return self.dlogits * scale


def patch_cross_entropy(logits: TensorLike, labels: TensorLike, reduction: str = "sum") -> Tensor:
    """Softmax cross-entropy per patch of an (N, C, H, W) logit map; see the module docstring."""
    return PatchCrossEntropy(labels, reduction)(logits)


def cross_entropy(logits: TensorLike, labels: TensorLike, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of (N, C) logits against (N,) integer labels."""
    logits = as_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (N, C), got shape {logits.shape}")
    n, c = logits.shape
    maps = logits.reshape(n, c, 1, 1)
    labels = labels.data if isinstance(labels, Tensor) else labels
    labels = get_array_module(labels).asarray(labels)   # host labels stay there: checked free
    if labels.shape != (n,):
        raise ValueError(f"cross_entropy: labels must have shape ({n},), got {labels.shape}")
    loss = patch_cross_entropy(maps, labels, reduction)
    return loss.reshape(n) if reduction == "none" else loss


def _reduce(per_element, reduction):
    _check_reduction(reduction)
    if reduction == "none":
        return per_element
    return R.sum(per_element) if reduction == "sum" else R.mean(per_element)


def _check_same_shape(name, a, b):
    if a.shape != b.shape:
        raise ValueError(f"{name}: prediction has shape {a.shape} but target has shape {b.shape}")


def l1_loss(prediction: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """sum or mean of |prediction - target| (SimGAN's self-regularization uses 'sum' or 'mean')."""
    prediction, target = as_tensor(prediction), as_tensor(target, like=as_tensor(prediction))
    _check_same_shape("l1_loss", prediction, target)
    return _reduce(E.abs(E.sub(prediction, target)), reduction)


def mse_loss(prediction: TensorLike, target: TensorLike, reduction: str = "mean") -> Tensor:
    """sum or mean of (prediction - target)^2."""
    prediction, target = as_tensor(prediction), as_tensor(target, like=as_tensor(prediction))
    _check_same_shape("mse_loss", prediction, target)
    diff = E.sub(prediction, target)
    return _reduce(E.mul(diff, diff), reduction)


class BinaryCrossEntropyWithLogits(Function):
    """Per element, with l = 1 + (pos_weight - 1) t and softplus(z) = log(1 + e^z) (stable):

        loss = (1 - t) x + l softplus(-x)        (pos_weight 1: max(x, 0) - x t + log(1 + e^-|x|))
        dloss/dx = (1 - t) - l (1 - sigmoid(x))     (pos_weight 1: sigmoid(x) - t)
        dloss/dt = -x + (pos_weight - 1) softplus(-x),   dloss/dpos_weight = t softplus(-x)
    """
    def forward(self, x, t, pos_weight):
        xp = get_array_module(x)
        self.x, self.t, self.pos_weight = x, t, pos_weight
        self.softplus = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))   # softplus(-x)
        self.l = 1 + (pos_weight - 1) * t
        return (1 - t) * x + self.l * self.softplus

    def backward(self, gy):
        xp = get_array_module(gy)
        sigmoid = (xp.tanh(self.x * 0.5) + 1) * 0.5
        gx = gy * ((1 - self.t) - self.l * (1 - sigmoid))
        gt = gp = None
        if self.needs_input_grad[1]:
            gt = gy * (-self.x + (self.pos_weight - 1) * self.softplus)
        if self.needs_input_grad[2]:
            gp = E.sum_to(gy * self.t * self.softplus, self.pos_weight.shape)
        return gx, gt, gp


def binary_cross_entropy_with_logits(input: TensorLike, target: TensorLike,  # noqa: A002
                                     weight: Optional[TensorLike] = None, *,
                                     reduction: str = "mean",
                                     pos_weight: Optional[TensorLike] = None) -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)`` against ``target`` in [0, 1] (same shape),
    computed from the logits without overflow; ``weight`` multiplies each element's loss and
    ``pos_weight`` (broadcast over the last dimension, as in PyTorch) the positive term."""
    x = as_tensor(input)
    t = as_tensor(target, like=x)
    _check_same_shape("binary_cross_entropy_with_logits", x, t)
    pos_weight = as_tensor(1.0 if pos_weight is None else pos_weight, like=x)
    loss = BinaryCrossEntropyWithLogits()(x, t, pos_weight)
    if weight is not None:
        loss = E.mul(loss, as_tensor(weight, like=x))
    return _reduce(loss, reduction)


def _softmax_dim(dim, ndim):
    """PyTorch's choice when ``dim`` is not given: 0 for 0-, 1- and 3-D input, else 1."""
    if dim is not None:
        return dim
    return 0 if ndim in (0, 1, 3) else 1


def softmax(logits: TensorLike, dim: Optional[int] = None) -> Tensor:
    """exp(z - max z) / sum exp(z - max z) along ``dim`` (a differentiable composition)."""
    logits = as_tensor(logits)
    dim = _softmax_dim(dim, logits.ndim)
    shifted = E.sub(logits, R.amax(logits, dim, keepdim=True).detach())
    e = E.exp(shifted)
    return E.div(e, R.sum(e, dim, keepdim=True))


def log_softmax(logits: TensorLike, dim: Optional[int] = None) -> Tensor:
    """z - max z - log sum exp(z - max z) along ``dim``."""
    logits = as_tensor(logits)
    dim = _softmax_dim(dim, logits.ndim)
    shifted = E.sub(logits, R.amax(logits, dim, keepdim=True).detach())
    return E.sub(shifted, E.log(R.sum(E.exp(shifted), dim, keepdim=True)))


__all__ = ["patch_cross_entropy", "cross_entropy", "binary_cross_entropy_with_logits",
           "l1_loss", "mse_loss", "softmax", "log_softmax", "patch_labels"]
