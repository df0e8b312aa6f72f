"""Facts about a CUDA GPU that minigan needs before trusting it: what is installed, what the
kernels' build really uses, what a launch and a copy cost, and whether every conv pass agrees
with cuDNN at full size. ``python -m minigan.gpu_probe`` prints them; each function returns a
JSON-ready dict and never raises for a failing measurement (it reports ``{"error": ...}``).

    versions()              Python, NumPy, CuPy, CUDA runtime / driver / NVRTC, torch, cuDNN, and
                            the device (name, compute capability, SMs, memory)
    kernel_builds()         per kernels/*.cu: NVRTC compile + load time; per kernel: registers,
                            shared and local (spilled) bytes as CuPy built it, blocks per SM from
                            minigan.cuda.plans and from the driver's occupancy calculator
    launch_overhead()       CPU microseconds per launch: a conv wrapper (checks included), a
                            CuPy elementwise op
    bandwidth(n_bytes)      host -> device, device -> host, device -> device GB/s
    convs_vs_reference(batch)
                            every conv pass of SimGAN's layers at ``batch`` in fp32 and in TF32:
                            relative L2 error against cuDNN fp32 with TF32 off (torch on the GPU),
                            else torch on the CPU, else minigan's own float64 kernels
"""
import platform
import time

import numpy as np

from minigan.benchmarks.layers import simgan_layers
from minigan.benchmarks.timing import cupy_sync, import_torch


