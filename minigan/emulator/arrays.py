"""The emulated device's arrays: NumPy arrays in guarded allocations, kept apart from host arrays.

An emulator array is an ``ndarray`` subclass (so every NumPy routine computes on it) that
behaves like a CuPy array where it matters for finding bugs:

* it lives on a device (``.device``, a ``Device`` id) and comes back to the host with ``.get()``;
* arithmetic that mixes it with a host (NumPy) array raises ``TypeError``, as CuPy does, so a
  forgotten ``to_device`` fails on the CPU as it would on a GPU;
* every allocation sits, 256-byte aligned as ``cudaMalloc``'s, between two guard zones of
  ``GUARD`` bytes of 0xFF (``guard_zones``): a kernel's access to them stops its launch (the
  runtime's shadow memory, see ``kernels``), and ``check_guards`` verifies after each launch
  that they still hold 0xFF;
* ``empty`` fills floats with NaN and integers with -77, so an output a kernel forgets to
  write shows up in the results.
"""
import weakref

import numpy

GUARD = 4096          # bytes of 0xFF before and after every allocation
ALIGN = 256           # cudaMalloc's alignment
UNWRITTEN_INT = -77   # what ``empty`` fills integer arrays with

_current_device = [0]
_allocations = {}     # id of the raw byte buffer -> (weak reference to it, start, nbytes)


class Device:
    """An emulated GPU, as ``cupy.cuda.Device``: a context manager that makes it current."""

    def __init__(self, id=None):   # noqa: A002 - CuPy's name
        self.id = _current_device[0] if id is None else int(id)
        self.attributes = {"MultiProcessorCount": 132}   # an H100's, for the launch plans

    def __enter__(self):
        self._saved = _current_device[0]
        _current_device[0] = self.id
        return self

    def __exit__(self, *exc):
        _current_device[0] = self._saved

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<emulated CUDA Device {self.id}>"

    def synchronize(self):
        """Kernels run synchronously on the emulator: nothing to wait for."""


def current_device_id():
    return _current_device[0]


