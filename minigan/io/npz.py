"""Named arrays to and from ``.npz`` files, written atomically.

A checkpoint is a flat ``{name: array}`` mapping (no pickle, so loading runs no code). Writing goes
to a temporary file in the same folder which is then renamed over the target: a crash mid-write
leaves the previous file intact.
"""
import os
import tempfile
import zipfile

import numpy as np

from minigan.backend import to_numpy


def save_npz(path, arrays):
    """Write ``{name: array}`` to ``path`` (.npz) atomically; arrays may live on the GPU."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=folder)
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(f, **{name: to_numpy(a) for name, a in arrays.items()})
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def load_npz(path):
    """Read an .npz written by ``save_npz`` into a dict of NumPy arrays.

    Raises FileNotFoundError for a missing file and ValueError naming the file when it is not a
    readable .npz (truncated, corrupt, or holding pickled objects).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable .npz checkpoint: {error}") from None
