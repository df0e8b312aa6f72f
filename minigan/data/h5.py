"""The HDF5 eye packs often used with SimGAN (``gaze.h5``, ``real_gaze.h5``), via h5py.

Two layouts are read:

* groups of one dataset per image, as in the packs shared for SimGAN reimplementations:

      gaze.h5       image/<key>     (35, 55) uint8 (or (35, 55, 1) / (35, 55, 3))
                    look_vec/<key>  (3,) or (4,)   UnityEyes' look vector, same keys
      real_gaze.h5  image/<key>     (35, 55) uint8

* one array each: ``image`` ``(N, 35, 55)`` / ``(N, 35, 55, C)`` / ``(N, 1, 35, 55)`` and
  ``look_vec`` or ``gaze`` ``(N, 3)``.

Images of another size are resized to 35 x 55; colour is averaged to gray. Pixels are uint8
(8-bit), uint16 (16-bit: scaled, not clipped) or floats in [0, 1] or [0, 255]; other dtypes,
strings, scalars and groups where a dataset belongs are refused naming the entry. The packs store
UnityEyes' look vector (y up), so ``look_vec`` is turned into minigan's ``gaze`` like the
UnityEyes loader does, ``(x, -y, z)`` normalized; a ``gaze`` array is taken as it is.
h5py is an optional dependency: ``pip install "minigan[h5]"`` (or ``pip install h5py``).
"""
from typing import Optional, Tuple

import numpy as np

from minigan.data.batches import ArrayDataset
from minigan.data.bad_files import BadFiles, DataError
from minigan.data.folder import natural_key
from minigan.data.images import EYE_SIZE, PathLike, resize_array, to_unit_range
from minigan.data.labels import check_label_arrays
from minigan.io.inputs import check_regular

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
    try:
        check_regular(path)
    except FileNotFoundError:
        raise DataError(path, "file not found (expected an HDF5 file like gaze.h5)") from None
    except OSError as error:
        raise DataError(path, error.strerror) from None
    bad = BadFiles(skip_bad)
    try:
        with h5py.File(path, "r") as handle:
            images, gaze = _read(handle, path, n, bad, size)
    except OSError as error:  # not an HDF5 file, truncated, ...
        raise DataError(path, f"not a readable HDF5 file ({error})") from None
    if not images:
        raise DataError(path, f"no usable images ({bad.summary()})")
    labels = {"gaze": np.asarray(gaze, dtype=np.float32)} if gaze is not None else {}
    check_label_arrays(labels, path)
    return ArrayDataset(np.stack(images)[:, None], labels, skipped=bad)


def _dataset(h5py, node, path, name, dims):
    """``node`` when it is a numeric dataset of ``dims`` dimensions, else ``DataError``."""
    if not isinstance(node, h5py.Dataset):
        raise DataError(path, f"{name} is a group; expected a dataset ({_EXPECTED})")
    if node.dtype.kind not in "biuf" or node.ndim not in dims:
        raise DataError(path, f"{name} is a {node.ndim}-D dataset of {node.dtype}; expected "
                              f"{' or '.join(f'{d}-D' for d in dims)} numbers ({_EXPECTED})")
    return node


