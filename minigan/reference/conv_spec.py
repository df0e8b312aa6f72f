"""2-D convolution (cross-correlation, as in PyTorch) in NumPy, by im2col + one matrix product.

Shapes: x (N, C, H, W), weight w (F, C, K, K), bias b (F,), output y (N, F, Ho, Wo) with

    Ho = (H + 2p - K) // s + 1,   Wo = (W + 2p - K) // s + 1
    y[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xpad[n, c, s*i + u, s*j + v]

where xpad is x with p zeros on each side. im2col lays the K x K windows out as the *columns* of
cols (C*K*K, N*Ho*Wo), so that with W = w.reshape(F, C*K*K) and G = dL/dy as (F, N*Ho*Wo):

    forward     : Y  = W @ cols
    grad input  : dcols = W^T @ G, then col2im adds every window back where it came from
    grad weight : dW = G @ cols^T
    grad bias   : db = sum of G over its columns

Columns-last layout makes the copy into cols read whole image rows (fast), and no Python loop
runs over pixels: only im2col/col2im loop over the K*K offsets.
"""
import numpy as np

from minigan.reference.geometry import conv2d_output_size


def _pad_channels_first(x, padding):
    """(N, C, H, W) -> (C, N, H + 2p, W + 2p) with zero padding."""
    n, c, h, w = x.shape
    xpad = np.zeros((c, n, h + 2 * padding, w + 2 * padding), dtype=x.dtype)
    xpad[:, :, padding:padding + h, padding:padding + w] = x.transpose(1, 0, 2, 3)
    return xpad


def im2col(x, kernel, stride, padding):
    """cols (C*K*K, N*Ho*Wo) of x's dtype: column (n, i, j) is the window of xpad at
    (s*i, s*j), flattened in (c, u, v) order to match ``w.reshape(F, C*K*K)``. Returns
    (cols, (Ho, Wo))."""
    n, c, h, w = x.shape
    ho = conv2d_output_size(h, kernel, stride, padding)
    wo = conv2d_output_size(w, kernel, stride, padding)
    xpad = _pad_channels_first(x, padding)
    cols = np.empty((c, kernel, kernel, n, ho, wo), dtype=x.dtype)
    for u in range(kernel):
        for v in range(kernel):
            cols[:, u, v] = xpad[:, :, u:u + stride * ho:stride, v:v + stride * wo:stride]
    return cols.reshape(c * kernel * kernel, n * ho * wo), (ho, wo)


def col2im(dcols, x_shape, kernel, stride, padding):
    """Adjoint of im2col: dcols (C*K*K, N*Ho*Wo) -> dx (N, C, H, W), summing overlapping windows."""
    n, c, h, w = x_shape
    ho = conv2d_output_size(h, kernel, stride, padding)
    wo = conv2d_output_size(w, kernel, stride, padding)
    dcols = dcols.reshape(c, kernel, kernel, n, ho, wo)
    dpad = np.zeros((c, n, h + 2 * padding, w + 2 * padding), dtype=dcols.dtype)
    for u in range(kernel):
        for v in range(kernel):
            dpad[:, :, u:u + stride * ho:stride, v:v + stride * wo:stride] += dcols[:, u, v]
    inner = dpad[:, :, padding:padding + h, padding:padding + w]
    return np.ascontiguousarray(inner.transpose(1, 0, 2, 3))


def _as_matrix(t):
    """(N, F, Ho, Wo) -> (F, N*Ho*Wo)."""
    return t.transpose(1, 0, 2, 3).reshape(t.shape[1], -1)


def conv2d_forward(x, w, b, stride, padding):
    """y = conv(x, w) + b. x (N,C,H,W), w (F,C,K,K), b (F,) or None -> y (N,F,Ho,Wo), of x's
    dtype and C-contiguous (``np.ascontiguousarray``)."""
    f, _, k, _ = w.shape
    cols, (ho, wo) = im2col(x, k, stride, padding)
    y = w.reshape(f, -1) @ cols
    if b is not None:
        y += b[:, None]
    return np.ascontiguousarray(y.reshape(f, x.shape[0], ho, wo).transpose(1, 0, 2, 3))


def conv2d_backward_input(gy, w, x_shape, stride, padding):
    """dL/dx (N,C,H,W) from dL/dy (N,F,Ho,Wo) and w (F,C,K,K)."""
    f, _, k, _ = w.shape
    dcols = w.reshape(f, -1).T @ _as_matrix(gy)
    return col2im(dcols, x_shape, k, stride, padding)


def conv2d_backward_weight(gy, x, w_shape, stride, padding):
    """dL/dw (F,C,K,K) = sum over n, i, j of gy[n,f,i,j] * window(n,i,j)."""
    cols, _ = im2col(x, w_shape[2], stride, padding)
    # (cols @ G^T)^T rather than G @ cols^T: the same numbers, but OpenBLAS is up to 20x
    # slower on the second form (a long reduction into a short, wide output).
    return np.ascontiguousarray((cols @ _as_matrix(gy).T).T).reshape(w_shape)


def conv2d_backward_bias(gy):
    """dL/db (F,) = sum of gy over n, i, j."""
    return gy.sum(axis=(0, 2, 3))
