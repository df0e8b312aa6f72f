"""A fake ``cupy`` that runs minigan's real CUDA kernels on the CPU. A TEST TOOL, NOT CuPy.

Used by tests/test_kernels_on_emulator.py, which puts this folder (tests/cuda_emulator/fakecupy)
first on PYTHONPATH of a subprocess running tests/test_cuda_kernels.py, so that the GPU test-suite
(every kernel against its NumPy reference, forward and backward, many shapes) runs in CI on a
machine without a GPU. Never install it or put it on the path of anything else.

How: arrays are NumPy arrays of a subclass defined here (``type(a).__module__ == 'cupy'``, so
``minigan.backend`` takes them for CuPy arrays); ``cupy.cuda.is_available()`` is True; other
``cupy.<function>`` calls are NumPy's. ``RawModule`` / ``RawKernel`` ignore the source text they
are given and launch the kernel of the same name expression in the shared library named by the
environment variable ``EMU_LIB`` (required), which g++ builds from
tests/cuda_emulator/emu_kernels.cpp: the real kernels/*.cu compiled against cuda_emu.h (CUDA
threads as fibers run in a fixed order, __syncthreads as a block barrier, warp shuffles, shared
memory filled with 0xFF bytes, NaN, at the start of every block; its header says what that
catches)::

    g++ -std=c++20 -O2 -shared -fPIC -pthread -I<repo>/kernels emu_kernels.cpp -o libemu.so

What a launch checks, beyond the results the tests compare with the references:

* the arguments against the kernel's C++ signature, as the CUDA ABI needs them (array <->
  pointer, ``numpy.int32`` <-> int, ``numpy.int64`` <-> long long), C-contiguity and the device;
* grid and block limits (grid.y, grid.z <= 65535, block <= 1024 and <= __launch_bounds__);
* memory written out of bounds: every array allocated here (``empty``, ``zeros``, ``asarray``,
  ``ascontiguousarray``, fresh results of NumPy functions) sits, 256-byte aligned as on a GPU,
  between two guard zones of GUARD bytes of 0xFF, verified after each launch for each array
  argument (an out-of-bounds *read* of a guard zone gets NaN for floats, -1 for ints, which
  usually shows up in the results);
* outputs a kernel fails to write: ``empty`` fills floats with NaN and integers with -77.

What it does not check: speed, real warp scheduling, concurrent blocks (blocks run one at a
time, in order), the GPU memory model and caches, streams (everything is synchronous), that
the kernels compile with NVRTC (tests/test_kernels_compile.py and nvcc do), accesses far outside
an allocation (they may crash the process instead), and float rounding the way the GPU does it
(no FMA contraction): results agree within the tests' tolerances, not bit for bit.
"""
import ctypes
import os
import weakref

import numpy

__emulator__ = True   # lets tests tell this fake from the real CuPy
GUARD = 4096          # bytes of 0xFF before and after every allocation
ALIGN = 256           # cudaMalloc's alignment

if not os.environ.get("EMU_LIB"):
    raise ImportError("fake cupy (tests/cuda_emulator): set EMU_LIB to a libemu.so built from "
                      "tests/cuda_emulator/emu_kernels.cpp (tests/test_kernels_on_emulator.py "
                      "does both)")
_lib = ctypes.CDLL(os.environ["EMU_LIB"])
_lib.emu_signature.restype = ctypes.c_char_p
_lib.emu_signature.argtypes = [ctypes.c_char_p]
_lib.emu_max_threads.restype = ctypes.c_uint
_lib.emu_max_threads.argtypes = [ctypes.c_char_p]
_lib.emu_last_error.restype = ctypes.c_char_p
_lib.emu_last_error.argtypes = []
_lib.emu_launch.restype = ctypes.c_int
_lib.emu_launch.argtypes = [ctypes.c_char_p] + [ctypes.c_uint] * 6 + [ctypes.POINTER(ctypes.c_void_p)]

launch_log = []   # (name, grid, block) of every launch, for tests


class _Cuda:
    pass


cuda = _Cuda()
_current = [0]


class Device:
    def __init__(self, id=None):
        self.id = _current[0] if id is None else id
        self.attributes = {"MultiProcessorCount": 132}

    def __enter__(self):
        self._saved = _current[0]
        _current[0] = self.id
        return self

    def __exit__(self, *exc):
        _current[0] = self._saved

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)


