"""The convolution forward kernel, version by version: run one, check it against the NumPy
reference, time it on a GPU (llm.c's ``dev/cuda`` harness, for minigan's kernels).

    v1  kernels/dev/conv2d_v1_naive.cu   one thread per output, everything from global memory
    v2  kernels/dev/conv2d_v2_tiled.cu   16 x 16 tiles of the implicit GEMM in shared memory
    v3  kernels/conv2d.cu                minigan's kernel (``minigan.cuda.conv2d_forward``)

    forward(version, x, w, b, stride, padding, code=None) -> y     on device arrays
    check(version, shape, dtype, device, code=None)       -> Check (error against the bound)
    time_forward(version, shape, device)                  -> Timing (GPU only)

``shape`` is (N, C, H, W, F, K, stride, padding). ``code`` runs another source for v1 or v2 in
its place (a student's edit, a deliberately broken variant); ``device`` is ``"cuda"`` or
``"emulator"`` (``minigan.backend.kernel_device()`` picks the one usable here).

A float32 result passes when, elementwise,

    |y - y_ref| <= eps * (4 sqrt(L) + 4) * scale,   L = C*K*K terms per output,

where y_ref is the float64 reference and scale the same convolution of |x|, |w|, |b|: the
rounding error a sum of L products may make. float64 gets the same bound with its own eps.
"""
import hashlib
import math
from typing import NamedTuple

import numpy as np

from minigan import cuda, reference
from minigan.backend import get_array_module, to_numpy, xp_for
from minigan.benchmarks.timing import conv_flops, cupy_sync, gpu_name, median_ms, peak_for
from minigan.cuda import checks
from minigan.cuda.compiler import CTYPES, compile_options, int32_args, kernels_dir
from minigan.cuda.plans import cdiv


class Version(NamedTuple):
    name: str
    title: str
    source: str       # path under kernels/
    kernel: str       # the template's name ("" for v3: minigan.cuda launches it)
    block: int        # threads per block
    tile: int         # outputs per block along each GEMM axis (0: one thread per output)


VERSIONS = {
    "v1": Version("v1", "naive: one thread per output", "dev/conv2d_v1_naive.cu",
                  "conv2d_v1_naive", 256, 0),
    "v2": Version("v2", "tiled: 16 x 16 tiles in shared memory", "dev/conv2d_v2_tiled.cu",
                  "conv2d_v2_tiled", 256, 16),
    "v3": Version("v3", "minigan's: register blocks, double buffering", "conv2d.cu", "", 128, 0),
}


class Check(NamedTuple):
    version: str
    shape: tuple
    dtype: str
    worst: float      # max of |error| / bound over the outputs (inf when one is NaN)
    max_error: float  # max |y - y_ref| over the finite outputs
    nan_count: int    # outputs that are NaN (an unwritten output on the emulator)

    @property
    def ok(self):
        return self.worst <= 1.0


class Timing(NamedTuple):
    version: str
    shape: tuple
    ms: float
    tflops: float
    pct_peak: float   # of the GPU's fp32 peak, NaN when the GPU is not in the peak table


def version(name):
    """The ``Version`` called ``name``; ValueError naming the known ones otherwise."""
    if name not in VERSIONS:
        raise ValueError(f"kernel_lab: unknown version {name!r}; known: {', '.join(VERSIONS)}")
    return VERSIONS[name]


def source(name):
    """The text of a version's ``.cu`` file."""
    return (kernels_dir() / version(name).source).read_text(encoding="utf-8")


_modules = {}   # (array module, device id, sha256 of the code) -> RawModule


def _kernel(xp, v, code, ctype):
    header = (kernels_dir() / "common.cuh").read_bytes()
    key_text = code + hashlib.sha256(header).hexdigest()
    key = (xp.__name__, xp.cuda.Device().id, hashlib.sha256(key_text.encode()).hexdigest())
    if key not in _modules:
        expressions = [f"{v.kernel}<{t}>" for t in CTYPES.values()]
        # the header's hash in the text: CuPy caches binaries by the source text alone
        text = code + f"\n// common.cuh sha256 {hashlib.sha256(header).hexdigest()}\n"
        _modules[key] = xp.RawModule(code=text, options=compile_options(),
                                     name_expressions=expressions)
    return _modules[key].get_function(f"{v.kernel}<{ctype}>")


