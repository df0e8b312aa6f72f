"""UnityEyes renders (``N.jpg`` + ``N.json``) -> 35 x 55 eye crops with gaze labels.

UnityEyes (Wood et al. 2016) is the simulator of the SimGAN paper. Each render is a large
JPG (e.g. 640 x 480) and a JSON file whose coordinates are strings:

    "interior_margin_2d": ["(x, y, z)", ...]    16 lid-margin points, y measured from the bottom
    "caruncle_2d":        ["(x, y, z)", ...]    points on the caruncle (inner corner)
    "iris_2d":            ["(x, y, z)", ...]    points on the limbus
    "eye_details": {"look_vec": "(x, y, z, w)", ...}
    "head_pose":          "(pitch, yaw, roll)"  degrees

The crop is centred on the lid margin, ``1.5 x`` the corner-to-corner width wide (inner corner
= mean of the caruncle points, outer corner = margin point 8) and 35/55 of that high, then
converted to grayscale and resized to 35 x 55.

Labels (pixel coordinates are in the 35 x 55 crop, y down):

* ``gaze`` ``(N, 3)``: look_vec with y flipped to point down, ``(x, -y, z)``, normalized, so it
  is in minigan's convention (x right, y down, z away from the camera, looking at the camera
  ~ (0, 0, -1); image displacement of the iris ~ (g_x, g_y));
* ``pupil_center`` ``(N, 2)``: the mean of the iris points; ``iris_radius`` ``(N,)``: their
  largest distance from it; ``eyelid_landmarks`` ``(N, 16, 2)``; ``head_pose`` ``(N, 3)``
  (pitch, yaw, roll) in degrees in [-180, 180), with UnityEyes' yaw of 180 (facing the
  camera) moved to 0.
"""
import json
import os
import re
from typing import Optional, Tuple

import numpy as np

from minigan.data.batches import ArrayDataset
from minigan.data.bad_files import BadFiles, DataError
from minigan.data.folder import natural_key
from minigan.data.images import EYE_SIZE, PathLike, open_gray, resize_gray, to_unit_range
from minigan.data.labels import check_label_arrays
from minigan.io.inputs import open_regular

CROP_WIDTH = 1.5    # crop width / corner-to-corner distance
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def load_unityeyes(folder: PathLike, n: Optional[int] = None, skip_bad: bool = False,
                   size: Tuple[int, int] = EYE_SIZE) -> ArrayDataset:
    """Read up to ``n`` UnityEyes renders from ``folder`` as an ``ArrayDataset`` (see module)."""
    if not os.path.isdir(folder):
        raise DataError(folder, "not a directory (expected UnityEyes' N.jpg + N.json files)")
    stems = sorted((name[:-5] for name in os.listdir(folder) if name.endswith(".json")),
                   key=natural_key)
    if not stems:
        raise DataError(folder, "no UnityEyes renders found (expected N.jpg next to N.json)")
    bad = BadFiles(skip_bad)
    images, rows = [], []
    for stem in stems:
        if n is not None and len(images) >= n:
            break
        with bad.guard():
            image, labels = load_render(os.path.join(folder, stem + ".jpg"),
                                        json_path_of(folder, stem), size)
            check_label_arrays({key: np.asarray(value)[None] for key, value in labels.items()},
                               json_path_of(folder, stem))
            images.append(to_unit_range(image))
            rows.append(labels)
    if not images:
        raise DataError(folder, f"no usable UnityEyes renders ({bad.summary()})")
    labels = {key: np.stack([row[key] for row in rows]) for key in rows[0]}
    return ArrayDataset(np.concatenate(images), labels, skipped=bad)


def json_path_of(folder, stem):
    return os.path.join(folder, stem + ".json")


