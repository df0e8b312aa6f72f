"""2-D convolution for the CPU backend: the math of ``minigan.reference.conv_spec``, arranged
so that the time goes into the matrix product.

Same functions, arguments and results as ``conv_spec`` (the readable im2col specification; the
tests hold the two to the same outputs). x (N, C, H, W), w (F, C, K, K), gy = dL/dy (N, F, Ho, Wo).

Images go through in chunks of m, with ``CHUNK_BYTES`` of columns (so they stay in a core's
cache, in buffers reused from chunk to chunk), and the batch is split over the cores
(``minigan.cpu.threads``). The columns of a chunk come from the K*K shifted slices of
``minigan.reference.windows``: contiguous copies on an Ho x Wq grid per image, whose Wq - Wo
junk columns are cropped (forward) or meet zeros (backward):

    cols[(c, u, v), (i, :)] = phase_{u%s, v%s} of image i [c, shift(u, v) : + Ho*Wq]
                                                             cols: (C*K*K, m*Ho*Wq)
    forward     : Y = W (F, C*K*K) @ cols, cropped to Wo columns into y (N, F, Ho, Wo), + b
    grad weight : dW = sum over chunks of (cols @ G^T)^T, G = gy as (F, m*Ho*Wq), 0 in the junk
    grad input  : stride 1: the forward pass of gy with the kernel flipped and transposed,
                  w[f, c, u, v] -> w[c, f, K-1-u, K-1-v], and padding K-1-p;
                  stride > 1: dcols = W^T @ G, each tap's rows added into its phase slice

One product per chunk, no padded copy of the batch, and no column matrix of the whole batch
(C*K*K x N*Ho*Wo: 140 MB for the refiner's 64->64 conv at batch 32, far beyond the caches). A 1x1
convolution without padding or stride needs no columns: y[n] = W @ x[n], one product per image.
"""
import numpy as np

from minigan.cpu.threads import over_images
from minigan.reference.windows import from_phases, grid, phases_buffer, tap_slices, to_phases

CHUNK_BYTES = 1 << 20   # the columns of one chunk of images: well inside a core's L2 cache


