"""Padding of the last two dimensions (``F.pad``, as ``torch.nn.functional.pad`` on NCHW).

    y = pad(x, (left, right, top, bottom), mode)        x (..., H, W) -> y (..., H + top + bottom,
                                                                           W + left + right)

Along one axis of length n padded by a before and b after, y[i] = x[src(i - a)] with

    constant   src(j) = j inside [0, n), else the pad holds ``value`` (no source)
    reflect    src(j) = -j for j < 0, 2 (n - 1) - j for j >= n   (the edge is not repeated:
               a b c d -> c b | a b c d | c b; needs a, b < n)
    replicate  src(j) = clamp(j, 0, n - 1)                     (a a | a b c d | d d)

so the gradient is gx[k] = sum of gy[i] over every i with src(i - a) = k: the middle block of
gy, plus each padded row or column folded back onto the one it copies.
"""
from __future__ import annotations

from typing import Sequence

from minigan.autograd import Function, Tensor, as_tensor
from minigan.autograd.hints import TensorLike
from minigan.backend import get_array_module

MODES = ("constant", "reflect", "replicate")
_NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}


def _fold(gy, axis, before, after, mode):
    """The gradient along one axis: gy (length before + n + after on ``axis``) -> length n."""
    n = gy.shape[axis] - before - after

    def part(start, stop, step=1):
        index = [slice(None)] * gy.ndim
        index[axis] = slice(start, stop, step)
        return tuple(index)

    gx = gy[part(before, before + n)].copy()
    if mode == "reflect":
        # y[before - 1 - i] copies x[1 + i]; y[before + n + i] copies x[n - 2 - i]
        if before:
            gx[part(1, before + 1)] += gy[part(before - 1, None, -1)]
        if after:
            gx[part(n - 1 - after, n - 1)] += gy[part(gy.shape[axis] - 1, before + n - 1, -1)]
    elif mode == "replicate":
        xp = get_array_module(gy)
        if before:
            gx[part(0, 1)] += xp.sum(gy[part(0, before)], axis=axis, keepdims=True)
        if after:
            gx[part(n - 1, n)] += xp.sum(gy[part(before + n, None)], axis=axis, keepdims=True)
    return gx


class Pad(Function):
    """y = x padded on its last two dimensions; see the module docstring for the formula."""

    def __init__(self, pad, mode, value):
        self.pad, self.mode, self.value = pad, mode, value

    def forward(self, x):
        left, right, top, bottom = self.pad
        xp = get_array_module(x)
        widths = [(0, 0)] * (x.ndim - 2) + [(top, bottom), (left, right)]
        if self.mode == "constant":
            return xp.pad(x, widths, mode="constant", constant_values=self.value)
        return xp.pad(x, widths, mode=_NUMPY_MODES[self.mode])

    def backward(self, gy):
        left, right, top, bottom = self.pad
        gx = _fold(gy, gy.ndim - 2, top, bottom, self.mode)
        return _fold(gx, gx.ndim - 1, left, right, self.mode)


def pad(input: TensorLike, pad: Sequence[int], mode: str = "constant",
        value: TensorLike = 0.0) -> Tensor:  # noqa: A002 - PyTorch's names
    """Pad the last two dimensions of ``input`` (at least 2-D) by ``pad = (left, right, top,
    bottom)`` (a 2-tuple pads only the last dimension), ``mode`` one of constant | reflect |
    replicate, as ``torch.nn.functional.pad``."""
    x = as_tensor(input)
    pad = tuple(pad)
    if len(pad) == 2:
        pad = pad + (0, 0)
    if len(pad) != 4 or any(int(p) != p or p < 0 for p in pad):
        raise ValueError(f"pad: pad must be 2 or 4 non-negative integers (left, right, top, "
                         f"bottom), got {pad!r}")
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {MODES}, got {mode!r}")
    if x.ndim < 2:
        raise ValueError(f"pad: input must have at least 2 dimensions, got shape {x.shape}")
    pad = tuple(int(p) for p in pad)
    height, width = x.shape[-2:]
    if mode == "reflect" and (max(pad[:2]) >= width or max(pad[2:]) >= height):
        raise ValueError(f"pad: reflect padding {pad} must be smaller than the input's last two "
                         f"dimensions ({height}, {width})")
    if mode == "replicate" and ((width == 0 and any(pad[:2])) or (height == 0 and any(pad[2:]))):
        raise ValueError(f"pad: cannot replicate the edge of an empty dimension (shape {x.shape})")
    return Pad(pad, mode, float(value))(x)