def load_render(jpg_path, json_path, size=EYE_SIZE):
    """One render -> ``((H, W) crop, {label: array})``; ``DataError`` when unusable. The crop
    is uint8, or float32 in [0, 255] for a 16-bit image (``images.resize_gray``)."""
    meta = _read_json(json_path)
    margin = _points(meta, "interior_margin_2d", json_path)
    caruncle = _points(meta, "caruncle_2d", json_path)
    iris = _points(meta, "iris_2d", json_path)
    if len(margin) != 16:
        raise DataError(json_path, f'"interior_margin_2d" has {len(margin)} points, expected 16')
    details = meta.get("eye_details")
    if not isinstance(details, dict) or "look_vec" not in details:
        raise DataError(json_path, 'missing "eye_details": {"look_vec": "(x, y, z, w)"}')
    look = _numbers(details["look_vec"], 3, json_path, "eye_details.look_vec")[:3]
    head = (_numbers(meta["head_pose"], 3, json_path, "head_pose")[:3]
            if "head_pose" in meta else np.zeros(3))

    picture = open_gray(jpg_path)
    height = picture.height
    # UnityEyes measures y from the bottom of the image; images count from the top
    margin, caruncle, iris = (np.stack([p[:, 0], height - p[:, 1]], axis=1)
                              for p in (margin, caruncle, iris))
    box = crop_box(margin, caruncle, picture.size, size, jpg_path)
    crop = resize_gray(picture, size, box)

    scale = size[1] / (box[2] - box[0])
    to_crop = lambda points: (points - np.array(box[:2])) * scale  # noqa: E731
    centre = iris.mean(axis=0)
    gaze = np.array([look[0], -look[1], look[2]])
    norm = np.linalg.norm(gaze)
    if not norm > 0:
        raise DataError(json_path, f"eye_details.look_vec is zero: {details['look_vec']!r}")
    labels = {"gaze": (gaze / norm).astype(np.float32),
              "pupil_center": to_crop(centre).astype(np.float32),
              "iris_radius": np.float32(np.max(np.linalg.norm(iris - centre, axis=1)) * scale),
              "head_pose": _wrap_degrees(head - np.array([0.0, 180.0, 0.0])),
              "eyelid_landmarks": to_crop(margin).astype(np.float32)}
    return crop, labels


def crop_box(margin, caruncle, image_size, size, path):
    """``(left, top, right, bottom)`` around the eye with the aspect of ``size = (H, W)``.

    Raises ``DataError`` when the box is larger than the image (``image_size = (W, H)``);
    otherwise shifts it inside the image.
    """
    inner, outer = caruncle.mean(axis=0), margin[8]
    width = CROP_WIDTH * abs(outer[0] - inner[0])
    height = width * size[0] / size[1]
    if width < 2:
        raise DataError(path, f"eye corners are {abs(outer[0] - inner[0]):.1f} px apart; "
                              "expected a visible eye")
    if width > image_size[0] or height > image_size[1]:
        raise DataError(path, f"image is {image_size[0]}x{image_size[1]} (W x H), too small to "
                              f"crop the {width:.0f}x{height:.0f} eye region around the landmarks")
    centre_x = 0.5 * (margin[:, 0].min() + margin[:, 0].max())
    centre_y = 0.5 * (margin[:, 1].min() + margin[:, 1].max())
    left = float(np.clip(centre_x - width / 2, 0, image_size[0] - width))
    top = float(np.clip(centre_y - height / 2, 0, image_size[1] - height))
    return (left, top, left + width, top + height)


def _wrap_degrees(angles):
    """Degrees -> [-180, 180) float32."""
    return ((angles + 180.0) % 360.0 - 180.0).astype(np.float32)


def _read_json(path):
    try:
        with open_regular(path, "r") as handle:
            meta = json.load(handle)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise DataError(path, f"not valid JSON ({error})") from None
    except OSError as error:
        raise DataError(path, error.strerror or str(error)) from None
    if not isinstance(meta, dict):
        raise DataError(path, "expected a JSON object with UnityEyes' keys")
    return meta


def _numbers(text, count, path, key):
    """``"(1.0, -2, 3e-1)"`` -> float array; at least ``count`` numbers or ``DataError``."""
    values = _NUMBER.findall(text) if isinstance(text, str) else []
    if len(values) < count:
        raise DataError(path, f"{key} should be a string like \"(x, y, z)\" with at least "
                              f"{count} numbers, got {text!r}")
    numbers = np.array([float(value) for value in values])
    if not np.isfinite(numbers).all():
        raise DataError(path, f"{key} holds a number too large to be finite: {text!r}")
    return numbers


def _points(meta, key, path):
    """A list of ``"(x, y, z)"`` strings -> ``(K, 2)`` array of x, y (as stored)."""
    if key not in meta:
        raise DataError(path, f'missing "{key}" (a list of "(x, y, z)" strings)')
    if not isinstance(meta[key], list) or not meta[key]:
        raise DataError(path, f'"{key}" should be a non-empty list of "(x, y, z)" strings')
    return np.stack([_numbers(text, 2, path, key)[:2] for text in meta[key]])
