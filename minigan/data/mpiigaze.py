"""MPIIGaze's normalized eye images (``Data/Normalized/pXX/dayYY.mat``) -> 35 x 55 with gaze.

MPIIGaze (Zhang et al. 2015) is the real data of the SimGAN paper's gaze experiments: webcam
images of 15 people at their laptops. Each ``.mat`` file holds one day of one person:

    data.left.image    (N, 36, 60) uint8    grayscale eye images, already normalized
    data.left.gaze     (N, 3)               unit gaze vectors, normalized camera coordinates
    data.left.pose     (N, 3)               head pose (not used here)
    data.right.*       the same for the right eye

MPIIGaze's gaze convention is minigan's (x right, y down, z away from the camera; looking into
the camera is (0, 0, -1)). The images are resized from 36 x 60 to 35 x 55.

Both eyes are read by default; ``flip`` mirrors one side's images left-right and negates
their gaze x, so every image shows the same eye (a common practice; which side matches the
renderer's left eye, caruncle on the image's left, depends on your data: check a grid).
Labels: ``gaze`` ``(N, 3)`` and ``eye`` ``(N,)`` (0 = left, 1 = right).
"""
import os
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import scipy.io

from minigan.data.batches import ArrayDataset
from minigan.data.bad_files import BadFiles, DataError
from minigan.data.folder import natural_key
from minigan.data.images import EYE_SIZE, PathLike, resize_array
from minigan.data.labels import check_label_arrays
from minigan.io.inputs import NotARegularFile, open_regular
from minigan.io.png import from_uint8

SIDES = ("left", "right")
_EXPECTED = ("a MATLAB struct 'data' with fields 'left' and 'right', each holding "
             "'image' (N x 36 x 60 uint8) and 'gaze' (N x 3), as in MPIIGaze's Data/Normalized")


def find_mat_files(root):
    """Every ``.mat`` file under ``root`` (or ``root`` itself), in natural path order."""
    if os.path.isfile(root):
        return [root]
    if not os.path.isdir(root):
        raise DataError(root, "not found (expected MPIIGaze's folder, Data/Normalized, or a .mat)")
    paths = [os.path.join(folder, name) for folder, _, names in os.walk(root)
             for name in names if name.lower().endswith(".mat")]
    if not paths:
        raise DataError(root, "no .mat files found (expected Data/Normalized/pXX/dayYY.mat)")
    return sorted(paths, key=lambda path: natural_key(os.path.relpath(path, root)))


def load_mpiigaze(root: PathLike, n: Optional[int] = None, skip_bad: bool = False,
                  eyes: Union[str, Sequence[str]] = SIDES, flip: Optional[str] = "right",
                  size: Tuple[int, int] = EYE_SIZE) -> ArrayDataset:
    """Read up to ``n`` normalized MPIIGaze eyes under ``root`` as an ``ArrayDataset``.

    ``eyes``: the sides to read ("left", "right" or both); ``flip``: the side to mirror
    ("left", "right" or None). A malformed ``.mat`` raises ``DataError`` naming it, or is
    skipped (``skip_bad=True``) and listed in ``dataset.skipped``.
    """
    eyes = (eyes,) if isinstance(eyes, str) else tuple(eyes)
    if not eyes or any(side not in SIDES for side in eyes) or flip not in SIDES + (None,):
        raise ValueError(f"eyes must be among {SIDES} and flip one of {SIDES} or None; "
                         f"got eyes={eyes!r}, flip={flip!r}")
    bad = BadFiles(skip_bad)
    images, gazes, sides, count = [], [], [], 0
    for path in find_mat_files(root):
        if n is not None and count >= n:
            break
        with bad.guard():
            day = read_day(path)
            for side in eyes:
                pixels, gaze = day[side]
                if side == flip:
                    pixels, gaze = pixels[:, :, ::-1], gaze * np.array([-1.0, 1.0, 1.0])
                images.append(pixels)
                gazes.append(gaze)
                sides.append(np.full(len(gaze), SIDES.index(side), dtype=np.int8))
                count += len(gaze)
    if count == 0:
        raise DataError(root, f"no usable MPIIGaze images ({bad.summary()})")
    limit = count if n is None else min(n, count)
    pixels = np.concatenate(images)[:limit]
    resized = np.stack([resize_array(image, size) for image in pixels])
    labels = {"gaze": np.concatenate(gazes)[:limit].astype(np.float32),
              "eye": np.concatenate(sides)[:limit]}
    return ArrayDataset(from_uint8(resized), labels, skipped=bad)


def read_day(path):
    """One ``dayYY.mat`` -> ``{side: ((N, 36, 60) uint8, (N, 3) float64)}``, or ``DataError``."""
    try:
        with open_regular(path) as handle:
            mat = scipy.io.loadmat(handle, simplify_cells=True)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except NotARegularFile as error:
        raise DataError(path, error.strerror) from None
    except Exception as error:  # scipy raises ValueError, MatReadError, OSError, ... for bad files
        raise DataError(path, f"not a readable MATLAB file ({error}); "
                              f"expected {_EXPECTED}") from None
    data = mat.get("data")
    if not isinstance(data, dict):
        found = sorted(name for name in mat if not name.startswith("__"))
        raise DataError(path, f"has no struct 'data' (found {found}); expected {_EXPECTED}")
    day = {}
    for side in SIDES:
        eye = data.get(side)
        if not isinstance(eye, dict) or "image" not in eye or "gaze" not in eye:
            raise DataError(path, f"has no data.{side}.image / data.{side}.gaze; "
                                  f"expected {_EXPECTED}")
        pixels, gaze = np.asarray(eye["image"]), _gaze_array(eye["gaze"], path, side)
        if pixels.ndim == 2:  # loadmat squeezes a day with a single image
            pixels, gaze = pixels[None], gaze.reshape(1, -1)
        if pixels.ndim != 3 or gaze.shape != (len(pixels), 3):
            raise DataError(path, f"data.{side}.image is {pixels.shape} and data.{side}.gaze is "
                                  f"{gaze.shape}; expected (N, 36, 60) and (N, 3)")
        if pixels.dtype != np.uint8:
            raise DataError(path, f"data.{side}.image has dtype {pixels.dtype}; expected uint8")
        check_label_arrays({"gaze": gaze}, path, f"data.{side}")
        day[side] = (pixels, gaze)
    return day


def _gaze_array(value, path, side):
    """``data.<side>.gaze`` as float64, or ``DataError`` for a struct, strings or cells."""
    try:
        gaze = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        kind = "a struct" if isinstance(value, dict) else f"a {type(value).__name__}"
        raise DataError(path, f"data.{side}.gaze is {kind}; expected an (N, 3) array of "
                              "numbers") from None
    return gaze
