"""2-D max-pooling in NumPy, keeping the argmax so the backward pass is a gather.

Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H + 2p - K) // s + 1 (same for W).

    y[n, c, i, j]      = max_{u, v < K} xpad[n, c, s*i + u, s*j + v]      (padding is -inf)
    argmax[n, c, i, j] = u*K + v of that max (the first one in row-major window order on ties;
                         as in numpy.argmax, the first NaN wins)

Backward: dx[n, c, s*i + u - p, s*j + v - p] += dy[n, c, i, j] for the (u, v) in argmax.
The argmax is stored compactly as int8 (K*K <= 127).

Pixel (u, v) of every window is one contiguous slice of the padded image's stride phases
(``minigan.reference.windows``), so both passes loop over the K*K taps only, with branch-free
array arithmetic (a masked copy or ``where`` costs ten times more on random masks): the forward
pass keeps a running maximum, and its argmax moves to tap t where t is strictly greater (taps
come in increasing order, so that is a maximum with t * mask); the backward pass adds
dy * (argmax == t) to each tap's slice (so a non-finite dy also spreads NaN to the other pixels
of its window).
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
    pixels = tap_planes(phases, kernel, stride, g)
    best, argmax = pixels[0].copy(), np.zeros(pixels[0].shape, np.int8)
    greater, moved = np.empty(best.shape, bool), np.empty(best.shape, np.int8)
    for t, pixel in enumerate(pixels[1:], start=1):
        np.greater(pixel, best, out=greater)
        np.maximum(argmax, np.multiply(greater, np.int8(t), out=moved), out=argmax)
        np.maximum(best, pixel, out=best)                 # a NaN stays best once it is there
    nan = np.isnan(best)
    if nan.any():   # numpy.argmax's rule: the first NaN of the window wins
        for t in reversed(range(len(pixels))):
            argmax[nan & np.isnan(pixels[t])] = t
    return (np.ascontiguousarray(crop_planes(best, n, c, g)),
            np.ascontiguousarray(crop_planes(argmax, n, c, g)))


def max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding):
    """dL/dx (N,C,H,W): each dy goes to the input pixel its window's argmax points at."""
    n, c = x_shape[:2]
    g = grid(x_shape, kernel, stride, padding)
    phases = phases_buffer(n, c, stride, g, gy.dtype, fill=0)
    pixels = tap_planes(phases, kernel, stride, g)
    gy_planes = np.zeros(pixels[0].shape, gy.dtype)
    argmax_planes = np.full(pixels[0].shape, -1, np.int8)
    crop_planes(gy_planes, n, c, g)[...] = gy
    crop_planes(argmax_planes, n, c, g)[...] = argmax      # the junk positions hit no tap
    hit, share = np.empty(gy_planes.shape, bool), np.empty_like(gy_planes)
    for t, pixel in enumerate(pixels):
        pixel += np.multiply(gy_planes, np.equal(argmax_planes, t, out=hit), out=share)
    dx = np.empty(x_shape, gy.dtype)
    from_phases(phases, dx, stride, padding)
    return dx
