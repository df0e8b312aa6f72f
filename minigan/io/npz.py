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
from minigan.io.inputs import NotARegularFile, open_regular

ZIP_MAGIC = b"PK\x03\x04"


def save_npz(path, arrays):
    """Write ``{name: array}`` to ``path`` (.npz) atomically; arrays may live on the GPU."""
    with atomic_file(path, "wb") as handle:
        np.savez(handle, **{name: to_numpy(a) for name, a in arrays.items()})


def load_npz(path):
    """Read an .npz written by ``save_npz`` into a dict of NumPy arrays.

    Raises FileNotFoundError for a missing file and ValueError naming the file when it is not a
    readable .npz (a folder or a FIFO, not a zip archive, truncated, corrupt, or holding pickled
    objects).
    """
    path = os.fspath(path)
    try:
        handle = open_regular(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"checkpoint file not found: {path}") from None
    except NotARegularFile as error:
        raise ValueError(f"{path} {error.strerror}; expected an .npz checkpoint file") from None
    with handle:
        head = handle.read(len(ZIP_MAGIC))
        if head != ZIP_MAGIC:
            raise ValueError(f"{path} is not a readable .npz checkpoint: an .npz is a zip "
                             f"archive, and this file starts with {head!r}")
        handle.seek(0)
        try:
            with np.load(handle, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except ValueError as error:
            if "pickle" in str(error):
                raise ValueError(f"{path} holds pickled Python objects, which minigan does not "
                                 "load (a checkpoint holds plain arrays only)") from None
            raise ValueError(f"{path} is not a readable .npz checkpoint: {error}") from None
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError) as error:
            raise ValueError(f"{path} is not a readable .npz checkpoint (truncated or corrupt: "
                             f"{error})") from None
