"""Devices: where an array lives, which array library computes on it, and the default device.

Every array in minigan lives on exactly one *device*:

* ``"cpu"``: a NumPy array; ops run the NumPy references (``minigan.reference``);
* ``"cuda"``: a CuPy array on an NVIDIA GPU; ops run the hand-written kernels (``minigan.cuda``);
* ``"emulator"``: an array of ``minigan.emulator``, minigan's CPU emulator of the CUDA device;
  ops take the GPU path (the same kernels, compiled for the CPU), slowly, to check it without a
  GPU.

The same code runs on all three because each op asks ``xp = get_array_module(x)`` and then
calls ``xp.exp``, ``xp.matmul`` ... (the DeZero / Chainer idiom).

The default device (where new tensors and layers go unless told otherwise) comes from the
environment variable ``MINIGAN_DEVICE``, read the first time it is needed:

* ``auto`` (or unset): ``cuda`` when CuPy imports *and* a GPU is really usable, else ``cpu``;
* ``cpu``: NumPy, even where a GPU exists;
* ``cuda``: CuPy, or one clear ``RuntimeError`` saying why the GPU cannot be used;
* ``emulator``: the CPU emulator, or a ``RuntimeError`` saying why not (it needs g++).

Any other value is a ``ValueError`` naming the allowed ones. ``set_default_device`` changes the
default from Python.
"""
import os

import numpy as np

DEVICES = ("cpu", "cuda", "emulator")
CHOICES = ("auto",) + DEVICES
ENVIRONMENT_VARIABLE = "MINIGAN_DEVICE"
_default_device = None  # resolved lazily, so importing minigan never touches a GPU


def _import_cupy():
    """The ``cupy`` module, or None when it is not installed or broken."""
    try:
        import cupy
    except Exception:  # ImportError, or a CuPy built for another CUDA that fails on import
        return None
    return cupy


def _import_emulator():
    import minigan.emulator
    return minigan.emulator


def cuda_unavailable_reason():
    """Why a real CUDA GPU cannot be used here, or None when it can."""
    cupy = _import_cupy()
    if cupy is None:
        return "CuPy is not installed (pip install 'minigan[gpu]')"
    try:
        if not cupy.cuda.is_available():
            return "CuPy found no usable CUDA device (cupy.cuda.is_available() is False)"
    except Exception as error:  # driver missing, etc.
        return f"CuPy could not query the CUDA driver: {error}"
    return None


def cuda_available():
    """True when CuPy imports and at least one CUDA device is usable."""
    return cuda_unavailable_reason() is None


def kernel_device():
    """Where minigan's CUDA kernels run here: ``"cuda"`` when a GPU is usable, else
    ``"emulator"`` (the CPU emulator: it checks a kernel's results, not its speed).
    ``RuntimeError`` with both reasons when neither can run them."""
    if cuda_available():
        return "cuda"
    reason = unavailable_reason("emulator")
    if reason is not None:
        raise RuntimeError(f"no device here runs CUDA kernels: {cuda_unavailable_reason()}; "
                           f"and {reason}")
    return "emulator"


def unavailable_reason(device):
    """Why ``device`` ('cpu' | 'cuda' | 'emulator') cannot compute here, or None when it can."""
    if device == "cuda":
        return cuda_unavailable_reason()
    if device == "emulator":
        return _import_emulator().unavailable_reason()
    return None


def resolve_device(device=None, source="device"):
    """Turn ``None | 'auto' | 'cpu' | 'cuda' | 'gpu' | 'emulator'`` into a usable device name.

    ``None`` means the current default device. ``source`` names where the value came from
    (a flag, the environment variable) in the messages: ``ValueError`` for an unknown name,
    ``RuntimeError`` for a device that cannot be used here.
    """
    if device is None:
        return get_default_device()
    name = str(device).strip().lower()
    if name == "gpu" or name.startswith("cuda:") or name == "cuda":
        name = "cuda"
    if name == "auto":
        return "cuda" if cuda_available() else "cpu"
    if name not in DEVICES:
        raise ValueError(f"{source} must be one of {', '.join(CHOICES)}; got {device!r}")
    reason = unavailable_reason(name)
    if reason is not None:
        raise RuntimeError(f"{source} {name!r} was requested but cannot be used: {reason}")
    return name


def get_default_device():
    """The device new tensors and layers go to: ``MINIGAN_DEVICE`` (default ``auto``) unless
    ``set_default_device`` chose one."""
    global _default_device
    if _default_device is None:
        value = os.environ.get(ENVIRONMENT_VARIABLE, "auto") or "auto"
        _default_device = resolve_device(value, source=ENVIRONMENT_VARIABLE)
    return _default_device


def set_default_device(device):
    """Set the default device (``'auto'``, ``'cpu'``, ``'cuda'``, ``'emulator'``); returns the
    resolved name."""
    global _default_device
    _default_device = resolve_device(device)
    return _default_device


def get_array_module(*arrays):
    """The array module of the first device array among ``arrays`` (``cupy`` or
    ``minigan.emulator``), else ``numpy``."""
    for array in arrays:
        kind = type(array)
        if kind is np.ndarray:
            continue
        if getattr(kind, "__cuda_emulator__", False):
            return _import_emulator()
        if kind.__module__.startswith("cupy"):
            return _import_cupy()
    return np


def device_of(array):
    """``'cuda'`` for a CuPy array, ``'emulator'`` for an emulator array, ``'cpu'`` otherwise."""
    kind = type(array)
    if kind is np.ndarray:
        return "cpu"
    if getattr(kind, "__cuda_emulator__", False):
        return "emulator"
    return "cuda" if kind.__module__.startswith("cupy") else "cpu"


def xp_for(device):
    """The array module (``numpy``, ``cupy`` or ``minigan.emulator``) computing on ``device``."""
    device = resolve_device(device)
    if device == "cuda":
        return _import_cupy()
    return _import_emulator() if device == "emulator" else np


def to_device(array, device):
    """``array`` on ``device``: itself when it is already there, else a copy."""
    if device not in DEVICES:
        device = resolve_device(device)
    here = device_of(array)
    if device == here:
        return array
    if device != "cpu":
        device = resolve_device(device)   # is it usable here?
    host = array.get() if here != "cpu" else np.asarray(array)
    return host if device == "cpu" else xp_for(device).asarray(host)


def to_numpy(array):
    """A NumPy array with the same values (copied from a device when needed)."""
    return array.get() if device_of(array) != "cpu" else np.asarray(array)


def scatter_add(target, index, values):
    """``target[index] += values`` in place, repeated indices accumulating, on any device."""
    xp = get_array_module(target)
    if xp is np:
        np.add.at(target, index, values)
    elif device_of(target) == "emulator":
        xp.scatter_add(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)
