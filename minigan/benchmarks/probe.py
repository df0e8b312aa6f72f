"""Facts about a CUDA device that minigan needs before trusting it: what is installed, what the
kernels' build really uses, what a launch and a copy cost, and whether every conv pass agrees
with a trusted reference at full size. ``python -m minigan.gpu_probe`` prints them; each
function takes the device (``"cuda"``: a GPU through CuPy, ``"emulator"``: minigan's CPU
emulator, through ``minigan.backend.xp_for``), returns a JSON-ready dict and never raises for a
failing measurement (it reports ``{"error": ...}``).

    versions(device)        Python, NumPy, CuPy, CUDA runtime / driver / NVRTC, torch, cuDNN, and
                            the device (name, compute capability, SMs, memory)
    kernel_builds(device)   per kernels/*.cu: NVRTC compile + load time; per kernel: registers,
                            shared and local (spilled) bytes as CuPy built it, blocks per SM from
                            minigan.cuda.plans and from the driver's occupancy calculator
    launch_overhead(device) CPU microseconds per launch: a conv wrapper (checks included), an
                            elementwise op of the array module
    bandwidth(device, n_bytes)
                            host -> device, device -> host, device -> device GB/s
    convs_vs_reference(device, batch)
                            every conv pass of SimGAN's layers at ``batch`` in fp32 and in TF32:
                            relative L2 error against cuDNN fp32 with TF32 off (torch on the GPU),
                            else torch on the CPU, else minigan's own float64 kernels; on the
                            emulator against the NumPy references in float64

On the emulator the facts only a GPU has (CUDA and NVRTC versions, the compiled kernels'
resources, the driver's occupancy) read ``NEEDS_GPU``, and the timings say nothing about a GPU:
there the probe checks that every measurement runs and that the conv passes are right.
"""
import platform
import time

import numpy as np

from minigan.backend import to_numpy, xp_for
from minigan.benchmarks.simgan_layers import simgan_layers
from minigan.benchmarks.timing import device_sync, import_torch

NEEDS_GPU = "needs a real GPU"


def guarded(fn, *args, **kwargs):
    """fn(...)'s dict, or {"error": "Type: message"} when it raises."""
    try:
        return fn(*args, **kwargs)
    except Exception as error:   # a probe reports; the next fact is still worth having
        return {"error": f"{type(error).__name__}: {error}"}


def gpu_only(what):
    """The fact ``what`` on a device that cannot give it: {"skipped": "needs a real GPU (...)"}."""
    return {"skipped": f"{NEEDS_GPU} ({what})"}


def versions(device="cuda"):
    facts = {"python": platform.python_version(), "numpy": np.__version__}
    if device == "emulator":
        facts.update(_emulator_versions(xp_for(device)))
    else:
        facts.update(_cuda_versions())
    torch = import_torch(cuda=False)
    if torch is not None:
        facts["torch"] = torch.__version__
        facts["torch_cuda"] = torch.cuda.is_available()
        facts["cudnn"] = guarded(lambda: torch.backends.cudnn.version())
    return facts


def _emulator_versions(emulator):
    name = emulator.cuda.runtime.getDeviceProperties(emulator.cuda.Device().id)["name"]
    facts = {key: NEEDS_GPU for key in ("cupy", "cuda_runtime", "cuda_driver", "nvrtc",
                                        "compute_capability", "sm_count", "memory_gib")}
    facts["device"] = name.decode()
    return facts


def _cuda_versions():
    import cupy
    facts = {"cupy": cupy.__version__}
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


def kernel_builds(device="cuda"):
    """Compile each module as minigan.cuda does (CuPy's RawModule) and read every kernel's
    resources. Times include CuPy's disk cache: set CUPY_CACHE_DIR to an empty folder to time
    NVRTC itself."""
    if device == "emulator":
        return gpu_only("NVRTC builds, registers, spills, the driver's occupancy")
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


