"""minigan's hand-written CUDA kernels: compile ``kernels/*.cu`` with CuPy, check, launch.

Every public function has the name, signature and results of its NumPy reference in
``minigan.reference`` (the spec), on CuPy arrays instead, so an op dispatches with
``impl = minigan.cuda if xp is cupy else minigan.reference``:

    conv2d_forward(x, w, b, stride, padding)                 -> y        (N, F, Ho, Wo)
    conv2d_backward_input(gy, w, x_shape, stride, padding)   -> gx       (N, C, H, W)
    conv2d_backward_weight(gy, x, w_shape, stride, padding)  -> gw       (F, C, K, K)
    conv2d_backward_bias(gy)                                 -> gb       (F,)
    max_pool2d_forward(x, kernel, stride, padding)           -> y, argmax (int8)
    max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding) -> gx
    patch_cross_entropy_forward(logits, labels)              -> loss (N, H, W), dlogits
    patch_cross_entropy_sum(logits, labels)                  -> total (0-d), dlogits  [fused sum]

Each wrapper checks dtype, layout, shapes and device with ``minigan.cuda_checks`` before any
launch (so importing this module and calling it with NumPy arrays gives a TypeError, not a
crash), allocates the outputs on the arrays' GPU and launches on CuPy's current stream.

Each ``.cu`` file is compiled once per process and GPU by ``cupy.RawModule`` through NVRTC;
CuPy caches the binary on disk across processes. Templates are fetched by name expression,
e.g. ``conv2d_forward<float, TileBig>``.
"""
import hashlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import cuda_checks as checks


# --- finding and compiling the sources ---------------------------------------------------------

