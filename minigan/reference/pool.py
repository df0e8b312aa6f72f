"""2-D max-pooling in NumPy, keeping the argmax so the backward pass is a gather.

Shapes: x (N, C, H, W) -> y (N, C, Ho, Wo), Ho = (H + 2p - K) // s + 1 (same for W).

    y[n, c, i, j]      = max_{u, v < K} xpad[n, c, s*i + u, s*j + v]      (padding is -inf)
    argmax[n, c, i, j] = u*K + v of that max (the first one in row-major window order on ties)

Backward: dx[n, c, s*i + u - p, s*j + v - p] += dy[n, c, i, j] for the (u, v) in argmax.
The argmax is stored compactly as int8 (K*K <= 127).
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minigan.reference.geometry import conv2d_output_size


def max_pool2d_forward(x, kernel, stride, padding):
    """Returns (y, argmax): y like x's dtype, argmax int8, both (N, C, Ho, Wo)."""
    n, c = x.shape[:2]
    xpad = x if padding == 0 else np.pad(
        x, ((0, 0), (0, 0), (padding, padding), (padding, padding)), constant_values=-np.inf)
    windows = sliding_window_view(xpad, (kernel, kernel), axis=(2, 3))[:, :, ::stride, ::stride]
    ho, wo = windows.shape[2:4]
    flat = windows.reshape(n, c, ho, wo, kernel * kernel)
    argmax = flat.argmax(axis=-1)
    y = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]
    return np.ascontiguousarray(y), argmax.astype(np.int8)


def max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding):
    """dL/dx (N,C,H,W): each dy goes to the input pixel its window's argmax points at."""
    n, c, h, w = x_shape
    ho = conv2d_output_size(h, kernel, stride, padding)
    wo = conv2d_output_size(w, kernel, stride, padding)
    gpad = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=gy.dtype)
    for u in range(kernel):
        for v in range(kernel):
            hit = argmax == u * kernel + v
            gpad[:, :, u:u + stride * ho:stride, v:v + stride * wo:stride] += np.where(hit, gy, 0)
    return gpad[:, :, padding:padding + h, padding:padding + w]