def launch_overhead(device="cuda", calls=2000):
    """CPU time per call, in microseconds, with the GPU queue kept full (no sync per call)."""
    from minigan import cuda
    xp = xp_for(device)
    x = xp.ones((1, 1, 4, 4), xp.float32)
    w = xp.ones((1, 1, 3, 3), xp.float32)
    a = xp.ones(16, xp.float32)
    module = "cupy" if device == "cuda" else device
    facts = {}
    for label, run in (("conv2d_forward wrapper", lambda: cuda.conv2d_forward(x, w, None, 1, 1)),
                       (f"{module} elementwise a * a", lambda: a * a)):
        run()
        device_sync(xp)
        start = time.perf_counter()
        for _ in range(calls):
            run()
        facts[f"{label} us"] = (time.perf_counter() - start) / calls * 1e6
        device_sync(xp)
    return facts


def bandwidth(device="cuda", n_bytes=2**30):
    """GB/s of a host -> device, device -> host (pageable host memory) and device -> device
    copy of ``n_bytes`` (read + write counted for the device copy), median of 3."""
    import statistics

    xp = xp_for(device)
    host = np.ones(n_bytes // 4, np.float32)
    on_device = xp.asarray(host)
    other = xp.empty_like(on_device)

    def timed(run):
        times = []
        for _ in range(3):
            device_sync(xp)
            start = time.perf_counter()
            run()
            device_sync(xp)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def device_copy():
        other[...] = on_device
    return {"h2d_gbps": n_bytes / timed(lambda: xp.asarray(host)) / 1e9,
            "d2h_gbps": n_bytes / timed(lambda: xp.asnumpy(on_device)) / 1e9,
            "d2d_gbps": 2 * n_bytes / timed(device_copy) / 1e9}


def _reference(torch):
    """('cudnn' | 'torch-cpu' | 'float64', passes(x, w, b, gy, s, p) -> dict of NumPy)."""
    if torch is not None and torch.cuda.is_available():
        torch.backends.cudnn.allow_tf32 = False   # cuDNN fp32: the reference
        torch.backends.cuda.matmul.allow_tf32 = False

        def to_torch(a):
            return torch.from_dlpack(a)

        def to_host(t):
            return t.double().cpu().numpy()
        name = "cudnn"
    elif torch is not None:
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
    return {"forward": to_numpy(cuda.conv2d_forward(x, w, b, s, p, tf32=tf32)),
            "grad_input": to_numpy(cuda.conv2d_backward_input(gy, w, x.shape, s, p, tf32=tf32)),
            "grad_weight": to_numpy(cuda.conv2d_backward_weight(gy, x, w.shape, s, p,
                                                                tf32=tf32)),
            "grad_bias": to_numpy(cuda.conv2d_backward_bias(gy))}


def _float64_passes(x, w, b, gy, s, p):
    return _minigan_passes(*(a.astype(np.float64) for a in (x, w, b, gy)), s, p, False)


def _numpy_float64_passes(x, w, b, gy, s, p):
    """The NumPy references (``minigan.reference``) on float64 copies, on the CPU."""
    from minigan import reference
    x, w, b, gy = (to_numpy(a).astype(np.float64) for a in (x, w, b, gy))
    return {"forward": reference.conv2d_forward(x, w, b, s, p),
            "grad_input": reference.conv2d_backward_input(gy, w, x.shape, s, p),
            "grad_weight": reference.conv2d_backward_weight(gy, x, w.shape, s, p),
            "grad_bias": reference.conv2d_backward_bias(gy)}


def convs_vs_reference(device="cuda", batch=512, height=35, width=55, seed=0):
    """{'reference': name, 'layers': {layer: {pass: {'fp32': err, 'tf32': err}}}}: relative L2
    errors ||minigan - ref|| / ||ref|| of every conv pass on standard-normal data."""
    xp = xp_for(device)
    if device == "emulator":
        reference_name, reference = "numpy-float64", _numpy_float64_passes
    else:
        reference_name, reference = _reference(import_torch(cuda=False))
    rng = xp.random.default_rng(seed)
    layers = {}
    for layer in simgan_layers(height, width):
        if layer.kind != "conv":
            continue
        ho, wo = layer.out

        def normal(*shape):
            return rng.standard_normal(shape, dtype=xp.float32)
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
        xp.get_default_memory_pool().free_all_blocks()
    return {"reference": reference_name, "batch": batch, "layers": layers}