def launch_geometry(name, g):
    """(grid, block) of a v1 or v2 launch for ``ConvGeometry`` g."""
    v = version(name)
    if v.tile:
        return (cdiv(g.N * g.Ho * g.Wo, v.tile), cdiv(g.F, v.tile), 1), (v.block,)
    return (cdiv(g.N * g.F * g.Ho * g.Wo, v.block), 1, 1), (v.block,)


def forward(name, x, w, b=None, stride=1, padding=0, code=None):
    """y (N, F, Ho, Wo) = conv(x, w) + b by kernel version ``name`` on device arrays; v3 in
    strict fp32, as v1 and v2 compute (its TF32 tensor-core path is not what is compared)."""
    v = version(name)
    if v.name == "v3":
        if code is not None:
            raise ValueError("kernel_lab: code= replaces v1 or v2 only (v3 is kernels/conv2d.cu)")
        return cuda.conv2d_forward(x, w, b, stride, padding, tf32=False)
    op = f"conv2d {name}"
    checks.require_gpu_arrays(op, x=x, w=w, b=b)
    g = checks.check_conv2d_forward(x, w, b, stride, padding)
    xp = get_array_module(x)
    with x.device:
        kernel = _kernel(xp, v, source(name) if code is None else code, CTYPES[str(x.dtype)])
        y = xp.empty((g.N, g.F, g.Ho, g.Wo), dtype=x.dtype)
        grid, block = launch_geometry(name, g)
        bias = w if b is None else b   # never read when has_bias is 0
        kernel(grid, block, (x, w, bias, y) + int32_args(b is not None, g.N, g.C, g.H, g.W, g.F,
                                                         g.K, g.stride, g.padding, g.Ho, g.Wo))
    return y


def inputs(shape, dtype, seed=0):
    """x, w, b of a (N, C, H, W, F, K, stride, padding) shape, standard normal, on the host."""
    n, c, h, w, f, k = shape[:6]
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, c, h, w)).astype(dtype),
            rng.standard_normal((f, c, k, k)).astype(dtype),
            rng.standard_normal(f).astype(dtype))


def error_bound(expected_abs, terms, dtype):
    """eps * (4 sqrt(terms) + 4) * scale (+ the smallest normal number, so 0 passes 0)."""
    info = np.finfo(dtype)
    return info.eps * (4 * math.sqrt(terms) + 4) * expected_abs + info.tiny


def check(name, shape, dtype, device, code=None, seed=0):
    """Run version ``name`` on ``device`` and compare with the float64 reference."""
    x, w, b = inputs(shape, dtype, seed)
    stride, padding = shape[6], shape[7]
    xp = xp_for(device)
    y = to_numpy(forward(name, xp.asarray(x), xp.asarray(w), xp.asarray(b), stride, padding,
                         code=code))
    f64 = [a.astype(np.float64) for a in (x, w, b)]
    expected = reference.conv2d_forward(*f64, stride, padding)
    scale = reference.conv2d_forward(*[np.abs(a) for a in f64], stride, padding)
    if y.shape != expected.shape:
        raise ValueError(f"kernel_lab: {name} returned shape {y.shape}, expected {expected.shape}")
    error = np.abs(y.astype(np.float64) - expected)
    nans = int(np.isnan(y).sum())
    ratio = error / error_bound(scale, w[0].size, dtype)
    worst = math.inf if nans else float(ratio.max())
    finite = error[np.isfinite(error)]
    return Check(name, tuple(shape), np.dtype(dtype).name, worst,
                 float(finite.max()) if finite.size else math.nan, nans)


def time_forward(name, shape, device="cuda", repeats=10):
    """Median ms of a float32 forward pass on a real GPU, with TFLOP/s and % of fp32 peak."""
    if device != "cuda":
        raise ValueError("kernel_lab: timings need a real GPU; the emulator checks a kernel's "
                         "results, not its speed")
    x, w, b = inputs(shape, np.float32)
    stride, padding = shape[6], shape[7]
    xp = xp_for("cuda")
    x, w, b = xp.asarray(x), xp.asarray(w), xp.asarray(b)
    ms = median_ms(lambda: forward(name, x, w, b, stride, padding), cupy_sync, repeats=repeats)
    n, c, h, wd, f, k = shape[:6]
    ho, wo = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    tflops = conv_flops(n, c, f, k, ho, wo) / ms / 1e9
    peak = peak_for(gpu_name() or "")
    return Timing(name, tuple(shape), ms, tflops, 100 * tflops / peak[0] if peak else math.nan)
