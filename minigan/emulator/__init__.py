"""A CPU emulator of the CUDA device: minigan's ``.cu`` kernels, unchanged, run without a GPU.

This package is an *array module* in the shape of CuPy (the subset minigan uses): device arrays
(``arrays``: NumPy arrays in guarded allocations that refuse to mix with host arrays),
``RawModule``/``RawKernel`` (``kernels``: g++ compiles whatever kernel source it is given
against ``cuda_emu.h``, in a fraction of a second, and caches it in ``$MINIGAN_EMULATOR_CACHE``,
default ``~/.cache/minigan/emulator``), ``cuda.Device``, ``random``, and every other NumPy
function, whose array results become device arrays. ``MINIGAN_DEVICE=emulator`` (or
``device="emulator"``) makes minigan compute on it: the ops take the same path as on a GPU,
through ``minigan.cuda``.

    import minigan.emulator as emu
    module = emu.RawModule(code=open("my_kernel.cu").read(), name_expressions=["scale<float>"])
    x = emu.asarray(numpy.arange(8, dtype=numpy.float32))
    module.get_function("scale<float>")((1,), (32,), (x, numpy.int32(8)))
    x.get()

What it checks (so a kernel that passes here is right in these respects on a GPU): index math
and loop bounds (results against the NumPy references), reads and writes just outside an array
(its guard zones: the launch stops, naming the kernel, the argument, the element and the
thread), outputs never written (``empty`` is NaN), barriers not every thread of a block reaches,
shuffles not every lane of a warp reaches, reads of shared memory before any thread wrote it (it
starts as NaN), argument types against the kernel's C++ signature, grid and block limits and
launch bounds, and host/device mix-ups in the Python around the kernels.

What it does not: speed; real warp scheduling and divergence (a block's threads run one at a
time, lower threads first, switching only at barriers and shuffles, so a race between threads of
a block that a barrier should order is found only when the fixed order exposes it); blocks
running concurrently (they run one after another, so races *between* blocks never show); the GPU
memory model, caches, streams (everything is synchronous); float rounding as the GPU does it (no
FMA contraction: results agree within the tests' tolerances, not bit for bit); accesses farther
outside an array than its guard zone (they may crash the process); and whether NVRTC compiles
the source (``tests/test_kernels_compile.py`` does that).
"""
import numpy

from minigan.emulator import kernels
from minigan.emulator.arrays import (Device, asarray, ascontiguousarray, asnumpy, empty,
                                     ndarray, scatter_add, wrap_result, zeros)
from minigan.emulator.kernels import RawKernel, RawModule, launch_log

__emulator__ = True


def unavailable_reason():
    """Why the emulator cannot run kernels here (no C++ compiler), or None when it can."""
    if kernels.compiler() is None:
        return "the CUDA emulator needs g++ on PATH to compile kernels (apt install g++)"
    return None


class _Runtime:
    @staticmethod
    def getDevice():   # noqa: N802 - CuPy's names
        from minigan.emulator.arrays import current_device_id
        return current_device_id()

    @staticmethod
    def getDeviceCount():  # noqa: N802
        return 1

    @staticmethod
    def getDeviceProperties(device_id):  # noqa: N802
        return {"name": b"CUDA emulator (CPU)", "multiProcessorCount": 132}


class _Stream:
    def synchronize(self):
        """Kernels run synchronously on the emulator: nothing to wait for."""


class _Cuda:
    """``cupy.cuda``'s subset: devices, the runtime, streams."""
    Device = Device
    runtime = _Runtime()

    @staticmethod
    def is_available():
        return unavailable_reason() is None

    @staticmethod
    def get_current_stream():
        return _Stream()


cuda = _Cuda()


class _Generator:
    """``default_rng``'s draws, as device arrays."""

    def __init__(self, seed):
        self._rng = numpy.random.default_rng(seed)

    def standard_normal(self, size=None, dtype=numpy.float64):
        return asarray(self._rng.standard_normal(size, dtype=dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=numpy.float64):
        return asarray(self._rng.uniform(low, high, size).astype(dtype))


class _Random:
    @staticmethod
    def default_rng(seed=None):
        return _Generator(seed)


random = _Random()


class _MemoryPool:
    def free_all_blocks(self):
        """Device memory is host memory here: the garbage collector frees it."""


def get_default_memory_pool():
    return _MemoryPool()


class _StrideTricks:
    @staticmethod
    def as_strided(x, shape, strides):
        return wrap_result(numpy.lib.stride_tricks.as_strided(x, shape=shape, strides=strides))


class _Lib:
    stride_tricks = _StrideTricks()


lib = _Lib()


def get_array_module(*arrays):
    import minigan.emulator as module
    return module


def __getattr__(name):
    """Every other name is NumPy's, with array results on the emulated device."""
    attr = getattr(numpy, name)
    if callable(attr) and not isinstance(attr, type):
        def on_device(*args, **kwargs):
            return wrap_result(attr(*args, **kwargs))
        on_device.__name__ = name
        return on_device
    return attr


__all__ = ["ndarray", "Device", "asarray", "ascontiguousarray", "asnumpy", "empty", "zeros",
           "scatter_add", "RawModule", "RawKernel", "cuda", "random", "lib", "launch_log",
           "get_default_memory_pool", "unavailable_reason"]
