"""The im2col + GEMM convolution: the baseline that ``python -m minigan.bench`` times against the
hand-written kernels (with CuPy, the GEMMs are cuBLAS calls through ``cupy.matmul``).

Works on NumPy or CuPy arrays alike. Shapes: x (N, C, H, W), w (F, C, K, K), gy (N, F, Ho, Wo).

    cols[n]  = the K x K windows of the padded x[n] as columns, (C*K*K, Ho*Wo)  (a real copy)
    forward  : y[n]  = w (F, C*K*K) @ cols[n]                      one batched GEMM
    grad w   : gw    = sum_n gy[n] (F, Ho*Wo) @ cols[n]^T           batched GEMM, then a sum
    grad x   : gcols = w^T (C*K*K, F) @ gy[n], then col2im adds every window back (K*K slices)

Unlike the kernels, it materializes ``cols``: N*C*K*K*Ho*Wo numbers (2.3 GB for the refiner's
64->64 conv at batch 512), which is where its time beyond the GEMM goes.
"""
from minigan.backend import get_array_module


def _out(size, k, s, p):
    return (size + 2 * p - k) // s + 1


def im2col(x, k, s, p):
    """cols (N, C*K*K, Ho*Wo), contiguous, rows in (c, ky, kx) order like w.reshape(F, -1)."""
    xp = get_array_module(x)
    n, c, h, w = x.shape
    ho, wo = _out(h, k, s, p), _out(w, k, s, p)
    xpad = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else xp.ascontiguousarray(x)
    sn, sc, sh, sw = xpad.strides
    windows = xp.lib.stride_tricks.as_strided(
        xpad, shape=(n, c, k, k, ho, wo), strides=(sn, sc, sh, sw, sh * s, sw * s))
    return xp.ascontiguousarray(windows).reshape(n, c * k * k, ho * wo)


def conv2d_forward(x, w, b, stride, padding):
    n, f, k = x.shape[0], w.shape[0], w.shape[2]
    ho, wo = _out(x.shape[2], k, stride, padding), _out(x.shape[3], k, stride, padding)
    y = w.reshape(f, -1) @ im2col(x, k, stride, padding)       # (N, F, Ho*Wo)
    if b is not None:
        y += b[:, None]
    return y.reshape(n, f, ho, wo)


def conv2d_backward_weight(gy, x, w_shape, stride, padding):
    n, f = gy.shape[:2]
    cols = im2col(x, w_shape[2], stride, padding)
    return (gy.reshape(n, f, -1) @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w_shape)


def conv2d_backward_input(gy, w, x_shape, stride, padding):
    xp = get_array_module(gy)
    n, c, h, wd = x_shape
    f, _, k, _ = w.shape
    ho, wo = gy.shape[2:]
    gcols = (w.reshape(f, -1).T @ gy.reshape(n, f, -1)).reshape(n, c, k, k, ho, wo)
    gpad = xp.zeros((n, c, h + 2 * padding, wd + 2 * padding), dtype=gy.dtype)
    for ky in range(k):
        for kx in range(k):
            rows, cols = slice(ky, ky + stride * ho, stride), slice(kx, kx + stride * wo, stride)
            gpad[:, :, rows, cols] += gcols[:, :, ky, kx]
    return gpad[:, :, padding:padding + h, padding:padding + wd]


def conv2d_backward_bias(gy):
    return gy.sum(axis=(0, 2, 3))