def kernels_dir():
    """The folder holding conv2d.cu & co: minigan/kernels once installed, else repo/kernels."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "kernels", here.parent / "kernels"):
        if (candidate / "conv2d.cu").is_file():
            return candidate
    raise FileNotFoundError(f"minigan.cuda: no kernels/conv2d.cu next to {here} or in "
                            f"{here.parent}; reinstall minigan (it ships the .cu files)")


class Tile(NamedTuple):
    """A conv GEMM tile as declared in kernels/conv2d.cu (keep the two in step)."""
    name: str
    bm: int       # rows of out (filters / channels) per block
    bn: int       # columns of out (pixels / weight taps) per block
    bk: int       # reduction step
    threads: int


TILE_BIG = Tile("TileBig", 64, 128, 8, 128)
TILE_SMALL_M = Tile("TileSmallM", 16, 128, 8, 128)
TILE_SMALL_N = Tile("TileSmallN", 64, 32, 8, 128)
PIXEL_TILES = (TILE_BIG, TILE_SMALL_M)                 # forward and grad input
WEIGHT_TILES = (TILE_BIG, TILE_SMALL_M, TILE_SMALL_N)  # grad weight

CTYPES = {"float32": "float", "float64": "double"}
BLOCK = 256              # threads per block of the elementwise-style kernels
XENT_MAX_BLOCKS = 1024   # partial sums of the fused loss; sum_partials adds them in one block
MIN_TILES_PER_SPLIT = 16  # a split-K block reduces at least 16 * BK pixels

SOURCES = {
    "conv2d": ("conv2d.cu",
               [f"{name}<{t}, {tile.name}>" for name in ("conv2d_forward", "conv2d_backward_input")
                for t in CTYPES.values() for tile in PIXEL_TILES]
               + [f"conv2d_backward_weight<{t}, {tile.name}>"
                  for t in CTYPES.values() for tile in WEIGHT_TILES]
               + [f"{name}<{t}>" for name in ("conv2d_backward_bias", "reduce_splits")
                  for t in CTYPES.values()]),
    "maxpool2d": ("maxpool2d.cu", [f"{name}<{t}>" for name in ("max_pool2d_forward",
                                                               "max_pool2d_backward")
                                   for t in CTYPES.values()]),
    "patch_xent": ("patch_xent.cu", [f"{name}<{t}>" for name in ("patch_xent_forward",
                                                                 "sum_partials")
                                     for t in CTYPES.values()]),
}

_modules = {}        # (source, device id) -> cupy.RawModule
_functions = {}      # (source, device id, name expression) -> cupy.RawKernel
_sm_counts = {}      # device id -> multiprocessor count


def _cupy():
    import cupy
    return cupy


def _module(source):
    """The compiled RawModule of kernels/<source>.cu for the current GPU (built once)."""
    cupy = _cupy()
    key = (source, cupy.cuda.Device().id)
    if key not in _modules:
        directory = kernels_dir()
        filename, expressions = SOURCES[source]
        code = (directory / filename).read_text(encoding="utf-8")
        # CuPy's disk cache is keyed on this text only, so name the header's version in it.
        header = (directory / "common.cuh").read_bytes()
        code += f"\n// common.cuh sha256 {hashlib.sha256(header).hexdigest()}\n"
        _modules[key] = cupy.RawModule(code=code, options=("--std=c++17", f"-I{directory}"),
                                       name_expressions=expressions)
    return _modules[key]


def _launch(source, expression, grid, block, args):
    key = (source, _cupy().cuda.Device().id, expression)
    if key not in _functions:
        _functions[key] = _module(source).get_function(expression)
    _functions[key](grid, block, args)


def _device(op, **arrays):
    """The common GPU of the arrays, as a context manager (ValueError if they differ)."""
    checks.require_same_device(op, **arrays)
    return next(a for a in arrays.values() if a is not None).device


def _sm_count():
    cupy = _cupy()
    device = cupy.cuda.Device()
    if device.id not in _sm_counts:
        _sm_counts[device.id] = int(device.attributes["MultiProcessorCount"])
    return _sm_counts[device.id]


def _ints(*values):
    return tuple(np.int32(v) for v in values)


def _cdiv(a, b):
    return -(-a // b)


# --- launch planning (pure: tested on the CPU) -------------------------------------------------

def pixel_tile(rows):
    """Tile for forward / grad input, whose GEMM has ``rows`` = F or C rows."""
    return TILE_BIG if rows > TILE_SMALL_M.bm else TILE_SMALL_M


def weight_tile(filters, taps):
    """Tile for grad weight: out is (F, C*K*K)."""
    if filters <= TILE_SMALL_M.bm:
        return TILE_SMALL_M
    if taps <= TILE_SMALL_N.bn:
        return TILE_SMALL_N
    return TILE_BIG


def split_k_plan(tile, rows, columns, reduction, sm_count):
    """(splits, k_chunk) for grad weight: enough blocks to fill ~4 waves of the GPU, each split
    a multiple of BK long and at least MIN_TILES_PER_SPLIT tiles; splits * k_chunk >= reduction
    and no split is empty."""
    k_tiles = _cdiv(reduction, tile.bk)
    tiles_mn = _cdiv(rows, tile.bm) * _cdiv(columns, tile.bn)
    wanted = max(1, (4 * sm_count) // tiles_mn)
    splits = max(1, min(wanted, k_tiles // MIN_TILES_PER_SPLIT, checks.GRID_YZ_LIMIT))
    chunk_tiles = _cdiv(k_tiles, splits)
    return _cdiv(k_tiles, chunk_tiles), chunk_tiles * tile.bk


def bias_plan(n_images, filters, sm_count):
    """(splits, images_per_split) for grad bias: grid (F, splits), no split empty."""
    wanted = max(1, (4 * sm_count) // filters)
    per_split = _cdiv(n_images, min(n_images, wanted, checks.GRID_YZ_LIMIT))
    return _cdiv(n_images, per_split), per_split


def _reduce_splits(partial, out, splits, count):
    ctype = CTYPES[str(out.dtype)]
    grid = (min(_cdiv(count, BLOCK), 4096),)
    _launch("conv2d", f"reduce_splits<{ctype}>", grid, (BLOCK,),
            (partial, out, np.int32(splits), np.int64(count)))


# --- convolution -------------------------------------------------------------------------------

def _conv_ints(g):
    return _ints(g.N, g.C, g.H, g.W, g.F, g.K, g.stride, g.padding, g.Ho, g.Wo)


def conv2d_forward(x, w, b, stride, padding, *, relu=False):
    """y = conv(x, w) + b (then max(0, y) when relu). x (N,C,H,W), w (F,C,K,K), b (F,) or None
    -> y (N,F,Ho,Wo), Ho = (H + 2p - K)//s + 1."""
    op = "conv2d_forward"
    checks.require_gpu_arrays(op, x=x, w=w, b=b)
    g = checks.check_conv2d_forward(x, w, b, stride, padding)
    with _device(op, x=x, w=w, b=b):
        y = _cupy().empty((g.N, g.F, g.Ho, g.Wo), dtype=x.dtype)
        tile = pixel_tile(g.F)
        grid = (_cdiv(g.N * g.Ho * g.Wo, tile.bn), _cdiv(g.F, tile.bm), 1)
        bias = w if b is None else b   # never read when has_bias == 0
        _launch("conv2d", f"conv2d_forward<{CTYPES[str(x.dtype)]}, {tile.name}>", grid,
                (tile.threads,), (x, w, bias, y) + _ints(b is not None, bool(relu))
                + _conv_ints(g))
    return y


