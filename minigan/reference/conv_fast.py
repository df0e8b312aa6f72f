"""2-D convolution for the CPU backend: the math of ``minigan.reference.conv``, arranged so that
the time goes into the matrix product.

Same functions, arguments and results as ``conv.py`` (the readable im2col specification; the
tests hold the two to the same outputs). x (N, C, H, W), w (F, C, K, K), gy = dL/dy (N, F, Ho, Wo).

The columns of one image come from the K*K shifted slices of ``minigan.reference.windows``
(contiguous copies, on an Ho x Wq grid whose Wq - Wo junk columns are cropped):

    cols[(c, u, v), :] = phase_{u%s, v%s}[c, shift(u, v) : shift(u, v) + Ho*Wq]    (C*K*K, Ho*Wq)
    forward     : y[n] = W (F, C*K*K) @ cols, cropped to Wo columns, + b
    grad weight : dW   = sum_n (cols @ gyw[n]^T)^T, gyw = gy[n] with zeros in the junk columns
    grad input  : stride 1: the forward pass of gy with the kernel flipped and transposed,
                  w[f, c, u, v] -> w[c, f, K-1-u, K-1-v], and padding K-1-p;
                  stride > 1: dcols = W^T @ gyw, each tap's rows added into its phase slice

Images go through a few at a time (``CHUNK_BYTES`` of columns, so they stay in the cache), in
buffers reused from chunk to chunk, and each product comes out in NCHW order: nothing is
transposed, and the batch's column matrix (C*K*K x N*Ho*Wo: 140 MB for the refiner's 64->64
conv at batch 32) never exists. A 1x1 convolution without padding or stride has no columns to
build: the image is its own column matrix.
"""
import numpy as np

from minigan.reference.parallel import over_images
from minigan.reference.windows import (crop, from_phases, grid, phases_buffer, tap_slices,
                                       to_phases, widen)

CHUNK_BYTES = 1 << 20   # the columns of one chunk of images: well inside a core's L2 cache


def _chunk_size(n, bytes_per_image):
    return max(1, min(n, CHUNK_BYTES // max(bytes_per_image, 1)))


def columns(x, kernel, stride, padding):
    """Yield (n0, cols) for chunks of images x[n0:n0 + m]: cols (m, C*K*K, Ho*Wq), rows in
    (c, u, v) order like ``w.reshape(F, -1)``. The buffer is reused: use it before the next."""
    n, c = x.shape[:2]
    if kernel == 1 and stride == 1 and padding == 0:
        yield 0, x.reshape(n, c, -1)
        return
    g = grid(x.shape, kernel, stride, padding)
    m = _chunk_size(n, c * kernel * kernel * g.length * x.itemsize)
    phases = phases_buffer(m, c, stride, g, x.dtype, fill=0)
    cols = np.empty((m, c, kernel * kernel, g.length), x.dtype)
    for n0 in range(0, n, m):
        count = min(m, n - n0)
        to_phases(x[n0:n0 + count], phases, stride, padding)
        for t, window_pixel in enumerate(tap_slices(phases, count, c, kernel, stride, g)):
            cols[:count, :, t] = window_pixel
        yield n0, cols[:count].reshape(count, -1, g.length)


def conv2d_forward(x, w, b, stride, padding):
    """y = conv(x, w) + b. x (N,C,H,W), w (F,C,K,K), b (F,) or None -> y (N,F,Ho,Wo)."""
    f, _, k, _ = w.shape
    g = grid(x.shape, k, stride, padding)
    weights = w.reshape(f, -1)
    y = np.empty((x.shape[0], f, g.ho, g.wo), x.dtype)

    def images(lo, hi):
        for n0, cols in columns(x[lo:hi], k, stride, padding):
            out = y[lo + n0:lo + n0 + len(cols)]
            if g.wq == g.wo:   # no junk columns: the product goes straight into y
                np.matmul(weights, cols, out=out.reshape(len(cols), f, -1))
                if b is not None:
                    out += b[:, None, None]
            elif b is None:
                out[...] = crop(weights @ cols, g)
            else:
                np.add(crop(weights @ cols, g), b[:, None, None], out=out)
    over_images(x.shape[0], images)
    return y


def conv2d_backward_weight(gy, x, w_shape, stride, padding):
    """dL/dw (F,C,K,K) = sum over n of gy[n] (F, Ho*Wo) @ cols[n]^T."""
    f, c, k, _ = w_shape
    gyw = widen(gy, grid(x.shape, k, stride, padding))

    def images(lo, hi):
        dw_t = np.zeros((c * k * k, f), gy.dtype)
        for n0, cols in columns(x[lo:hi], k, stride, padding):
            # cols @ gy^T, not gy @ cols^T: the same numbers, but OpenBLAS is faster at the
            # tall product than at a long reduction into a short, wide output.
            dw_t += np.matmul(cols, gyw[lo + n0:lo + n0 + len(cols)].transpose(0, 2, 1)).sum(axis=0)
        return dw_t
    return np.ascontiguousarray(sum(over_images(x.shape[0], images)).T).reshape(w_shape)


def conv2d_backward_input(gy, w, x_shape, stride, padding):
    """dL/dx (N,C,H,W) from dL/dy (N,F,Ho,Wo) and w (F,C,K,K)."""
    k = w.shape[2]
    if stride == 1 and padding <= k - 1:
        flipped = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))
        return conv2d_forward(gy, flipped, None, 1, k - 1 - padding)
    return _col2im_backward_input(gy, w, x_shape, stride, padding)


def _col2im_backward_input(gy, w, x_shape, stride, padding):
    """dcols = W^T @ gyw per image; each tap's rows are added into the phase slice they came
    from, and the inside of the phases is dx."""
    n, c = x_shape[:2]
    f, _, k, _ = w.shape
    g = grid(x_shape, k, stride, padding)
    gyw = widen(gy, g)
    weights_t = w.reshape(f, -1).T
    dx = np.empty(x_shape, gy.dtype)
    m = _chunk_size(n, c * k * k * g.length * gy.itemsize)

    def images(lo, hi):
        phases = phases_buffer(m, c, stride, g, gy.dtype, fill=0)
        for n0 in range(lo, hi, m):
            count = min(m, hi - n0)
            dcols = np.matmul(weights_t, gyw[n0:n0 + count]).reshape(count, c, k * k, g.length)
            phases[...] = 0
            for t, window_pixel in enumerate(tap_slices(phases, count, c, k, stride, g)):
                window_pixel += dcols[:, :, t]
            from_phases(phases, dx[n0:n0 + count], stride, padding)
    over_images(n, images)
    return dx


def conv2d_backward_bias(gy):
    """dL/db (F,) = sum of gy over n, i, j."""
    return gy.sum(axis=(0, 2, 3))
