"""The GPU side of ``python -m minigan.bench``: minigan's conv kernels in strict fp32 and in TF32,
the peaks measured on this GPU, and a summary that sets every minigan row beside the cuDNN row
of the same precision, with its napkin math.

    FixedPrecisionConv(tf32)   minigan.cuda's conv passes with TF32 forced on or off
    with_tf32(step, enabled)   a whole-iteration step run in that precision
    counterpart(impl)          the minigan row a baseline is compared with: TF32 baselines with
                               "minigan tf32", every other one with "minigan" (fp32)
    measure_peaks(torch, n)    what this GPU does at best, measured here: an n^3 GEMM (8192)
                               in fp32 and in TF32 (cuBLAS), and a 1 GiB device-to-device copy
                               (median of 5 timed runs after a warm-up, device synchronized)
    summary(rows, iteration, peaks), format_summary(...)
                               per conv layer and pass: GFLOP, MB moved, ms of minigan fp32 /
                               cuDNN fp32 / minigan TF32 / cuDNN TF32, the two ratios and the %
                               of the measured peak; the whole iteration likewise

Ratios are minigan time / baseline time: > 1 means minigan is slower.
"""
from minigan.backend import precision
from minigan.benchmarks.timing import cupy_sync, median_ms, torch_sync

TF32_SUFFIX = " tf32"
GEMM_SIZE = 8192   # the peak-measuring GEMM is n x n x n; the copy moves 16 n^2 bytes (1 GiB)


class FixedPrecisionConv:
    """The conv passes of ``minigan.cuda`` with ``tf32`` fixed, whatever the global flag says."""

    def __init__(self, tf32):
        from minigan import cuda
        self.cuda, self.tf32 = cuda, tf32

    def conv2d_forward(self, x, w, b, stride, padding):
        return self.cuda.conv2d_forward(x, w, b, stride, padding, tf32=self.tf32)

    def conv2d_backward_input(self, gy, w, x_shape, stride, padding):
        return self.cuda.conv2d_backward_input(gy, w, x_shape, stride, padding, tf32=self.tf32)

    def conv2d_backward_weight(self, gy, x, w_shape, stride, padding):
        return self.cuda.conv2d_backward_weight(gy, x, w_shape, stride, padding, tf32=self.tf32)

    def conv2d_backward_bias(self, gy):
        return self.cuda.conv2d_backward_bias(gy)


def with_tf32(step, enabled):
    """``step`` run with ``minigan.backend.precision.allow_tf32 = enabled``."""
    def run():
        with precision.tf32(enabled):
            return step()
    return run


def counterpart(impl):
    """The minigan implementation whose time a baseline ``impl`` is divided into (None for
    minigan's own rows)."""
    if impl.startswith("minigan"):
        return None
    return "minigan" + TF32_SUFFIX if impl.endswith(TF32_SUFFIX) else "minigan"


# --- measured peaks ----------------------------------------------------------------------------