def conv2d_backward_input(gy, w, x_shape, stride, padding):
    """dL/dx (N,C,H,W) from gy = dL/dy (N,F,Ho,Wo) and w (F,C,K,K)."""
    op = "conv2d_backward_input"
    checks.require_gpu_arrays(op, gy=gy, w=w)
    g = checks.check_conv2d_backward_input(gy, w, x_shape, stride, padding)
    with _device(op, gy=gy, w=w):
        gx = _cupy().empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)
        tile = pixel_tile(g.C)
        grid = (_cdiv(g.N * g.H * g.W, tile.bn), _cdiv(g.C, tile.bm), 1)
        _launch("conv2d", f"conv2d_backward_input<{CTYPES[str(gy.dtype)]}, {tile.name}>", grid,
                (tile.threads,), (gy, w, gx) + _conv_ints(g))
    return gx


def conv2d_backward_weight(gy, x, w_shape, stride, padding):
    """dL/dw (F,C,K,K) = sum over n, oh, ow of gy[n,f,oh,ow] * x window; split-K, two passes."""
    op = "conv2d_backward_weight"
    checks.require_gpu_arrays(op, gy=gy, x=x)
    g = checks.check_conv2d_backward_weight(gy, x, w_shape, stride, padding)
    cupy = _cupy()
    with _device(op, gy=gy, x=x):
        taps = g.C * g.K * g.K
        tile = weight_tile(g.F, taps)
        splits, k_chunk = split_k_plan(tile, g.F, taps, g.N * g.Ho * g.Wo, _sm_count())
        gw = cupy.empty((g.F, g.C, g.K, g.K), dtype=gy.dtype)
        partial = gw if splits == 1 else cupy.empty((splits, g.F, taps), dtype=gy.dtype)
        grid = (_cdiv(taps, tile.bn), _cdiv(g.F, tile.bm), splits)
        ctype = CTYPES[str(gy.dtype)]
        _launch("conv2d", f"conv2d_backward_weight<{ctype}, {tile.name}>", grid,
                (tile.threads,), (gy, x, partial, np.int32(k_chunk)) + _conv_ints(g))
        if splits > 1:
            _reduce_splits(partial, gw, splits, g.F * taps)
    return gw


def conv2d_backward_bias(gy):
    """dL/db (F,) = sum of gy over n, oh, ow (split over images, then added in order)."""
    op = "conv2d_backward_bias"
    checks.require_gpu_arrays(op, gy=gy)
    n, f, ho, wo = checks.check_conv2d_backward_bias(gy)
    cupy = _cupy()
    with gy.device:
        splits, per_split = bias_plan(n, f, _sm_count())
        gb = cupy.empty((f,), dtype=gy.dtype)
        partial = gb if splits == 1 else cupy.empty((splits, f), dtype=gy.dtype)
        _launch("conv2d", f"conv2d_backward_bias<{CTYPES[str(gy.dtype)]}>", (f, splits, 1),
                (BLOCK,), (gy, partial) + _ints(n, f, ho * wo, per_split))
        if splits > 1:
            _reduce_splits(partial, gb, splits, f)
    return gb


