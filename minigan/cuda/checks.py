"""Argument checks for the CUDA launch wrappers in ``minigan.cuda``, as pure functions.

A kernel trusts its arguments: a wrong shape is an out-of-bounds read, not an exception. So every
wrapper calls one of the ``check_*`` functions below before it launches anything, and they raise
``TypeError`` (wrong kind of array, wrong dtype) or ``ValueError`` (shape, layout, size) with a
message that names the argument and what was expected.

They only look at ``.shape``, ``.dtype``, ``.flags.c_contiguous`` and, for the device checks, the
array's type and ``.device.id``, so the CPU tests exercise them with NumPy arrays; nothing here
imports CuPy.

The kernels index GEMM rows/columns and per-image offsets with 32-bit ints (memory offsets are
64-bit), so sizes must stay below ``INDEX_LIMIT``; a grid's y and z sizes below 65536.
"""
import operator

from minigan.backend import device_of
from minigan.reference import geometry

INDEX_LIMIT = 2**31 - 2**20      # int32 with room for `index + grid stride` not to overflow
GRID_YZ_LIMIT = 65535
FLOAT_DTYPES = ("float32", "float64")


# --- devices -----------------------------------------------------------------------------------

def require_gpu_arrays(op, **arrays):
    """TypeError unless every given array (None is skipped) lives on a CUDA device: a CuPy
    array, or an array of minigan's CUDA emulator."""
    for name, a in arrays.items():
        if a is not None and device_of(a) == "cpu":
            kind = f"{type(a).__module__}.{type(a).__name__}"
            raise TypeError(f"{op}: {name} must be an array on a CUDA device (CuPy, or "
                            f"minigan.emulator), got {kind} (NumPy arrays go to "
                            f"minigan.reference)")


def require_same_device(op, **arrays):
    """ValueError when the arrays live on different GPUs; returns the common device id."""
    devices = {name: a.device.id for name, a in arrays.items() if a is not None}
    if len(set(devices.values())) > 1:
        where = ", ".join(f"{name} on GPU {device}" for name, device in devices.items())
        raise ValueError(f"{op}: all arrays must be on the same GPU, got {where}")
    return next(iter(devices.values()))


# --- small checks ------------------------------------------------------------------------------

def check_shape_tuple(op, name, shape, ndim):
    """A tuple of ``ndim`` non-negative ints (x_shape, w_shape arguments)."""
    try:
        shape = tuple(operator.index(s) for s in shape)
    except TypeError:
        raise TypeError(f"{op}: {name} must be a tuple of {ndim} ints, got {shape!r}") from None
    if len(shape) != ndim or min(shape) < 0:
        raise ValueError(f"{op}: {name} must be a tuple of {ndim} non-negative ints, got {shape}")
    return shape


def check_float_array(op, name, a, ndim, layout):
    """float32/float64, ``ndim`` dimensions, C-contiguous."""
    if str(a.dtype) not in FLOAT_DTYPES:
        raise TypeError(f"{op}: {name} must be float32 or float64, got {a.dtype}")
    check_layout(op, name, a, ndim, layout)


def check_layout(op, name, a, ndim, layout):
    if a.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {layout}, got shape {tuple(a.shape)}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{op}: {name} must be C-contiguous (use ascontiguousarray), got shape "
                         f"{tuple(a.shape)} with strides {tuple(a.strides)}")


def check_same_dtype(op, first_name, first, **others):
    for name, a in others.items():
        if a is not None and a.dtype != first.dtype:
            raise TypeError(f"{op}: {name} must have the dtype of {first_name} ({first.dtype}), "
                            f"got {a.dtype}")


def check_sizes(op, **sizes):
    """ValueError when a size the kernels index with int32 reaches INDEX_LIMIT."""
    for name, size in sizes.items():
        if size >= INDEX_LIMIT:
            raise ValueError(f"{op}: {name} = {size} is too large for the kernels' 32-bit "
                             f"indices (limit {INDEX_LIMIT}); split the batch")


def _check_image(op, name, n, c, h, w):
    if n == 0:
        raise ValueError(f"{op}: {name} has an empty batch (N = 0); nothing to launch")
    if c == 0 or h == 0 or w == 0:
        raise ValueError(f"{op}: {name} must have C, H, W >= 1, got (N, C, H, W) = "
                         f"{(n, c, h, w)}")


# --- convolution -------------------------------------------------------------------------------

def conv2d_geometry(op, x_shape, w_shape, stride, padding):
    """The convolution's geometry (``minigan.reference.geometry``), plus what the kernels need:
    a non-empty batch and sizes their 32-bit indices and grids can hold."""
    g = geometry.conv2d_geometry(op, x_shape, w_shape, stride, padding)
    _check_image(op, "x", g.N, g.C, g.H, g.W)
    check_sizes(op, **{"N*H*W": g.N * g.H * g.W, "N*Ho*Wo": g.N * g.Ho * g.Wo,
                       "C*H*W": g.C * g.H * g.W, "F*Ho*Wo": g.F * g.Ho * g.Wo,
                       "C*K*K": g.C * g.K * g.K, "F*K*K": g.F * g.K * g.K,
                       "F*C*K*K": g.F * g.C * g.K * g.K})
    if max(g.F, g.C) > 16 * GRID_YZ_LIMIT:
        raise ValueError(f"{op}: at most {16 * GRID_YZ_LIMIT} channels/filters, got C={g.C}, "
                         f"F={g.F}")
    return g