def measure_peaks(torch=None, n=GEMM_SIZE):
    """{'fp32_tflops', 'tf32_tflops', 'copy_gbps', 'how'}: the best this GPU does on an n^3
    GEMM (cuBLAS through torch, TF32 off then on; CuPy's fp32 matmul without torch) and a
    device copy of 16 n^2 bytes (read + write counted). TF32 is None without torch."""
    import cupy
    flops = 2 * n**3
    copy_bytes = 16 * n * n
    peaks = {}
    if torch is not None:
        a = torch.randn(n, n, device="cuda")
        b = torch.randn(n, n, device="cuda")
        saved = torch.backends.cuda.matmul.allow_tf32
        for key, tf32 in (("fp32_tflops", False), ("tf32_tflops", True)):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            ms = median_ms(lambda: torch.mm(a, b), torch_sync, warmup=1, repeats=5)
            peaks[key] = flops / ms / 1e9
        torch.backends.cuda.matmul.allow_tf32 = saved
        del a, b
        torch.cuda.empty_cache()
        peaks["how"] = f"torch.mm {n}^3 (cuBLAS), cupy copy of {copy_bytes >> 20} MiB"
    else:
        rng = cupy.random.default_rng(0)
        a = rng.standard_normal((n, n), dtype=cupy.float32)
        b = rng.standard_normal((n, n), dtype=cupy.float32)
        peaks["fp32_tflops"] = flops / median_ms(lambda: a @ b, cupy_sync, 1, 5) / 1e9
        peaks["tf32_tflops"] = None
        del a, b
        peaks["how"] = f"cupy.matmul {n}^3 (cuBLAS), cupy copy of {copy_bytes >> 20} MiB"
    src = cupy.ones(copy_bytes // 4, dtype=cupy.float32)
    dst = cupy.empty_like(src)

    def copy(dst=dst, src=src):
        dst[...] = src
    peaks["copy_gbps"] = 2 * copy_bytes / median_ms(copy, cupy_sync, 1, 5) / 1e6
    del src, dst
    cupy.get_default_memory_pool().free_all_blocks()
    return peaks


# --- the summary -------------------------------------------------------------------------------

def _peak_for(impl, peaks):
    return peaks.get("tf32_tflops") if impl.endswith(TF32_SUFFIX) else peaks.get("fp32_tflops")


def summary(rows, iteration, peaks):
    """{'convs': [...], 'iteration': [...]}: per conv layer and pass, the four times, the two
    ratios (minigan / cuDNN of the same precision) and % of the measured peak; the same for
    the whole iteration."""
    times = {(r["layer"], r["pass"], r["impl"]): r for r in rows}
    convs = []
    for (layer, which, impl), row in times.items():
        if impl != "minigan" or not row["flops"]:
            continue
        entry = {"layer": layer, "pass": which, "gflop": row["flops"] / 1e9,
                 "mb": row["bytes"] / 1e6}
        for name in ("minigan", "torch fp32", "minigan tf32", "torch tf32"):
            other = times.get((layer, which, name))
            if other is None:
                continue
            entry[f"{name} ms"] = other["ms"]
            peak = _peak_for(name, peaks)
            if peak:
                entry[f"{name} %peak"] = 100 * other["flops"] / other["ms"] / 1e9 / peak
        for ours, theirs in (("minigan", "torch fp32"), ("minigan tf32", "torch tf32")):
            if f"{ours} ms" in entry and f"{theirs} ms" in entry:
                entry[f"{ours} / {theirs}"] = entry[f"{ours} ms"] / entry[f"{theirs} ms"]
        convs.append(entry)
    by_impl = {r["impl"]: r for r in iteration}
    whole = []
    for r in iteration:
        entry = dict(r)
        ours = counterpart(r["impl"])
        if ours in by_impl:
            entry["minigan / this"] = by_impl[ours]["ms"] / r["ms"]
        peak = _peak_for(r["impl"], peaks)
        if peak:
            entry["%peak"] = 100 * r["tflops"] / peak
        whole.append(entry)
    return {"convs": convs, "iteration": whole, "peaks": peaks}


def _cell(value, spec):
    return format(value, spec) if value is not None else "-"


def format_summary(report):
    peaks = report["peaks"]
    lines = [f"measured peaks: fp32 GEMM {_cell(peaks.get('fp32_tflops'), '.1f')} TFLOP/s, "
             f"TF32 GEMM {_cell(peaks.get('tf32_tflops'), '.1f')} TFLOP/s, copy "
             f"{_cell(peaks.get('copy_gbps'), '.0f')} GB/s ({peaks.get('how')})",
             f"{'layer':9} {'pass':11} {'GFLOP':>6} {'MB':>6} | {'fp32 ms':>8} {'cuDNN':>8} "
             f"{'ratio':>6} {'%pk':>4} | {'tf32 ms':>8} {'cuDNN':>8} {'ratio':>6} {'%pk':>4}"]
    for e in report["convs"]:
        lines.append(
            f"{e['layer']:9} {e['pass']:11} {e['gflop']:6.1f} {e['mb']:6.0f} | "
            f"{_cell(e.get('minigan ms'), '8.3f'):>8} {_cell(e.get('torch fp32 ms'), '8.3f'):>8} "
            f"{_cell(e.get('minigan / torch fp32'), '6.2f'):>6} "
            f"{_cell(e.get('minigan %peak'), '4.0f'):>4} | "
            f"{_cell(e.get('minigan tf32 ms'), '8.3f'):>8} "
            f"{_cell(e.get('torch tf32 ms'), '8.3f'):>8} "
            f"{_cell(e.get('minigan tf32 / torch tf32'), '6.2f'):>6} "
            f"{_cell(e.get('minigan tf32 %peak'), '4.0f'):>4}")
    if report["iteration"]:
        lines.append("whole SimGAN iteration (1 refiner + 1 discriminator step), ms; "
                     "minigan/this for the baseline of the same precision:")
        for e in report["iteration"]:
            ratio = e.get("minigan / this")
            lines.append(f"  {e['impl']:14} {e['ms']:9.2f} ms"
                         + (f"  minigan/this {ratio:.2f}" if ratio else ""))
    return "\n".join(lines)