def _read(handle, path, n, bad, size):
    """``(list of (H, W) images in [-1, 1], (N, 3) gaze or None)`` from an open file."""
    h5py = _h5py()
    if "image" not in handle:
        raise DataError(path, f"has no 'image' (found {sorted(handle)}); expected {_EXPECTED}")
    images = handle["image"]
    look_name = "look_vec" if "look_vec" in handle else "gaze" if "gaze" in handle else None
    flip = look_name == "look_vec"
    if isinstance(images, h5py.Dataset):
        _dataset(h5py, images, path, "image", (3, 4))
        stop = len(images) if n is None else min(n, len(images))
        pixels = [_to_eye(image, size, path, f"image[{i}]")
                  for i, image in enumerate(images[:stop])]
        gaze = None
        if look_name:
            looks = _dataset(h5py, handle[look_name], path, look_name, (2,))
            if len(looks) < stop:
                raise DataError(path, f"{look_name} has {len(looks)} rows for {stop} images")
            gaze = _to_gaze(looks[:stop], flip, path, look_name)
        return pixels, gaze

    looks = handle[look_name] if look_name else None
    if looks is not None and not isinstance(looks, h5py.Group):
        raise DataError(path, f"'image' is a group but {look_name!r} is not; expected "
                              f"{_EXPECTED}")
    pixels, gaze = [], []
    for key in sorted(images, key=natural_key):
        if n is not None and len(pixels) >= n:
            break
        with bad.guard():
            if looks is not None and key not in looks:
                raise DataError(path, f"image/{key} has no {look_name}/{key}")
            image = _dataset(h5py, images[key], path, f"image/{key}", (2, 3))[()]
            eye = _to_eye(image, size, path, f"image/{key}")
            if looks is not None:
                look = _dataset(h5py, looks[key], path, f"{look_name}/{key}", (1, 2))[()]
                gaze.append(_to_gaze(np.asarray(look).reshape(1, -1), flip, path,
                                     f"{look_name}/{key}")[0])
            pixels.append(eye)
    return pixels, (np.stack(gaze) if looks is not None and gaze else None)


def _to_gaze(look, flip, path, name):
    """``(N, >=3)`` look vectors -> ``(N, 3)`` unit gaze, y flipped for UnityEyes' look_vec."""
    look = np.asarray(look, dtype=np.float64)
    if look.ndim != 2 or look.shape[1] < 3:
        raise DataError(path, f"{name} has shape {look.shape}; expected (N, 3)")
    gaze = look[:, :3] * (np.array([1.0, -1.0, 1.0]) if flip else 1.0)
    norm = np.linalg.norm(gaze, axis=1, keepdims=True)
    bad = ~(np.isfinite(norm[:, 0]) & (norm[:, 0] > 0))
    if bad.any():
        raise DataError(path, f"{name}: row {int(np.argmax(bad))} is {look[np.argmax(bad)]}; "
                              "expected a finite, non-zero direction")
    return gaze / norm


def _to_eye(image, size, path, name):
    """One stored image -> ``(H, W)`` float32 in [-1, 1] at ``size``: uint8 as 8-bit, uint16
    as 16-bit, floats as [0, 1] or [0, 255] (judged per image); other pixels are refused."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[0] in (1, 3) and image.shape[-1] not in (1, 3):
        image = np.moveaxis(image, 0, -1)  # CHW -> HWC
    if image.ndim == 3:
        if image.shape[-1] not in (1, 3):
            raise DataError(path, f"{name} has shape {image.shape}; expected (H, W), (H, W, 1) "
                                  "or (H, W, 3)")
    elif image.ndim != 2:
        raise DataError(path, f"{name} has shape {image.shape}; expected (H, W)")
    if image.dtype == np.uint16:
        pixels = image.astype(np.float32) / np.float32(257.0)   # 0..65535 -> 0..255, no clip
        if pixels.ndim == 3:
            pixels = pixels.mean(axis=2, dtype=np.float32)
    else:
        if image.dtype.kind == "f":
            if image.size and not np.isfinite(image).all():
                raise DataError(path, f"{name} holds NaN or infinite pixels")
            low, top = float(image.min(initial=0)), float(image.max(initial=0))
            if low < 0 or top > 255:
                raise DataError(path, f"{name} holds values in [{low:g}, {top:g}]; expected "
                                      "[0, 1] or [0, 255]")
            image = image * (255.0 if top <= 1.0 else 1.0)
        elif image.dtype != np.uint8:
            raise DataError(path, f"{name} has pixels of dtype {image.dtype}; expected uint8, "
                                  "uint16 or floats")
        if image.ndim == 3:
            image = image.mean(axis=2)
        pixels = np.rint(image).astype(np.uint8)
    if pixels.shape != tuple(size):
        pixels = resize_array(pixels, size)
    return to_unit_range(pixels)[0, 0]