# --- max-pooling -------------------------------------------------------------------------------

def _pool_ints(g):
    return _ints(g.N * g.C, g.H, g.W, g.K, g.stride, g.padding, g.Ho, g.Wo)


def max_pool2d_forward(x, kernel, stride, padding):
    """(y, argmax): y (N,C,Ho,Wo) like x, argmax int8 = ky*K + kx of each window's maximum."""
    op = "max_pool2d_forward"
    checks.require_gpu_arrays(op, x=x)
    g = checks.check_max_pool2d_forward(x, kernel, stride, padding)
    cupy = _cupy()
    with x.device:
        y = cupy.empty((g.N, g.C, g.Ho, g.Wo), dtype=x.dtype)
        argmax = cupy.empty((g.N, g.C, g.Ho, g.Wo), dtype=np.int8)
        grid = (_cdiv(g.Ho * g.Wo, BLOCK), min(g.N * g.C, checks.GRID_YZ_LIMIT), 1)
        _launch("maxpool2d", f"max_pool2d_forward<{CTYPES[str(x.dtype)]}>", grid, (BLOCK,),
                (x, y, argmax) + _pool_ints(g))
    return y, argmax


def max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding):
    """dL/dx (N,C,H,W): each input pixel gathers gy from the windows whose argmax it is."""
    op = "max_pool2d_backward"
    checks.require_gpu_arrays(op, gy=gy, argmax=argmax)
    g = checks.check_max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding)
    with _device(op, gy=gy, argmax=argmax):
        gx = _cupy().empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)
        grid = (_cdiv(g.H * g.W, BLOCK), min(g.N * g.C, checks.GRID_YZ_LIMIT), 1)
        _launch("maxpool2d", f"max_pool2d_backward<{CTYPES[str(gy.dtype)]}>", grid, (BLOCK,),
                (gy, argmax, gx) + _pool_ints(g))
    return gx


# --- patch cross-entropy -----------------------------------------------------------------------

def _xent(logits, labels, fused_sum):
    op = "patch_cross_entropy"
    checks.require_gpu_arrays(op, logits=logits, labels=labels)
    n, c, h, w = checks.check_patch_xent(logits, labels)
    cupy = _cupy()
    ctype = CTYPES[str(logits.dtype)]
    with _device(op, logits=logits, labels=labels):
        dlogits = cupy.empty((n, c, h, w), dtype=logits.dtype)
        blocks = min(_cdiv(n * h * w, BLOCK), XENT_MAX_BLOCKS)
        if fused_sum:
            loss = dlogits                                   # not written (write_loss = 0)
            partials = cupy.empty((blocks,), dtype=logits.dtype)
        else:
            loss = cupy.empty((n, h, w), dtype=logits.dtype)
            partials = loss                                  # not written (write_partials = 0)
        _launch("patch_xent", f"patch_xent_forward<{ctype}>", (blocks,), (BLOCK,),
                (logits, labels, loss, dlogits, partials)
                + _ints(not fused_sum, fused_sum, n, c, h * w))
        if not fused_sum:
            return loss, dlogits
        total = cupy.empty((), dtype=logits.dtype)
        _launch("patch_xent", f"sum_partials<{ctype}>", (1,), (1024,),
                (partials, total, np.int32(blocks)))
    return total, dlogits


def patch_cross_entropy_forward(logits, labels):
    """(loss (N,H,W), dlogits (N,C,H,W)): per-patch logsumexp_c z - z_label and softmax - onehot.
    logits float (N,C,H,W), labels int32 (N,H,W) in [0, C) (outside: NaN for that patch)."""
    return _xent(logits, labels, fused_sum=False)


def patch_cross_entropy_sum(logits, labels):
    """(total, dlogits): the summed loss as a 0-d array (deterministic two-pass reduction) and
    the per-patch gradient, in one fused kernel plus a one-block sum."""
    return _xent(logits, labels, fused_sum=True)


__all__ = ["conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
           "conv2d_backward_bias", "max_pool2d_forward", "max_pool2d_backward",
           "patch_cross_entropy_forward", "patch_cross_entropy_sum", "kernels_dir"]
