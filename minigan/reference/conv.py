"""2-D convolution (cross-correlation, as in PyTorch) in NumPy, by im2col + one matrix product.

Shapes: x (N, C, H, W), weight w (F, C, K, K), bias b (F,), output y (N, F, Ho, Wo) with

    Ho = (H + 2p - K) // s + 1,   Wo = (W + 2p - K) // s + 1
    y[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xpad[n, c, s*i + u, s*j + v]

where xpad is x with p zeros on each side. im2col lays every K x K window out as one row,
cols (N*Ho*Wo, C*K*K), so that the forward pass is ``cols @ w.reshape(F, -1).T``:

    grad input  : gcols = gy_rows @ w_rows,  then col2im scatters gcols back (sum over windows)
    grad weight : gw    = gy_rows.T @ cols
    grad bias   : gb    = sum over n, i, j of gy

No Python loop runs over pixels: only col2im loops over the K*K offsets.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv2d_output_size(size, kernel, stride, padding):
    """Output length of a convolution/pooling along one axis: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def _pad(x, padding, value=0.0):
    if padding == 0:
        return x
    width = ((0, 0), (0, 0), (padding, padding), (padding, padding))
    return np.pad(x, width, mode="constant", constant_values=value)


def im2col(x, kernel, stride, padding):
    """Windows of x as rows: returns cols (N*Ho*Wo, C*K*K) and (Ho, Wo).

    Row (n, i, j) holds xpad[n, :, s*i : s*i+K, s*j : s*j+K] flattened in (c, u, v) order,
    which matches ``w.reshape(F, C*K*K)``.
    """
    n, c = x.shape[:2]
    windows = sliding_window_view(_pad(x, padding), (kernel, kernel), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]           # (N, C, Ho, Wo, K, K), a view
    ho, wo = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kernel * kernel)
    return cols, (ho, wo)


def col2im(gcols, x_shape, kernel, stride, padding):
    """Adjoint of im2col: sums each window row back into the (unpadded) input grid."""
    n, c, h, w = x_shape
    ho = conv2d_output_size(h, kernel, stride, padding)
    wo = conv2d_output_size(w, kernel, stride, padding)
    g = gcols.reshape(n, ho, wo, c, kernel, kernel).transpose(0, 3, 4, 5, 1, 2)
    gpad = np.zeros((n, c, h + 2 * padding, w + 2 * padding), dtype=gcols.dtype)
    for u in range(kernel):
        for v in range(kernel):
            gpad[:, :, u:u + stride * ho:stride, v:v + stride * wo:stride] += g[:, :, u, v]
    return gpad[:, :, padding:padding + h, padding:padding + w]


def _rows_to_nchw(rows, n, ho, wo):
    """(N*Ho*Wo, F) -> contiguous (N, F, Ho, Wo)."""
    return np.ascontiguousarray(rows.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2))


def _nchw_to_rows(t):
    """(N, F, Ho, Wo) -> (N*Ho*Wo, F)."""
    return t.transpose(0, 2, 3, 1).reshape(-1, t.shape[1])


def conv2d_forward(x, w, b, stride, padding):
    """y = conv(x, w) + b. x (N,C,H,W), w (F,C,K,K), b (F,) or None -> y (N,F,Ho,Wo)."""
    f, _, k, _ = w.shape
    cols, (ho, wo) = im2col(x, k, stride, padding)
    rows = cols @ w.reshape(f, -1).T
    if b is not None:
        rows += b
    return _rows_to_nchw(rows, x.shape[0], ho, wo)


def conv2d_backward_input(gy, w, x_shape, stride, padding):
    """dL/dx (N,C,H,W) from dL/dy (N,F,Ho,Wo) and w (F,C,K,K)."""
    f, _, k, _ = w.shape
    gcols = _nchw_to_rows(gy) @ w.reshape(f, -1)
    return col2im(gcols, x_shape, k, stride, padding)


def conv2d_backward_weight(gy, x, w_shape, stride, padding):
    """dL/dw (F,C,K,K) = sum over n, i, j of gy[n,f,i,j] * window(n,i,j)."""
    cols, _ = im2col(x, w_shape[2], stride, padding)
    return (_nchw_to_rows(gy).T @ cols).reshape(w_shape)


def conv2d_backward_bias(gy):
    """dL/db (F,) = sum of gy over n, i, j."""
    return gy.sum(axis=(0, 2, 3))