def guarded(fn, *args, **kwargs):
    """fn(...)'s dict, or {"error": "Type: message"} when it raises."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:   # a probe reports; the next fact is still worth having
        return {"error": f"{type(error).__name__}: {error}"}


def versions():
    import cupy
    facts = {"python": platform.python_version(), "numpy": np.__version__,
             "cupy": cupy.__version__}
    runtime = cupy.cuda.runtime
    for key, get in (("cuda_runtime", lambda: runtime.runtimeGetVersion()),
                     ("cuda_driver", lambda: runtime.driverGetVersion()),
                     ("nvrtc", lambda: cupy.cuda.nvrtc.getVersion())):
        facts[key] = guarded(get)
    device = cupy.cuda.Device()
    props = runtime.getDeviceProperties(device.id)
    name = props["name"]
    facts["device"] = name.decode() if isinstance(name, bytes) else str(name)
    facts["compute_capability"] = getattr(device, "compute_capability", None)
    facts["sm_count"] = device.attributes.get("MultiProcessorCount")
    facts["memory_gib"] = props.get("totalGlobalMem", 0) / 2**30
    torch = import_torch(cuda=False)
    if torch is not None:
        facts["torch"] = torch.__version__
        facts["torch_cuda"] = torch.cuda.is_available()
        facts["cudnn"] = guarded(lambda: torch.backends.cudnn.version())
    return facts


def _block_size(expression):
    """Threads per block minigan.cuda launches ``expression`` with."""
    from minigan.cuda import plans
    if expression.startswith("sum_partials"):
        return 1024
    for tile in plans.WEIGHT_TILES + plans.TF32_WEIGHT_TILES:
        if expression.endswith(f", {tile.name}>"):
            return tile.threads
    return plans.BLOCK


def _driver_occupancy(kernel, threads):
    import cupy
    function = getattr(kernel, "kernel", None)
    if function is None:
        return None
    return cupy.cuda.driver.occupancyMaxActiveBlocksPerMultiprocessor(function.ptr, threads, 0)


def kernel_builds():
    """Compile each module as minigan.cuda does (CuPy's RawModule) and read every kernel's
    resources. Times include CuPy's disk cache: set CUPY_CACHE_DIR to an empty folder to time
    NVRTC itself."""
    import cupy
    from minigan.cuda import compiler, plans
    limits = plans.sm_limits_from_attributes(cupy.cuda.Device().attributes)
    modules = {}
    for source, (_, expressions) in compiler.SOURCES.items():
        start = time.perf_counter()
        compiler.kernel_attributes(cupy, source, expressions[0])   # compiles and loads it all
        entry = {"compile_s": time.perf_counter() - start, "kernels": {}}
        for expression in expressions:
            attributes = compiler.kernel_attributes(cupy, source, expression) or {}
            threads = _block_size(expression)
            kernel = compiler.compiled_kernel(cupy, source, expression)
            entry["kernels"][expression] = {
                "registers": attributes.get("num_regs"),
                "shared_bytes": attributes.get("shared_size_bytes"),
                "local_bytes": attributes.get("local_size_bytes"),
                "threads": threads,
                "blocks_per_sm_plan": None if "num_regs" not in attributes else
                plans.blocks_per_sm(attributes["num_regs"], threads,
                                    attributes["shared_size_bytes"], limits),
                "blocks_per_sm_driver": guarded(_driver_occupancy, kernel, threads)}
        modules[source] = entry
    return modules


def launch_overhead(calls=2000):
    """CPU time per call, in microseconds, with the GPU queue kept full (no sync per call)."""
    import cupy
    from minigan import cuda
    x = cupy.ones((1, 1, 4, 4), cupy.float32)
    w = cupy.ones((1, 1, 3, 3), cupy.float32)
    a = cupy.ones(16, cupy.float32)
    facts = {}
    for label, run in (("conv2d_forward wrapper", lambda: cuda.conv2d_forward(x, w, None, 1, 1)),
                       ("cupy elementwise a * a", lambda: a * a)):
        run()
        cupy_sync()
        start = time.perf_counter()
        for _ in range(calls):
            run()
        facts[f"{label} us"] = (time.perf_counter() - start) / calls * 1e6
        cupy_sync()
    return facts


def bandwidth(n_bytes=2**30):
    """GB/s of a host -> device, device -> host (pageable host memory) and device -> device
    copy of ``n_bytes`` (read + write counted for the device copy), median of 3."""
    import statistics

    import cupy
    host = np.ones(n_bytes // 4, np.float32)
    device = cupy.asarray(host)
    other = cupy.empty_like(device)

    def timed(run):
        times = []
        for _ in range(3):
            cupy_sync()
            start = time.perf_counter()
            run()
            cupy_sync()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def device_copy():
        other[...] = device
    return {"h2d_gbps": n_bytes / timed(lambda: cupy.asarray(host)) / 1e9,
            "d2h_gbps": n_bytes / timed(lambda: cupy.asnumpy(device)) / 1e9,
            "d2d_gbps": 2 * n_bytes / timed(device_copy) / 1e9}


def _reference(torch):
    """('cudnn' | 'torch-cpu' | 'float64', passes(x, w, b, gy, s, p) -> dict of NumPy)."""
    if torch is not None and torch.cuda.is_available():
        import cupy
        torch.backends.cudnn.allow_tf32 = False   # cuDNN fp32: the reference
        torch.backends.cuda.matmul.allow_tf32 = False

        def to_torch(a):
            return torch.from_dlpack(a)

        def to_host(t):
            return t.double().cpu().numpy()
        name = "cudnn"
    elif torch is not None:
        from minigan.backend import to_numpy

        def to_torch(a):
            return torch.from_numpy(np.ascontiguousarray(to_numpy(a)))

        def to_host(t):
            return t.double().numpy()
        name = "torch-cpu"
    else:
        return "float64", _float64_passes

    def passes(x, w, b, gy, s, p):
        tx, tw, tb, tgy = (to_torch(a) for a in (x, w, b, gy))
        y = torch.nn.functional.conv2d(tx, tw, tb, s, p)
        gx, gw, gb = torch.ops.aten.convolution_backward(
            tgy, tx, tw, [tw.shape[0]], [s, s], [p, p], [1, 1], False, [0, 0], 1,
            [True, True, True])
        return {"forward": to_host(y), "grad_input": to_host(gx), "grad_weight": to_host(gw),
                "grad_bias": to_host(gb)}
    return name, passes


def _minigan_passes(x, w, b, gy, s, p, tf32):
    from minigan import cuda
    from minigan.backend import to_numpy
    return {"forward": to_numpy(cuda.conv2d_forward(x, w, b, s, p, tf32=tf32)),
            "grad_input": to_numpy(cuda.conv2d_backward_input(gy, w, x.shape, s, p, tf32=tf32)),
            "grad_weight": to_numpy(cuda.conv2d_backward_weight(gy, x, w.shape, s, p,
                                                                tf32=tf32)),
            "grad_bias": to_numpy(cuda.conv2d_backward_bias(gy))}


def _float64_passes(x, w, b, gy, s, p):
    return _minigan_passes(*(a.astype(np.float64) for a in (x, w, b, gy)), s, p, False)


def convs_vs_reference(batch=512, height=35, width=55, seed=0):
    """{'reference': name, 'layers': {layer: {pass: {'fp32': err, 'tf32': err}}}}: relative L2
    errors ||minigan - ref|| / ||ref|| of every conv pass on standard-normal data."""
    import cupy
    reference_name, reference = _reference(import_torch(cuda=False))
    rng = cupy.random.default_rng(seed)
    layers = {}
    for layer in simgan_layers(height, width):
        if layer.kind != "conv":
            continue
        ho, wo = layer.out

        def normal(*shape):
            return rng.standard_normal(shape, dtype=cupy.float32)
        x, gy = normal(batch, layer.c, layer.h, layer.w), normal(batch, layer.f, ho, wo)
        w, b = normal(layer.f, layer.c, layer.k, layer.k), normal(layer.f)
        expected = reference(x, w, b, gy, layer.stride, layer.padding)
        errors = {}
        for label, tf32 in (("fp32", False), ("tf32", True)):
            got = _minigan_passes(x, w, b, gy, layer.stride, layer.padding, tf32)
            for which, ref in expected.items():
                diff = np.linalg.norm(got[which].astype(np.float64) - ref)
                errors.setdefault(which, {})[label] = float(diff / np.linalg.norm(ref))
        layers[layer.key] = errors
        del x, gy, w, b
        cupy.get_default_memory_pool().free_all_blocks()
    return {"reference": reference_name, "batch": batch, "layers": layers}