def check_conv2d_forward(x, w, b, stride, padding, residual=None):
    """ConvGeometry; ``residual`` (None, or the output's shape) is what the epilogue adds."""
    op = "conv2d_forward"
    check_float_array(op, "x", x, 4, "(N, C, H, W)")
    check_same_dtype(op, "x", x, w=w, b=b, residual=residual)
    check_layout(op, "w", w, 4, "(F, C, K, K)")
    g = conv2d_geometry(op, tuple(x.shape), tuple(w.shape), stride, padding)
    if b is not None:
        check_layout(op, "b", b, 1, f"(F,) = ({g.F},)")
        if tuple(b.shape) != (g.F,):
            raise ValueError(f"{op}: b must have shape ({g.F},), got {tuple(b.shape)}")
    if residual is not None:
        expected = (g.N, g.F, g.Ho, g.Wo)
        check_layout(op, "residual", residual, 4, f"the output shape {expected}")
        if tuple(residual.shape) != expected:
            raise ValueError(f"{op}: residual must have the output shape {expected}, got "
                             f"{tuple(residual.shape)}")
    return g


def _check_gy(op, gy, g, channels):
    expected = (g.N, channels, g.Ho, g.Wo)
    if tuple(gy.shape) != expected:
        raise ValueError(f"{op}: gy must have the output shape {expected}, got {tuple(gy.shape)}")


def check_conv2d_backward_input(gy, w, x_shape, stride, padding):
    op = "conv2d_backward_input"
    check_float_array(op, "gy", gy, 4, "(N, F, Ho, Wo)")
    check_same_dtype(op, "gy", gy, w=w)
    check_layout(op, "w", w, 4, "(F, C, K, K)")
    x_shape = check_shape_tuple(op, "x_shape", x_shape, 4)
    g = conv2d_geometry(op, x_shape, tuple(w.shape), stride, padding)
    _check_gy(op, gy, g, g.F)
    return g


def check_conv2d_backward_weight(gy, x, w_shape, stride, padding):
    op = "conv2d_backward_weight"
    check_float_array(op, "gy", gy, 4, "(N, F, Ho, Wo)")
    check_same_dtype(op, "gy", gy, x=x)
    check_layout(op, "x", x, 4, "(N, C, H, W)")
    w_shape = check_shape_tuple(op, "w_shape", w_shape, 4)
    g = conv2d_geometry(op, tuple(x.shape), w_shape, stride, padding)
    _check_gy(op, gy, g, g.F)
    return g


def check_conv2d_backward_bias(gy):
    """Returns (N, F, Ho, Wo)."""
    op = "conv2d_backward_bias"
    check_float_array(op, "gy", gy, 4, "(N, F, Ho, Wo)")
    n, f, ho, wo = gy.shape
    _check_image(op, "gy", n, f, ho, wo)
    check_sizes(op, **{"F*Ho*Wo": f * ho * wo})
    return n, f, ho, wo


# --- max-pooling -------------------------------------------------------------------------------

def pool_geometry(op, x_shape, kernel, stride, padding):
    """The pooling's geometry (``minigan.reference.geometry``), plus a non-empty batch and sizes
    the kernels' indices can hold."""
    g = geometry.pool_geometry(op, x_shape, kernel, stride, padding)
    _check_image(op, "x", g.N, g.C, g.H, g.W)
    check_sizes(op, **{"N*C": g.N * g.C, "H*W": g.H * g.W})
    return g


def check_max_pool2d_forward(x, kernel, stride, padding):
    op = "max_pool2d_forward"
    check_float_array(op, "x", x, 4, "(N, C, H, W)")
    return pool_geometry(op, tuple(x.shape), kernel, stride, padding)


def check_max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding):
    op = "max_pool2d_backward"
    check_float_array(op, "gy", gy, 4, "(N, C, Ho, Wo)")
    if str(argmax.dtype) != "int8":
        raise TypeError(f"{op}: argmax must be int8 (from max_pool2d_forward), got {argmax.dtype}")
    check_layout(op, "argmax", argmax, 4, "(N, C, Ho, Wo)")
    x_shape = check_shape_tuple(op, "x_shape", x_shape, 4)
    g = pool_geometry(op, x_shape, kernel, stride, padding)
    expected = (g.N, g.C, g.Ho, g.Wo)
    for name, a in (("gy", gy), ("argmax", argmax)):
        if tuple(a.shape) != expected:
            raise ValueError(f"{op}: {name} must have the pooled shape {expected}, "
                             f"got {tuple(a.shape)}")
    return g


# --- patch cross-entropy -----------------------------------------------------------------------

def check_patch_xent(logits, labels):
    """Returns (N, C, H, W). Label values are not read here (that would wait for the GPU): the
    kernel turns a label outside [0, C) into a NaN loss, and the op checks the range."""
    op = "patch_cross_entropy"
    check_float_array(op, "logits", logits, 4, "(N, C, H, W)")
    n, c, h, w = logits.shape
    _check_image(op, "logits", n, c, h, w)
    if str(labels.dtype) != "int32":
        raise TypeError(f"{op}: labels must be int32, got {labels.dtype}")
    check_layout(op, "labels", labels, 3, f"(N, H, W) = {(n, h, w)}")
    if tuple(labels.shape) != (n, h, w):
        raise ValueError(f"{op}: labels must have shape {(n, h, w)} for logits of shape "
                         f"{tuple(logits.shape)}, got {tuple(labels.shape)}")
    check_sizes(op, **{"N*H*W": n * h * w, "C*H*W": c * h * w})
    return n, c, h, w
