"""Convolution on the GPU: launch wrappers for ``kernels/conv2d.cu``, same API as
``minigan.reference.conv_spec``.

    conv2d_forward(x, w, b, stride, padding)                 -> y        (N, F, Ho, Wo)
    conv2d_backward_input(gy, w, x_shape, stride, padding)   -> gx       (N, C, H, W)
    conv2d_backward_weight(gy, x, w_shape, stride, padding)  -> gw       (F, C, K, K)
    conv2d_backward_bias(gy)                                 -> gb       (F,)

Each checks its arguments (``minigan.cuda.checks``) before any launch, allocates its outputs on
the arrays' device and launches on the current stream.

Beyond the reference's API: the three GEMM passes take ``tf32`` (float32 operands rounded to
TF32 on tensor cores; None: ``minigan.backend.precision.allow_tf32``, used on devices of compute
capability 8.0 or more only), and the forward pass fuses an epilogue:
``y = max(0, conv(x, w) + b + residual)`` with ``residual`` (N, F, Ho, Wo) and ``relu``
optional.
"""
import numpy as np

from minigan.backend import get_array_module, precision
from minigan.cuda import checks
from minigan.cuda.compiler import (CTYPES, TF32_MIN_COMPUTE_CAPABILITY, compute_capability,
                                   int32_args, launch, occupancy, on_common_device, sm_count)
from minigan.cuda.plans import BLOCK, bias_plan, cdiv, pixel_tile, split_k_plan, weight_tile


def _reduce_splits(xp, partial, out, splits, count):
    ctype = CTYPES[str(out.dtype)]
    grid = (min(cdiv(count, BLOCK), 4096),)
    launch(xp, "conv2d", f"reduce_splits<{ctype}>", grid, (BLOCK,),
           (partial, out, np.int32(splits), np.int64(count)))


def _conv_ints(g):
    return int32_args(g.N, g.C, g.H, g.W, g.F, g.K, g.stride, g.padding, g.Ho, g.Wo)


def uses_tf32(xp, dtype, tf32=None):
    """Whether a conv pass on ``dtype`` arrays runs on tensor cores with TF32 operands:
    float32, asked for (``tf32``, or by default ``precision.allow_tf32``), and a device of
    compute capability 8.0 or more."""
    wanted = precision.allow_tf32 if tf32 is None else bool(tf32)
    return (wanted and str(dtype) == "float32"
            and compute_capability(xp) >= TF32_MIN_COMPUTE_CAPABILITY)


def conv2d_forward(x, w, b, stride, padding, *, relu=False, residual=None, tf32=None):
    """y = conv(x, w) + b (+ residual) (then max(0, y) when relu). x (N,C,H,W), w (F,C,K,K),
    b (F,) or None, residual (N,F,Ho,Wo) or None -> y (N,F,Ho,Wo), Ho = (H + 2p - K)//s + 1."""
    op = "conv2d_forward"
    checks.require_gpu_arrays(op, x=x, w=w, b=b, residual=residual)
    xp = get_array_module(x)
    g = checks.check_conv2d_forward(x, w, b, stride, padding, residual)
    with on_common_device(op, x=x, w=w, b=b, residual=residual):
        y = xp.empty((g.N, g.F, g.Ho, g.Wo), dtype=x.dtype)
        tile = pixel_tile(g.F, uses_tf32(xp, x.dtype, tf32))
        grid = (cdiv(g.N * g.Ho * g.Wo, tile.bn), cdiv(g.F, tile.bm), 1)
        bias = w if b is None else b                        # never read when has_bias == 0
        extra = w if residual is None else residual         # never read when has_residual == 0
        launch(xp, "conv2d", f"conv2d_forward<{CTYPES[str(x.dtype)]}, {tile.name}>", grid,
               (tile.threads,), (x, w, bias, extra, y)
               + int32_args(b is not None, residual is not None, bool(relu)) + _conv_ints(g))
    return y


def conv2d_backward_input(gy, w, x_shape, stride, padding, *, tf32=None):
    """dL/dx (N,C,H,W) from gy = dL/dy (N,F,Ho,Wo) and w (F,C,K,K)."""
    op = "conv2d_backward_input"
    checks.require_gpu_arrays(op, gy=gy, w=w)
    xp = get_array_module(gy)
    g = checks.check_conv2d_backward_input(gy, w, x_shape, stride, padding)
    with on_common_device(op, gy=gy, w=w):
        gx = xp.empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)
        tile = pixel_tile(g.C, uses_tf32(xp, gy.dtype, tf32))
        grid = (cdiv(g.N * g.H * g.W, tile.bn), cdiv(g.C, tile.bm), 1)
        launch(xp, "conv2d", f"conv2d_backward_input<{CTYPES[str(gy.dtype)]}, {tile.name}>", grid,
               (tile.threads,), (gy, w, gx) + _conv_ints(g))
    return gx


def conv2d_backward_weight(gy, x, w_shape, stride, padding, *, tf32=None):
    """dL/dw (F,C,K,K) = sum over n, oh, ow of gy[n,f,oh,ow] * x window; split-K (as many
    splits as fill whole waves of the GPU at the kernel's occupancy), then a fixed-order sum."""
    op = "conv2d_backward_weight"
    checks.require_gpu_arrays(op, gy=gy, x=x)
    xp = get_array_module(gy)
    g = checks.check_conv2d_backward_weight(gy, x, w_shape, stride, padding)
    with on_common_device(op, gy=gy, x=x):
        taps = g.C * g.K * g.K
        tile = weight_tile(g.F, taps, uses_tf32(xp, gy.dtype, tf32))
        kernel = f"conv2d_backward_weight<{CTYPES[str(gy.dtype)]}, {tile.name}>"
        splits, k_chunk = split_k_plan(tile, g.F, taps, g.N * g.Ho * g.Wo, sm_count(xp),
                                       occupancy(xp, "conv2d", kernel, tile.threads))
        gw = xp.empty((g.F, g.C, g.K, g.K), dtype=gy.dtype)
        partial = gw if splits == 1 else xp.empty((splits, g.F, taps), dtype=gy.dtype)
        grid = (cdiv(taps, tile.bn), cdiv(g.F, tile.bm), splits)
        launch(xp, "conv2d", kernel, grid, (tile.threads,),
               (gy, x, partial, np.int32(k_chunk)) + _conv_ints(g))
        if splits > 1:
            _reduce_splits(xp, partial, gw, splits, g.F * taps)
    return gw


def conv2d_backward_bias(gy):
    """dL/db (F,) = sum of gy over n, oh, ow (split over images, then added in order)."""
    op = "conv2d_backward_bias"
    checks.require_gpu_arrays(op, gy=gy)
    xp = get_array_module(gy)
    n, f, ho, wo = checks.check_conv2d_backward_bias(gy)
    with gy.device:
        splits, per_split = bias_plan(n, f, sm_count(xp))
        gb = xp.empty((f,), dtype=gy.dtype)
        partial = gb if splits == 1 else xp.empty((splits, f), dtype=gy.dtype)
        launch(xp, "conv2d", f"conv2d_backward_bias<{CTYPES[str(gy.dtype)]}>", (f, splits, 1),
               (BLOCK,), (gy, partial) + int32_args(n, f, ho * wo, per_split))
        if splits > 1:
            _reduce_splits(xp, partial, gb, splits, f)
    return gb
