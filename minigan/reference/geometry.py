"""The geometry of a sliding window (convolution, max-pooling): output sizes and argument checks.

One place for the formula and the rules, used by the NumPy references, the differentiable ops
(``minigan.functional``) and the CUDA launch checks (``minigan.cuda.checks``):

    Ho = (H + 2p - K) // s + 1,   Wo = (W + 2p - K) // s + 1

A convolution takes x (N, C, H, W) and a square weight (F, C, K, K), stride s >= 1 and zero
padding p >= 0; max-pooling a K x K window with 1 <= K <= 11 (its argmax is stored as int8)
and p <= K // 2 (as in PyTorch: every window keeps at least one input pixel). Either way the
padded input must hold at least one window. The checks raise ``TypeError`` for a non-integer
and ``ValueError`` otherwise, naming the op, the argument and what was expected.
"""
import operator
from typing import NamedTuple

MAX_POOL_KERNEL = 11   # the argmax is int8 and holds ky*K + kx <= K*K - 1 <= 127


class ConvGeometry(NamedTuple):
    """x (N, C, H, W) * w (F, C, K, K) -> y (N, F, Ho, Wo) with stride and padding."""
    N: int
    C: int
    H: int
    W: int
    F: int
    K: int
    stride: int
    padding: int
    Ho: int
    Wo: int


class PoolGeometry(NamedTuple):
    """x (N, C, H, W) -> y (N, C, Ho, Wo) over K x K windows."""
    N: int
    C: int
    H: int
    W: int
    K: int
    stride: int
    padding: int
    Ho: int
    Wo: int


def conv2d_output_size(size, kernel, stride, padding):
    """Output length of a convolution/pooling along one axis: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - kernel) // stride + 1


def check_int(op, name, value, minimum):
    """``value`` as a Python int >= minimum (TypeError for a non-integer, ValueError below)."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an integer, got {value!r}") from None
    if value < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {value}")
    return value


def _image_shape(op, name, shape):
    shape = tuple(shape)
    if len(shape) != 4:
        raise ValueError(f"{op}: {name} must be (N, C, H, W), got shape {shape}")
    return tuple(int(s) for s in shape)


def _window(op, h, w, kernel, stride, padding):
    """(Ho, Wo), or ValueError when the padded input holds no window."""
    ho = conv2d_output_size(h, kernel, stride, padding)
    wo = conv2d_output_size(w, kernel, stride, padding)
    if ho < 1 or wo < 1:
        raise ValueError(f"{op}: input {h}x{w} with padding {padding} is smaller than the "
                         f"{kernel}x{kernel} window")
    return ho, wo


def conv2d_geometry(op, x_shape, w_shape, stride, padding):
    """``ConvGeometry`` of x (N, C, H, W) and w (F, C, K, K); raises when they do not fit."""
    n, c, h, w = _image_shape(op, "input", x_shape)
    w_shape = tuple(int(s) for s in w_shape)
    if len(w_shape) != 4 or w_shape[2] != w_shape[3] or w_shape[2] < 1 or w_shape[0] < 1:
        raise ValueError(f"{op}: weight must be (F, C, K, K) with a square kernel and F, K >= 1, "
                         f"got shape {w_shape}")
    f, wc, k, _ = w_shape
    if wc != c:
        raise ValueError(f"{op}: input has {c} channels but the weight expects {wc} "
                         f"(input shape {(n, c, h, w)}, weight shape {w_shape})")
    stride = check_int(op, "stride", stride, 1)
    padding = check_int(op, "padding", padding, 0)
    ho, wo = _window(op, h, w, k, stride, padding)
    return ConvGeometry(n, c, h, w, f, k, stride, padding, ho, wo)


def pool_geometry(op, x_shape, kernel_size, stride, padding):
    """``PoolGeometry`` of x (N, C, H, W) under a K x K window; raises when they do not fit."""
    n, c, h, w = _image_shape(op, "input", x_shape)
    kernel = check_int(op, "kernel_size", kernel_size, 1)
    if kernel > MAX_POOL_KERNEL:
        raise ValueError(f"{op}: kernel_size must be <= {MAX_POOL_KERNEL} (the argmax is stored "
                         f"as int8), got {kernel}")
    stride = check_int(op, "stride", stride, 1)
    padding = check_int(op, "padding", padding, 0)
    if padding > kernel // 2:
        raise ValueError(f"{op}: padding must be at most kernel_size // 2 = {kernel // 2}, "
                         f"got {padding}")
    ho, wo = _window(op, h, w, kernel, stride, padding)
    return PoolGeometry(n, c, h, w, kernel, stride, padding, ho, wo)


_SAME_ON_BOTH_AXES = {"kernel_size": "square kernels (K x K)",
                      "stride": "one stride for both axes",
                      "padding": "one padding for both axes"}


def square(op, name, value):
    """``kernel_size``, ``stride`` or ``padding`` as one int: an int, or a pair of equal ints.

    PyTorch also takes a pair of two different values; minigan's kernels support only square
    windows, so such a pair is a clear error rather than a silent change.
    """
    pair = value if isinstance(value, (tuple, list)) else (value, value)
    try:
        first, second = (operator.index(v) for v in pair)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}") from None
    if first != second:
        raise ValueError(f"{op}: {name}={tuple(pair)} differs between the two axes; minigan's "
                         f"kernels support only {_SAME_ON_BOTH_AXES[name]}")
    return first
