"""Sliding K x K windows as shifted slices: the layout under the fast convolution and the pooling.

Pad an image (H, W) by p on each side and split it into its s*s stride phases,
phase (a, b) = xpad[a::s, b::s], each Hq x Wq = ceil((H+2p)/s) x ceil((W+2p)/s), flattened row by
row. Pixel (u, v) of the window of output (i, j) is

    xpad[s*i + u, s*j + v] = phase (u % s, v % s) at flat position (i*Wq + j) + shift(u, v),
    shift(u, v) = (u // s) * Wq + v // s.

So when the output is taken on an Ho x Wq grid, pixel (u, v) of *every* window is one contiguous
slice of a phase, phase[shift : shift + Ho*Wq]: no gather, no Python loop over pixels. The last
Wq - Wo columns of each grid row read across the row's end: junk, which is cropped (or, going
backwards, given a zero gradient). For s = 1 there is one phase, the padded image itself.

Arrays: phases (s*s, P + 1, Hq + 1, Wq) for P = N*C image planes. The extra row and the extra
plane hold what the junk positions overrun, so that every slice below stays inside the buffer:
per image (``tap_slices``, for the convolution's columns) the grid is Ho x Wq; over the whole
buffer at once (``tap_planes``, one long 1-D slice per tap, for elementwise work) each plane
contributes (Hq + 1) x Wq positions, of which the first Ho rows and Wo columns are real.
"""
from typing import NamedTuple

import numpy as np

from minigan.reference.geometry import conv2d_output_size


class Grid(NamedTuple):
    """Output size (ho, wo) and phase size (hq, wq); the work runs on ho x wq positions."""
    ho: int
    wo: int
    hq: int
    wq: int

    @property
    def length(self):
        return self.ho * self.wq


def grid(x_shape, kernel, stride, padding):
    """The Grid of K x K windows moved by ``stride`` over x (N, C, H, W) padded by ``padding``."""
    h, w = x_shape[2] + 2 * padding, x_shape[3] + 2 * padding
    return Grid(conv2d_output_size(x_shape[2], kernel, stride, padding),
                conv2d_output_size(x_shape[3], kernel, stride, padding),
                -(-h // stride), -(-w // stride))


def taps(kernel, stride, wq):
    """[(phase index a*s + b, shift)] of the window pixels (u, v), in row-major (u, v) order."""
    return [((u % stride) * stride + v % stride, (u // stride) * wq + v // stride)
            for u in range(kernel) for v in range(kernel)]


def phases_buffer(n, c, stride, g, dtype, fill):
    """An (s*s, n*C + 1, Hq + 1, Wq) buffer whose padding holds ``fill`` (0 for a convolution,
    -inf for max-pooling); ``to_phases`` fills the inside and leaves the padding alone."""
    return np.full((stride * stride, n * c + 1, g.hq + 1, g.wq), fill, dtype)


def _inside(size, stride, padding, a):
    """Along one axis, phase a holds xpad[a + s*i]: (first i inside x, the slice of x it holds)."""
    first = (padding - a + stride - 1) // stride
    return first, slice(a + stride * first - padding, size, stride)


def _pairs(phases, images, stride, padding):
    """(part of ``phases``, part of ``images``) pairs that hold the same pixels."""
    m, c, h, w = images.shape
    planes = phases[:, :m * c].reshape(stride * stride, m, c, *phases.shape[2:])
    for a in range(stride):
        i0, rows = _inside(h, stride, padding, a)
        for b in range(stride):
            j0, cols = _inside(w, stride, padding, b)
            part = images[:, :, rows, cols]
            yield planes[a * stride + b, :, :, i0:i0 + part.shape[2], j0:j0 + part.shape[3]], part


def to_phases(images, phases, stride, padding):
    """Copy images (m, C, H, W) into the inside of the first m*C planes of ``phases``."""
    for inside, part in _pairs(phases, images, stride, padding):
        inside[...] = part


def from_phases(phases, images, stride, padding):
    """Copy the inside of the first m*C planes of ``phases`` back into images (m, C, H, W): the
    adjoint of the padding, which drops what landed on padding pixels."""
    for inside, part in _pairs(phases, images, stride, padding):
        part[...] = inside


def tap_slices(phases, m, c, kernel, stride, g):
    """For each window pixel (u, v): the (m, C, Ho*Wq) view of the first m*C planes it reads."""
    s2, _, rows, wq = phases.shape
    flat = phases[:, :m * c].reshape(s2, m, c, rows * wq)
    return [flat[phase, :, :, shift:shift + g.length] for phase, shift in taps(kernel, stride, wq)]


def tap_planes(phases, kernel, stride, g):
    """For each window pixel (u, v): the 1-D view it reads over all planes at once, of length
    P*(Hq + 1)*Wq (P = planes - 1); ``crop_planes`` keeps the real outputs."""
    s2, planes, rows, wq = phases.shape
    flat = phases.reshape(s2, -1)
    size = (planes - 1) * rows * wq
    return [flat[phase, shift:shift + size] for phase, shift in taps(kernel, stride, wq)]


def crop_planes(values, n, c, g):
    """The (N, C, Ho, Wo) view of the real outputs in a ``tap_planes``-shaped 1-D array."""
    return values.reshape(n, c, g.hq + 1, g.wq)[:, :, :g.ho, :g.wo]
