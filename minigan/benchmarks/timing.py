"""Timing and "napkin math" helpers for ``python -m minigan.bench``.

    median_ms(run, sync, warmup, repeats)  the median wall time of ``run()`` in milliseconds
                                           (time.perf_counter); GPU work is bracketed by
                                           ``sync`` (a device synchronize) so the clock sees
                                           the kernels finish
    peak_for(device_name)                  (fp32 TFLOP/s, memory GB/s) of a known GPU, or None
    sgemm_tflops(matmul, zeros)            a measured fp32 matrix product rate: the CPU's peak
    conv_flops(...)                        2 * N * F * C * K * K * Ho * Wo: one conv pass
"""
import statistics
import time

# Dense fp32 (not TF32) peak and memory bandwidth from the vendors' data sheets. Matched by
# substring of the device name, first hit wins, so the more specific names come first.
GPU_PEAKS = [
    ("H100 PCIe", 51.2, 2000.0),
    ("H100 NVL", 60.0, 3900.0),
    ("H100", 66.9, 3350.0),      # SXM5: 67 TFLOP/s fp32, 3.35 TB/s
    ("H200", 66.9, 4800.0),
    ("GH200", 66.9, 4000.0),
    ("A100", 19.5, 2039.0),
    ("L40S", 91.6, 864.0),
    ("L4", 30.3, 300.0),
    ("A10", 31.2, 600.0),
    ("RTX 4090", 82.6, 1008.0),
    ("RTX 3090", 35.6, 936.0),
    ("V100", 15.7, 900.0),
    ("T4", 8.1, 320.0),
]


def peak_for(device_name):
    """(TFLOP/s fp32, GB/s) for a GPU name such as 'NVIDIA H100 80GB HBM3', or None."""
    for key, tflops, gbps in GPU_PEAKS:
        if key.lower() in device_name.lower():
            return tflops, gbps
    return None


def sgemm_tflops(matmul, zeros, size=2048, sync=None, repeats=5):
    """TFLOP/s of one size^3 fp32 matrix product (2 size^3 FLOPs), median of ``repeats``:
    ``matmul(a, b)`` and ``zeros(shape)`` of the library measured (NumPy's OpenBLAS, torch).
    On a CPU there is no data-sheet peak to trust, so the rows are put against this rate."""
    a, b = zeros((size, size)) + 1, zeros((size, size)) + 1
    return 2 * size ** 3 / median_ms(lambda: matmul(a, b), sync, 1, repeats) / 1e9


def conv_flops(n, c, f, k, ho, wo):
    """Multiply-adds of one convolution pass (forward, grad input or grad weight) times two."""
    return 2 * n * f * c * k * k * ho * wo


def median_ms(run, sync=None, warmup=2, repeats=10, min_sample_ms=2.0):
    """Median of ``repeats`` timings of ``run()`` in ms, after ``warmup`` untimed calls.

    ``sync()`` waits for the device (cupy / torch.cuda synchronize); a sample is
    sync - start clock - run() x inner - sync - stop clock, divided by inner, where inner
    (<= 50) makes a sample last about ``min_sample_ms`` so that short kernels are not lost in
    the synchronize. Launch overhead counts, as it does in a training step.
    """
    sync = sync or (lambda: None)

    def sample(inner):
        sync()
        start = time.perf_counter()
        for _ in range(inner):
            run()
        sync()
        return (time.perf_counter() - start) * 1e3 / inner

    for _ in range(warmup):
        run()
    once = sample(1)
    inner = max(1, min(50, int(min_sample_ms / max(once, 1e-6))))
    return statistics.median(sample(inner) for _ in range(repeats))


def cupy_sync():
    import cupy
    device_sync(cupy)


def device_sync(xp):
    """Wait for the device of the array module ``xp`` (``cupy`` or ``minigan.emulator``)."""
    xp.cuda.get_current_stream().synchronize()
    xp.cuda.Device().synchronize()


def torch_sync():
    import torch
    torch.cuda.synchronize()


def gpu_name():
    """The CUDA device name via CuPy, or None without a usable GPU."""
    try:
        import cupy
        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception:
        return None


def import_torch(cuda):
    """torch, or None when it is missing (or, for ``cuda=True``, has no usable GPU)."""
    try:
        import torch
    except Exception:
        return None
    if cuda and not torch.cuda.is_available():
        return None
    return torch
