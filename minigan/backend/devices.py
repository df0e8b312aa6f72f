"""Which array library computes: NumPy on the CPU, CuPy on an NVIDIA GPU.

Every array in minigan lives on exactly one *device*, named ``"cpu"`` or ``"cuda"``.
The same code runs on both because each op asks ``xp = get_array_module(x)`` and then
calls ``xp.exp``, ``xp.matmul`` ... (the DeZero / Chainer idiom).

The default device comes from the environment variable ``MINIGAN_DEVICE``:

* ``auto`` (default): CUDA when CuPy imports *and* a GPU is really usable, else CPU, silently;
* ``cpu``: always NumPy;
* ``cuda``: CuPy, or a clear ``RuntimeError`` saying why the GPU cannot be used.

``set_default_device`` changes it from Python.
"""
import os

import numpy as np

DEVICES = ("cpu", "cuda")
_default_device = None  # resolved lazily so importing minigan never touches the GPU


def _import_cupy():
    """Return the ``cupy`` module, or None when it is not installed or broken."""
    try:
        import cupy
    except Exception:  # ImportError, or a CuPy built for another CUDA that fails on import
        return None
    return cupy


def cuda_unavailable_reason():
    """Why CUDA cannot be used here, or None when it can."""
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


def resolve_device(device=None):
    """Turn ``None | 'auto' | 'cpu' | 'cuda' | 'gpu'`` into ``'cpu'`` or ``'cuda'``.

    ``None`` means the current default device. Raises ``ValueError`` for an unknown name
    and ``RuntimeError`` when CUDA is asked for but cannot be used.
    """
    if device is None:
        return get_default_device()
    name = str(device).lower()
    if name == "gpu" or name.startswith("cuda"):
        name = "cuda"
    if name == "auto":
        return "cuda" if cuda_available() else "cpu"
    if name not in DEVICES:
        raise ValueError(f"device must be one of 'auto', 'cpu', 'cuda'; got {device!r}")
    if name == "cuda":
        reason = cuda_unavailable_reason()
        if reason is not None:
            raise RuntimeError(f"device 'cuda' was requested but cannot be used: {reason}")
    return name


def get_default_device():
    """The device new tensors go to: from ``MINIGAN_DEVICE`` (auto|cpu|cuda) unless set."""
    global _default_device
    if _default_device is None:
        _default_device = resolve_device(os.environ.get("MINIGAN_DEVICE", "auto"))
    return _default_device


def set_default_device(device):
    """Set the default device (``'auto'``, ``'cpu'`` or ``'cuda'``); returns the resolved name."""
    global _default_device
    _default_device = resolve_device(device)
    return _default_device


def get_array_module(*arrays):
    """``cupy`` if any argument is a CuPy array, else ``numpy``."""
    for array in arrays:
        module = type(array).__module__
        if module.startswith("cupy"):
            return _import_cupy()
    return np


def device_of(array):
    """``'cuda'`` for a CuPy array, ``'cpu'`` for anything else."""
    return "cuda" if get_array_module(array) is not np else "cpu"


def xp_for(device):
    """The array module (``numpy`` or ``cupy``) that computes on ``device``."""
    return _import_cupy() if resolve_device(device) == "cuda" else np


def to_device(array, device):
    """Copy ``array`` to ``device`` ('cpu' | 'cuda'); returns it unchanged when already there."""
    device = resolve_device(device)
    if device == device_of(array):
        return array
    if device == "cpu":
        return array.get()
    return _import_cupy().asarray(array)


def to_numpy(array):
    """A NumPy array with the same values (copies from the GPU when needed)."""
    return to_device(array, "cpu") if device_of(array) == "cuda" else np.asarray(array)
