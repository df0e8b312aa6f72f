"""The HDF5 eye packs often used with SimGAN (``gaze.h5``, ``real_gaze.h5``), via h5py.

Two layouts are read:

* groups of one dataset per image, as in the packs shared for SimGAN reimplementations:

      gaze.h5       image/<key>     (35, 55) uint8 (or (35, 55, 1) / (35, 55, 3))
                    look_vec/<key>  (3,) or (4,)   UnityEyes' look vector, same keys
      real_gaze.h5  image/<key>     (35, 55) uint8

* one array each: ``image`` ``(N, 35, 55)`` / ``(N, 35, 55, C)`` / ``(N, 1, 35, 55)`` and
  ``look_vec`` or ``gaze`` ``(N, 3)``.

Images of another size are resized to 35 x 55; colour is averaged to gray. The packs store
UnityEyes' look vector (y up), so ``look_vec`` is turned into minigan's ``gaze`` like the
UnityEyes loader does, ``(x, -y, z)`` normalized; a ``gaze`` array is taken as it is.
h5py is an optional dependency: ``pip install "minigan[h5]"`` (or ``pip install h5py``).
"""
import os
from typing import Optional, Tuple

import numpy as np

from minigan.data.batches import ArrayDataset
from minigan.data.bad_files import BadFiles, DataError
from minigan.data.folder import natural_key
from minigan.data.images import EYE_SIZE, PathLike, resize_array
from minigan.io.png import from_uint8

_EXPECTED = ("an 'image' group of (35, 55) uint8 datasets (optional 'look_vec' group with the "
             "same keys), or an 'image' dataset (N, 35, 55)")


def _h5py():
    try:
        import h5py
    except ImportError as error:
        raise ImportError("reading .h5 eye packs needs h5py: pip install 'minigan[h5]' "
                          "(or pip install h5py)") from error
    return h5py


def load_h5(path: PathLike, n: Optional[int] = None, skip_bad: bool = False,
            size: Tuple[int, int] = EYE_SIZE) -> ArrayDataset:
    """Read up to ``n`` images (and gaze labels when present) from an HDF5 pack."""
    h5py = _h5py()
    if not os.path.isfile(path):
        raise DataError(path, "file not found (expected an HDF5 file like gaze.h5)")
    bad = BadFiles(skip_bad)
    try:
        with h5py.File(path, "r") as handle:
            pixels, gaze = _read(handle, path, n, bad)
    except OSError as error:  # not an HDF5 file, truncated, ...
        raise DataError(path, f"not a readable HDF5 file ({error})") from None
    if not pixels:
        raise DataError(path, f"no usable images ({bad.summary()})")
    images = from_uint8(np.stack([_to_eye(image, size) for image in pixels]))
    labels = {"gaze": np.asarray(gaze, dtype=np.float32)} if gaze is not None else {}
    return ArrayDataset(images, labels, skipped=bad)


def _read(handle, path, n, bad):
    """``(list of images, (N, 3) gaze or None)`` from an open file."""
    h5py = _h5py()
    if "image" not in handle:
        raise DataError(path, f"has no 'image' (found {sorted(handle)}); expected {_EXPECTED}")
    images = handle["image"]
    look_name = "look_vec" if "look_vec" in handle else "gaze" if "gaze" in handle else None
    flip = look_name == "look_vec"
    if isinstance(images, h5py.Dataset):
        stop = len(images) if n is None else min(n, len(images))
        pixels = list(images[:stop])
        gaze = _to_gaze(handle[look_name][:stop], flip, path) if look_name else None
        return pixels, gaze

    looks = handle[look_name] if look_name else None
    pixels, gaze = [], []
    for key in sorted(images, key=natural_key):
        if n is not None and len(pixels) >= n:
            break
        with bad.guard():
            if looks is not None and key not in looks:
                raise DataError(path, f"image/{key} has no {look_name}/{key}")
            pixels.append(images[key][()])
            if looks is not None:
                gaze.append(_to_gaze(np.asarray(looks[key][()]).reshape(1, -1), flip, path)[0])
    return pixels, (np.stack(gaze) if looks is not None and gaze else None)


def _to_gaze(look, flip, path):
    """``(N, >=3)`` look vectors -> ``(N, 3)`` unit gaze, y flipped for UnityEyes' look_vec."""
    look = np.asarray(look, dtype=np.float64)
    if look.ndim != 2 or look.shape[1] < 3:
        raise DataError(path, f"gaze/look_vec entries have shape {look.shape}; expected (N, 3)")
    gaze = look[:, :3] * (np.array([1.0, -1.0, 1.0]) if flip else 1.0)
    return gaze / np.maximum(np.linalg.norm(gaze, axis=1, keepdims=True), 1e-12)


def _to_eye(image, size):
    """One stored image -> ``(H, W)`` uint8 at ``size``."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = np.moveaxis(image, 0, -1)  # CHW -> HWC
    if image.dtype != np.uint8:  # floats: [0, 1] or [0, 255], judged per image
        scale = 255.0 if image.max(initial=0) <= 1.0 else 1.0
        image = np.clip(image * scale, 0, 255)
    if image.ndim == 3:
        image = image.mean(axis=2)
    image = np.rint(image).astype(np.uint8)
    return image if image.shape == tuple(size) else resize_array(image, size)
