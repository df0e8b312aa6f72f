"""Named arrays to and from ``.npz`` files, written atomically.

A checkpoint is a flat ``{name: array}`` mapping (no pickle, so loading runs no code). Writing goes
to a temporary file in the same folder which is then renamed over the target (``atomic``): a
crash mid-write leaves the previous file intact.
"""
import os
import zipfile
import zlib

import numpy as np

from minigan.backend import to_numpy
from minigan.io.atomic import atomic_file

ZIP_MAGIC = b"PK\x03\x04"


def save_npz(path, arrays):
    """Write ``{name: array}`` to ``path`` (.npz) atomically; arrays may live on the GPU."""
    with atomic_file(path, "wb") as handle:
        np.savez(handle, **{name: to_numpy(a) for name, a in arrays.items()})


def load_npz(path):
    """Read an .npz written by ``save_npz`` into a dict of NumPy arrays.

    Raises FileNotFoundError for a missing file and ValueError naming the file when it is not a
    readable .npz (not a zip archive, truncated, corrupt, or holding pickled objects).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    if os.path.isdir(path):
        raise ValueError(f"{path} is a folder; expected an .npz checkpoint file")
    with open(path, "rb") as handle:
        head = handle.read(len(ZIP_MAGIC))
    if head != ZIP_MAGIC:
        raise ValueError(f"{path} is not a readable .npz checkpoint: an .npz is a zip archive, "
                         f"and this file starts with {head!r}")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {name: data[name] for name in data.files}
    except ValueError as error:
        if "pickle" in str(error):
            raise ValueError(f"{path} holds pickled Python objects, which minigan does not load "
                             "(a checkpoint holds plain arrays only)") from None
        raise ValueError(f"{path} is not a readable .npz checkpoint: {error}") from None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError) as error:
        raise ValueError(f"{path} is not a readable .npz checkpoint (truncated or corrupt: "
                         f"{error})") from None