class _Runtime:
    @staticmethod
    def getDevice():
        return _current[0]


cuda.Device = Device
cuda.runtime = _Runtime()
cuda.is_available = lambda: True


class ndarray(numpy.ndarray):
    def __array_finalize__(self, obj):
        self._device_id = getattr(obj, "_device_id", _current[0])

    @property
    def device(self):
        return Device(self._device_id)

    def get(self):
        return numpy.array(self.view(numpy.ndarray))


def _wrap(a):
    out = numpy.asarray(a).view(ndarray)
    out._device_id = _current[0]
    return out


_allocations = {}   # id of the raw byte buffer -> (weak reference to it, start, nbytes)


def _allocate(shape, dtype):
    """A fake-cupy array of ``shape`` and ``dtype`` (contents undefined) between guard zones."""
    dtype = numpy.dtype(dtype)
    shape = (int(shape),) if numpy.ndim(shape) == 0 else tuple(int(n) for n in shape)
    nbytes = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
    raw = numpy.full(nbytes + ALIGN + 2 * GUARD, 0xFF, dtype=numpy.uint8)
    start = GUARD + (-(raw.ctypes.data + GUARD)) % ALIGN
    key = id(raw)
    _allocations[key] = (weakref.ref(raw), start, nbytes)
    weakref.finalize(raw, _allocations.pop, key, None)
    return _wrap(raw[start:start + nbytes].view(dtype).reshape(shape))


def _allocation_of(array):
    """(raw bytes, start, nbytes) of the guarded allocation under ``array``, or None."""
    base = array
    while isinstance(base, numpy.ndarray) and not base.flags.owndata:
        base = base.base
    entry = _allocations.get(id(base))
    if entry is None or entry[0]() is not base:
        return None
    return base, entry[1], entry[2]


def _guarded_copy(a, dtype=None):
    a = numpy.asarray(a, dtype=dtype)
    out = _allocate(a.shape, a.dtype)
    out[...] = a
    return out


def asarray(a, dtype=None):
    if isinstance(a, ndarray) and (dtype is None or a.dtype == dtype):
        return a
    return _guarded_copy(a, dtype)


def ascontiguousarray(a, dtype=None):
    if isinstance(a, ndarray) and a.flags.c_contiguous and (dtype is None or a.dtype == dtype):
        return a
    return _guarded_copy(a, dtype)


def empty(shape, dtype=numpy.float32):
    # Filled with NaN / a pattern so that anything the kernels fail to write shows up.
    a = _allocate(shape, dtype)
    if a.dtype.kind == "f":
        a.fill(numpy.nan)
    else:
        a.fill(-77)
    return a


def zeros(shape, dtype=numpy.float32):
    a = _allocate(shape, dtype)
    a.fill(0)
    return a


float32, float64, int8, int32, int64 = (numpy.float32, numpy.float64, numpy.int8, numpy.int32,
                                        numpy.int64)


def get_array_module(*arrays):
    return __import__(__name__)