class ndarray(numpy.ndarray):  # noqa: N801 - CuPy's name
    """A NumPy array that lives on an emulated device."""

    __cuda_emulator__ = True

    def __array_finalize__(self, obj):
        self._device_id = getattr(obj, "_device_id", _current_device[0])

    @property
    def device(self):
        return Device(self._device_id)

    def get(self):
        """A host (NumPy) copy, as ``cupy.ndarray.get``."""
        return numpy.array(self.view(numpy.ndarray))

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        host = [type(a).__name__ for a in inputs
                if isinstance(a, numpy.ndarray) and not isinstance(a, ndarray) and a.ndim > 0]
        if host:
            raise TypeError(f"{ufunc.__name__}: an array of the emulated CUDA device mixed with a "
                            f"host NumPy array; move it with minigan.backend.to_device first "
                            f"(CuPy raises here too)")
        plain = [a.view(numpy.ndarray) if isinstance(a, ndarray) else a for a in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(numpy.ndarray) if isinstance(o, ndarray) else o
                                  for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        if method == "at":
            return None
        if isinstance(result, numpy.generic):   # CuPy's reductions give 0-d device arrays
            return guarded_copy(numpy.asarray(result))
        return wrap_result(result)

    def __getitem__(self, index):
        result = super().__getitem__(index)
        # an element is a 0-d device array, as in CuPy, not a host scalar
        return guarded_copy(numpy.asarray(result)) if isinstance(result, numpy.generic) else result


def _allocate(shape, dtype):
    """An uninitialised array of ``shape`` and ``dtype`` between two guard zones."""
    dtype = numpy.dtype(dtype)
    shape = (int(shape),) if numpy.ndim(shape) == 0 else tuple(int(n) for n in shape)
    nbytes = int(numpy.prod(shape, dtype=numpy.int64)) * dtype.itemsize
    raw = numpy.full(nbytes + ALIGN + 2 * GUARD, 0xFF, dtype=numpy.uint8)
    start = GUARD + (-(raw.ctypes.data + GUARD)) % ALIGN
    key = id(raw)
    _allocations[key] = (weakref.ref(raw), start, nbytes)
    weakref.finalize(raw, _allocations.pop, key, None)
    out = raw[start:start + nbytes].view(dtype).reshape(shape).view(ndarray)
    out._device_id = _current_device[0]
    return out


def _allocation_of(array):
    """(raw bytes, start, nbytes) of the guarded allocation under ``array``, or None."""
    base = array
    while isinstance(base, numpy.ndarray) and not base.flags.owndata:
        base = base.base
    entry = _allocations.get(id(base))
    if entry is None or entry[0]() is not base:
        return None
    return base, entry[1], entry[2]


def guard_zones(array):
    """The address ranges ``[begin, end)`` of the two guard zones of the allocation under
    ``array`` (none for memory the emulator did not allocate)."""
    allocation = _allocation_of(array)
    if allocation is None:
        return []
    raw, start, nbytes = allocation
    base = raw.ctypes.data
    return [(base, base + start), (base + start + nbytes, base + raw.nbytes)]


def check_guards(kernel, index, array):
    """RuntimeError when a launch wrote into a guard zone of the allocation under ``array``."""
    allocation = _allocation_of(array)
    if allocation is None:
        return
    raw, start, nbytes = allocation
    zones = {"before": raw[:start], "after": raw[start + nbytes:]}
    for where, zone in zones.items():
        bad = numpy.flatnonzero(zone != 0xFF)
        if bad.size:
            offset = bad[-1] - zone.size if where == "before" else bad[0]
            raise RuntimeError(f"{kernel}: out-of-bounds write {where} the allocation of "
                               f"argument {index} ({array.dtype} {array.shape}): byte offset "
                               f"{offset} from its {'start' if where == 'before' else 'end'}, "
                               f"{bad.size} bytes")


def guarded_copy(a, dtype=None):
    """A device copy of ``a`` (any array-like) in a fresh guarded allocation."""
    a = numpy.asarray(a.view(numpy.ndarray) if isinstance(a, ndarray) else a, dtype=dtype)
    out = _allocate(a.shape, a.dtype)
    out.view(numpy.ndarray)[...] = a
    return out


def wrap_result(result):
    """A NumPy routine's result as device arrays: fresh arrays get guard zones, views stay views."""
    if isinstance(result, numpy.ndarray) and not isinstance(result, ndarray):
        if result.flags.owndata:
            return guarded_copy(result)
        out = result.view(ndarray)
        out._device_id = _current_device[0]
        return out
    if isinstance(result, tuple):
        return tuple(wrap_result(r) for r in result)
    if isinstance(result, list):
        return [wrap_result(r) for r in result]
    return result


def empty(shape, dtype=numpy.float32):
    """Uninitialised, as on a GPU: NaN for floats, -77 for integers, so unwritten output shows."""
    a = _allocate(shape, dtype)
    a.view(numpy.ndarray).fill(numpy.nan if a.dtype.kind in "fc" else UNWRITTEN_INT)
    return a


def zeros(shape, dtype=numpy.float32):
    a = _allocate(shape, dtype)
    a.view(numpy.ndarray).fill(0)
    return a


def asarray(a, dtype=None):
    """``a`` on the current emulated device (itself when it already is, with that dtype)."""
    if isinstance(a, ndarray) and (dtype is None or a.dtype == numpy.dtype(dtype)):
        return a
    return guarded_copy(a, dtype)


def ascontiguousarray(a, dtype=None):
    if (isinstance(a, ndarray) and a.flags.c_contiguous
            and (dtype is None or a.dtype == numpy.dtype(dtype))):
        return a
    return guarded_copy(numpy.ascontiguousarray(a.view(numpy.ndarray) if isinstance(a, ndarray)
                                                else a), dtype)


def asnumpy(a):
    """A host copy of a device array (or of anything array-like)."""
    return a.get() if isinstance(a, ndarray) else numpy.array(a)


def scatter_add(target, index, values):
    """``target[index] += values`` with repeated indices accumulating (``cupyx.scatter_add``)."""
    plain = values.view(numpy.ndarray) if isinstance(values, ndarray) else values
    numpy.add.at(target.view(numpy.ndarray), index, plain)