def _chunk_size(n, c, kernel, g, itemsize):
    """Images per chunk: as many as keep the chunk's columns within ``CHUNK_BYTES``."""
    return max(1, min(n, CHUNK_BYTES // (c * kernel * kernel * g.length * itemsize)))


def columns(x, kernel, stride, padding):
    """Yield (n0, m, cols) for chunks of m images x[n0:n0 + m]: cols (C*K*K, m*Ho*Wq), rows in
    (c, u, v) order like ``w.reshape(F, -1)``, columns in (image, position) order, so that one
    product serves the whole chunk. The buffer is reused: use it before the next."""
    n, c = x.shape[:2]
    g = grid(x.shape, kernel, stride, padding)
    m = _chunk_size(n, c, kernel, g, x.itemsize)
    phases = phases_buffer(m, c, stride, g, x.dtype, fill=0)
    buffer = np.empty(c * kernel * kernel * m * g.length, x.dtype)
    for n0 in range(0, n, m):
        count = min(m, n - n0)
        cols = buffer[:c * kernel * kernel * count * g.length].reshape(c, -1, count, g.length)
        to_phases(x[n0:n0 + count], phases, stride, padding)
        for t, window_pixel in enumerate(tap_slices(phases, count, c, kernel, stride, g)):
            cols[:, t] = window_pixel.transpose(1, 0, 2)
        yield n0, count, cols.reshape(-1, count * g.length)


def _pointwise(kernel, stride, padding):
    """A 1x1 convolution without padding or stride: the columns of image n are x[n] itself."""
    return kernel == 1 and stride == 1 and padding == 0


def conv2d_forward(x, w, b, stride, padding, residual=None, relu=False):
    """y = conv(x, w) + b, then + residual and ReLU when given (on each chunk of images while
    it is in cache). x (N,C,H,W), w (F,C,K,K), b (F,) or None, residual (N,F,Ho,Wo) or None
    -> y (N,F,Ho,Wo)."""
    f, _, k, _ = w.shape
    g = grid(x.shape, k, stride, padding)
    weights = w.reshape(f, -1)
    y = np.empty((x.shape[0], f, g.ho, g.wo), x.dtype)

    def epilogue(lo, hi):
        if residual is not None:
            y[lo:hi] += residual[lo:hi]
        if relu:
            np.maximum(y[lo:hi], 0, out=y[lo:hi])

    def images(lo, hi):
        if _pointwise(k, stride, padding):   # y[n] = W @ x[n], one product per image
            out = y[lo:hi].reshape(hi - lo, f, -1)
            np.matmul(weights, x[lo:hi].reshape(hi - lo, x.shape[1], -1), out=out)
            if b is not None:
                out += b[:, None]
            epilogue(lo, hi)
            return
        for n0, count, cols in columns(x[lo:hi], k, stride, padding):
            product = (weights @ cols).reshape(f, count, g.ho, g.wq)[..., :g.wo]
            out = y[lo + n0:lo + n0 + count].transpose(1, 0, 2, 3)     # (F, m, Ho, Wo) view
            if b is None:
                out[...] = product
            else:
                np.add(product, b[:, None, None, None], out=out)
            epilogue(lo + n0, lo + n0 + count)
    over_images(x.shape[0], images)
    return y


def _widen_into(buffer, gy_part, g):
    """gy_part (m, F, Ho, Wo) -> (F, m*Ho*Wq) in ``buffer``, in the columns' (image, position)
    order, with zeros in the junk columns."""
    m, f = gy_part.shape[:2]
    wide = buffer[:f * m * g.length].reshape(f, m, g.ho, g.wq)
    wide[..., :g.wo] = gy_part.transpose(1, 0, 2, 3)
    wide[..., g.wo:] = 0
    return wide.reshape(f, -1)


def conv2d_backward_weight(gy, x, w_shape, stride, padding):
    """dL/dw (F,C,K,K) = sum over n of gy[n] (F, Ho*Wo) @ cols[n]^T."""
    f, c, k, _ = w_shape
    g = grid(x.shape, k, stride, padding)

    def images(lo, hi):
        if _pointwise(k, stride, padding):   # sum over n of x[n] @ gy[n]^T
            images_t, gy_t = x[lo:hi].reshape(hi - lo, c, -1), gy[lo:hi].reshape(hi - lo, f, -1)
            return np.matmul(images_t, gy_t.transpose(0, 2, 1)).sum(axis=0)
        dw_t = np.zeros((c * k * k, f), gy.dtype)
        buffer = np.empty(f * _chunk_size(hi - lo, c, k, g, x.itemsize) * g.length, gy.dtype)
        for n0, count, cols in columns(x[lo:hi], k, stride, padding):
            # cols @ gy^T, not gy @ cols^T: the same numbers, but OpenBLAS is faster at the
            # tall product than at a long reduction into a short, wide output.
            dw_t += cols @ _widen_into(buffer, gy[lo + n0:lo + n0 + count], g).T
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
    """dcols = W^T @ gyw per chunk; each tap's rows are added into the phase slice they came
    from, and the inside of the phases is dx."""
    n, c = x_shape[:2]
    f, _, k, _ = w.shape
    g = grid(x_shape, k, stride, padding)
    weights_t = w.reshape(f, -1).T
    dx = np.empty(x_shape, gy.dtype)

    def images(lo, hi):
        m = _chunk_size(hi - lo, c, k, g, gy.itemsize)
        phases = phases_buffer(m, c, stride, g, gy.dtype, fill=0)
        buffer = np.empty(f * m * g.length, gy.dtype)
        for n0 in range(lo, hi, m):
            count = min(m, hi - n0)
            gyw = _widen_into(buffer, gy[n0:n0 + count], g)
            dcols = (weights_t @ gyw).reshape(c, k * k, count, g.length)
            phases[...] = 0
            for t, window_pixel in enumerate(tap_slices(phases, count, c, k, stride, g)):
                window_pixel += dcols[:, t].transpose(1, 0, 2)
            from_phases(phases, dx[n0:n0 + count], stride, padding)
    over_images(n, images)
    return dx


def conv2d_backward_bias(gy):
    """dL/db (F,) = sum of gy over n, i, j."""
    return gy.sum(axis=(0, 2, 3))
