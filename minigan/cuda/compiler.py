"""Finding, compiling and launching the kernels of ``kernels/*.cu``, and what their build uses.

Each ``.cu`` file is compiled once per process, array module and GPU by the array module's
``RawModule`` (CuPy: NVRTC, with the binary cached on disk across processes; minigan's CPU
emulator: g++), and each kernel is fetched by its name expression, e.g.
``conv2d_forward<float, TileBig>``. ``xp`` below is the CuPy-like module the arrays belong to
(``minigan.backend.get_array_module``): real CuPy on a GPU, ``minigan.emulator`` on the CPU.
"""
import hashlib
from pathlib import Path

import numpy as np

from minigan.cuda import checks, plans
from minigan.cuda.plans import PIXEL_TILES, TF32_PIXEL_TILES, TF32_WEIGHT_TILES, WEIGHT_TILES

CTYPES = {"float32": "float", "float64": "double"}
TF32_MIN_COMPUTE_CAPABILITY = 80   # mma.sync ... tf32 and cvt.rna.tf32.f32 (sm_80, Ampere)

SOURCES = {
    "conv2d": ("conv2d.cu",
               [f"{name}<{t}, {tile.name}>" for name in ("conv2d_forward", "conv2d_backward_input")
                for t in CTYPES.values() for tile in PIXEL_TILES]
               + [f"conv2d_backward_weight<{t}, {tile.name}>"
                  for t in CTYPES.values() for tile in WEIGHT_TILES]
               + [f"{name}<float, {tile.name}>" for name in ("conv2d_forward",
                                                             "conv2d_backward_input")
                  for tile in TF32_PIXEL_TILES]
               + [f"conv2d_backward_weight<float, {tile.name}>" for tile in TF32_WEIGHT_TILES]
               + [f"{name}<{t}>" for name in ("conv2d_backward_bias", "reduce_splits")
                  for t in CTYPES.values()]),
    "maxpool2d": ("maxpool2d.cu", [f"{name}<{t}>" for name in ("max_pool2d_forward",
                                                               "max_pool2d_backward")
                                   for t in CTYPES.values()]),
    "patch_xent": ("patch_xent.cu", [f"{name}<{t}>" for name in ("patch_xent_forward",
                                                                 "sum_partials")
                                     for t in CTYPES.values()]),
}

_modules = {}        # (array module, source, device id) -> RawModule
_functions = {}      # (array module, source, device id, name expression) -> RawKernel
_sm_counts = {}      # (array module, device id) -> multiprocessor count
_occupancy = {}      # (array module, device id, source, name expression, threads) -> blocks/SM
_capabilities = {}   # (array module, device id) -> compute capability, e.g. 90


def kernels_dir():
    """The folder holding conv2d.cu & co: minigan/kernels once installed, else repo/kernels."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "kernels", package.parent / "kernels"):
        if (candidate / "conv2d.cu").is_file():
            return candidate
    raise FileNotFoundError(f"minigan.cuda: no kernels/conv2d.cu in {package} or in "
                            f"{package.parent}; reinstall minigan (it ships the .cu files)")


def source_code(source):
    """The text of ``kernels/<file>`` for a key of ``SOURCES``, with the headers' hashes
    appended (CuPy's disk cache is keyed on the text alone, so an edited .cuh must change it)."""
    directory = kernels_dir()
    code = (directory / SOURCES[source][0]).read_text(encoding="utf-8")
    for header in sorted(directory.glob("*.cuh")):
        code += f"\n// {header.name} sha256 {hashlib.sha256(header.read_bytes()).hexdigest()}"
    return code + "\n"


def compile_options():
    return ("--std=c++17", f"-I{kernels_dir()}")


def _module(xp, source):
    """The compiled RawModule of ``source`` for the current device of ``xp`` (built once)."""
    key = (xp.__name__, source, xp.cuda.Device().id)
    if key not in _modules:
        _modules[key] = xp.RawModule(code=source_code(source), options=compile_options(),
                                     name_expressions=SOURCES[source][1])
    return _modules[key]


def compiled_kernel(xp, source, expression):
    """Kernel ``expression`` of ``source``, compiled (once) for the current device of ``xp``."""
    key = (xp.__name__, source, xp.cuda.Device().id, expression)
    if key not in _functions:
        _functions[key] = _module(xp, source).get_function(expression)
    return _functions[key]


def launch(xp, source, expression, grid, block, args):
    """Run kernel ``expression`` of ``source`` with ``grid`` x ``block`` threads on ``args``."""
    compiled_kernel(xp, source, expression)(grid, block, args)


def kernel_attributes(xp, source, expression):
    """The compiled kernel's resources as CUDA reports them (``num_regs``,
    ``shared_size_bytes``, ``local_size_bytes``, ...), or None where the array module has no
    such report (the CPU emulator)."""
    return getattr(compiled_kernel(xp, source, expression), "attributes", None)


def occupancy(xp, source, expression, threads):
    """Blocks of kernel ``expression`` one multiprocessor runs at once with ``threads`` per
    block, from the registers and shared memory of the build the array module really made
    (``plans.blocks_per_sm``); ``plans.ASSUMED_BLOCKS_PER_SM`` where they are not reported."""
    device = xp.cuda.Device()
    key = (xp.__name__, device.id, source, expression, threads)
    if key not in _occupancy:
        attributes = kernel_attributes(xp, source, expression)
        if attributes is None:
            _occupancy[key] = plans.ASSUMED_BLOCKS_PER_SM
        else:
            limits = plans.sm_limits_from_attributes(device.attributes)
            _occupancy[key] = max(1, plans.blocks_per_sm(
                attributes["num_regs"], threads, attributes["shared_size_bytes"], limits))
    return _occupancy[key]


def compute_capability(xp):
    """The current device's compute capability as an int (90 for an H100). minigan's CPU
    emulator reports none and implements the sm_90 subset the kernels use, TF32 included."""
    device = xp.cuda.Device()
    key = (xp.__name__, device.id)
    if key not in _capabilities:
        _capabilities[key] = int(getattr(device, "compute_capability", 90))
    return _capabilities[key]


def sm_count(xp):
    """Multiprocessors of the current device (what the launch plans fill)."""
    device = xp.cuda.Device()
    key = (xp.__name__, device.id)
    if key not in _sm_counts:
        _sm_counts[key] = int(device.attributes["MultiProcessorCount"])
    return _sm_counts[key]


def int32_args(*values):
    """Scalars as the kernels' ``int`` parameters (CuPy passes NumPy scalars by their type)."""
    return tuple(np.int32(v) for v in values)


def on_common_device(op, **arrays):
    """The one GPU all ``arrays`` live on, as a context manager (ValueError if they differ)."""
    checks.require_same_device(op, **arrays)
    return next(a for a in arrays.values() if a is not None).device
