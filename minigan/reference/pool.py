"""2-D max-pooling in NumPy, keeping the argmax so the backward pass is a gather.

Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H + 2p - K) // s + 1 (same for W).

    y[n, c, i, j]      = max_{u, v < K} xpad[n, c, s*i + u, s*j + v]      (padding is -inf)
    argmax[n, c, i, j] = u*K + v of that max (the first one in row-major window order on ties;
                         as in numpy.argmax, the first NaN wins)

Backward: dx[n, c, s*i + u - p, s*j + v - p] += dy[n, c, i, j] for the (u, v) in argmax.
The argmax is stored compactly as int8 (K*K <= 127).

Pixel (u, v) of every window is one contiguous slice of the padded image's stride phases
(``minigan.reference.windows``), so both passes loop over the K*K taps only: the forward pass
keeps a running maximum (replaced where a tap is strictly greater), the backward pass adds to
each tap's slice the dy of the windows whose argmax is that tap.
"""
import numpy as np

from minigan.reference.windows import (crop_planes, from_phases, grid, phases_buffer, tap_planes,
                                       to_phases)


def max_pool2d_forward(x, kernel, stride, padding):
    """Returns (y, argmax): y like x's dtype, argmax int8, both (N, C, Ho, Wo)."""
    n, c = x.shape[:2]
    g = grid(x.shape, kernel, stride, padding)
    phases = phases_buffer(n, c, stride, g, x.dtype, fill=-np.inf)
    to_phases(x, phases, stride, padding)
    first, *rest = tap_planes(phases, kernel, stride, g)
    best, argmax = first.copy(), np.zeros(first.shape, np.int8)
    better, best_is_number = np.empty(first.shape, bool), np.empty(first.shape, bool)
    for t, pixel in enumerate(rest, start=1):
        np.logical_not(pixel <= best, out=better)        # pixel > best, or a NaN on either side
        np.equal(best, best, out=best_is_number)         # but a NaN that is already best stays
        better &= best_is_number
        np.copyto(best, pixel, where=better)
        np.copyto(argmax, t, where=better)
    return (np.ascontiguousarray(crop_planes(best, n, c, g)),
            np.ascontiguousarray(crop_planes(argmax, n, c, g)))


def max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding):
    """dL/dx (N,C,H,W): each dy goes to the input pixel its window's argmax points at."""
    n, c = x_shape[:2]
    g = grid(x_shape, kernel, stride, padding)
    phases = phases_buffer(n, c, stride, g, gy.dtype, fill=0)
    first = tap_planes(phases, kernel, stride, g)[0]
    gy_planes, argmax_planes = np.zeros(first.shape, gy.dtype), np.full(first.shape, -1, np.int8)
    crop_planes(gy_planes, n, c, g)[...] = gy
    crop_planes(argmax_planes, n, c, g)[...] = argmax      # the junk positions hit no tap
    hit, share = np.empty(first.shape, bool), np.empty_like(gy_planes)
    for t, pixel in enumerate(tap_planes(phases, kernel, stride, g)):
        np.equal(argmax_planes, t, out=hit)
        share[...] = 0
        np.copyto(share, gy_planes, where=hit)
        pixel += share
    dx = np.empty(x_shape, gy.dtype)
    from_phases(phases, dx, stride, padding)
    return dx