class RawKernel:
    def __init__(self, name):
        self.name = name
        sig = _lib.emu_signature(name.encode())
        if sig is None:
            raise RuntimeError(f"emu: no kernel named {name!r}")
        self.signature = sig.decode()
        self.max_threads = _lib.emu_max_threads(name.encode())

    def __call__(self, grid, block, args, **kwargs):
        grid = tuple(grid) + (1,) * (3 - len(grid))
        block = tuple(block) + (1,) * (3 - len(block))
        for g in grid + block:
            if not isinstance(g, int) or isinstance(g, bool) or g < 1:
                raise ValueError(f"emu {self.name}: bad grid/block {grid} {block}")
        if grid[0] >= 2**31 or grid[1] > 65535 or grid[2] > 65535:
            raise ValueError(f"emu {self.name}: grid {grid} over CUDA limits")
        if block[0] * block[1] * block[2] > min(1024, self.max_threads):
            raise ValueError(f"emu {self.name}: block {block} over launch bound {self.max_threads}")
        if len(args) != len(self.signature):
            raise TypeError(f"emu {self.name}: {len(args)} args for signature {self.signature}")
        keep, params = [], (ctypes.c_void_p * len(args))()
        for i, (code, arg) in enumerate(zip(self.signature, args)):
            if code == "p":
                if not isinstance(arg, ndarray):
                    raise TypeError(f"emu {self.name}: arg {i} must be an array, got {type(arg)}")
                if not arg.flags.c_contiguous:
                    raise ValueError(f"emu {self.name}: arg {i} not contiguous")
                if arg._device_id != _current[0]:
                    raise ValueError(f"emu {self.name}: arg {i} on device {arg._device_id}, "
                                     f"launch on {_current[0]}")
                value = ctypes.c_void_p(arg.ctypes.data)
            elif code == "i":
                if type(arg) is not numpy.int32:
                    raise TypeError(f"emu {self.name}: arg {i} must be np.int32, got {type(arg)}")
                value = ctypes.c_int32(int(arg))
            elif code == "l":
                if type(arg) is not numpy.int64:
                    raise TypeError(f"emu {self.name}: arg {i} must be np.int64, got {type(arg)}")
                value = ctypes.c_int64(int(arg))
            else:
                raise TypeError(code)
            keep.append(value)
            params[i] = ctypes.cast(ctypes.pointer(value), ctypes.c_void_p)
        launch_log.append((self.name, grid, block))
        rc = _lib.emu_launch(self.name.encode(), *grid, *block, params)
        if rc != 0:
            raise RuntimeError(f"emu launch {self.name} failed: "
                               f"{_lib.emu_last_error().decode() or rc}")
        for i, (code, arg) in enumerate(zip(self.signature, args)):
            if code == "p":
                _check_guards(self.name, i, arg)


def _check_guards(kernel, index, array):
    """RuntimeError when the launch wrote into a guard zone of the allocation under ``array``."""
    allocation = _allocation_of(array)
    if allocation is None:
        return
    raw, start, nbytes = allocation
    zones = {"before": raw[:start], "after": raw[start + nbytes:]}
    for where, zone in zones.items():
        bad = numpy.flatnonzero(zone != 0xFF)
        if bad.size:
            offset = bad[-1] - zone.size if where == "before" else bad[0]
            raise RuntimeError(f"emu {kernel}: out-of-bounds write {where} the allocation of "
                               f"argument {index} ({array.dtype} {array.shape}): byte offset "
                               f"{offset} from its {'start' if where == 'before' else 'end'}, "
                               f"{bad.size} bytes")


class RawModule:
    def __init__(self, code=None, options=(), name_expressions=(), **kwargs):
        self.code, self.options = code, options
        self.kernels = {name: RawKernel(name) for name in name_expressions}

    def get_function(self, name):
        return self.kernels[name]


def asnumpy(a):
    return numpy.array(numpy.asarray(a))


_Runtime.getDeviceCount = staticmethod(lambda: 1)


# --- everything else: NumPy's function, with array results viewed as this fake ndarray ------
def _wrap_result(result):
    if isinstance(result, numpy.ndarray) and not isinstance(result, ndarray):
        # A fresh array gets guard zones; a view of an argument must stay a view.
        return _guarded_copy(result) if result.flags.owndata else _wrap(result)
    if isinstance(result, tuple):
        return tuple(_wrap_result(r) for r in result)
    return result


def __getattr__(name):
    attr = getattr(numpy, name)
    if callable(attr) and not isinstance(attr, type):
        def wrapped(*args, **kwargs):
            return _wrap_result(attr(*args, **kwargs))
        return wrapped
    return attr


class _Random:
    @staticmethod
    def default_rng(seed=None):
        gen = numpy.random.default_rng(seed)

        class Gen:
            def standard_normal(self, size=None, dtype=numpy.float64):
                return _wrap(gen.standard_normal(size, dtype=dtype))

            def uniform(self, low=0.0, high=1.0, size=None, dtype=numpy.float64):
                return _wrap(gen.uniform(low, high, size).astype(dtype))
        return Gen()


random = _Random()


class _Lib:
    class stride_tricks:
        @staticmethod
        def as_strided(x, shape, strides):
            return _wrap(numpy.lib.stride_tricks.as_strided(x, shape=shape, strides=strides))


lib = _Lib()


class _Pool:
    def free_all_blocks(self):
        pass


def get_default_memory_pool():
    return _Pool()


class _Stream:
    def synchronize(self):
        pass


cuda.get_current_stream = lambda: _Stream()
Device.synchronize = lambda self: None
_Runtime.getDeviceProperties = staticmethod(lambda i: {"name": b"Emulated H100 on CPU"})
