"""A plain folder of PNG/JPG images, with an optional ``labels.jsonl``: read and write.

Layout (what ``python -m minigan.make_eyes`` writes, and any folder of pictures also works):

    DIR/00000.png, DIR/00001.png, ...       any size, any mode: converted to 35 x 55 grayscale
    DIR/labels.jsonl                        optional, one JSON object per line:
        {"file": "00000.png", "gaze": [x, y, z], "pupil_center": [x, y], ...}

Without a labels file every image in the folder is read, in natural order (``2.png`` before
``10.png``). With one, the labels file is the index: its images are read in its order and
other pictures in the folder (a ``grid.png``, say) are left alone. Every line is checked
(``labels``): each label a finite number, or list of them, of one shape on every line. Every
numeric key becomes a label array ``(N, ...)``; other keys (strings, ...) are ignored. Images
are resized whole (no crop), so a folder of eye crops should already frame the eye.
"""
import os
import re
from typing import List, Mapping, Optional, Tuple

import numpy as np

from minigan.data.batches import ArrayDataset
from minigan.data.bad_files import BadFiles, DataError
from minigan.data.images import EYE_SIZE, IMAGE_SUFFIXES, PathLike, load_image_gray
from minigan.data.labels import (check_label_arrays, label_arrays, label_rows, read_labels,
                                 write_labels)
from minigan.io.png import save_png, to_uint8

LABELS_FILE = "labels.jsonl"


def natural_key(name):
    """Sort key that orders embedded numbers by value: ``img2`` < ``img10``."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


def list_images(folder, suffixes=IMAGE_SUFFIXES):
    """Names of the image files directly in ``folder``, naturally sorted.

    Raises ``DataError`` when ``folder`` is not a directory or holds no such file.
    """
    if not os.path.isdir(folder):
        raise DataError(folder, "not a directory (expected a folder of .png/.jpg images)")
    names = sorted((name for name in os.listdir(folder)
                    if name.lower().endswith(suffixes) and not name.startswith(".")),
                   key=natural_key)
    if not names:
        raise DataError(folder, f"no images found (expected files ending in {', '.join(suffixes)})")
    return names


def folder_index(folder, labels_file=LABELS_FILE, bad=None):
    """``(names, rows)``: the images of ``folder`` to read, in order, and their label rows
    (None without a labels file). With a labels file, it is the index (``labels.read_labels``:
    every row checked, a bad one raising or going to ``bad``); without, every image file."""
    bad = BadFiles(False) if bad is None else bad
    label_path = os.path.join(folder, labels_file)
    if os.path.isdir(folder) and os.path.lexists(label_path):
        rows = read_labels(label_path, bad)
        return list(rows), rows
    return list_images(folder), None


def load_folder(folder: PathLike, n: Optional[int] = None, skip_bad: bool = False,
                size: Tuple[int, int] = EYE_SIZE, labels_file: str = LABELS_FILE) -> ArrayDataset:
    """Read up to ``n`` images of ``folder`` as an ``ArrayDataset`` of ``(N, 1, H, W)``.

    Labels (and the list of images) come from ``folder/labels_file`` when it exists. A
    corrupt or missing image, or a bad labels line, raises ``DataError`` naming the file, or
    with ``skip_bad`` is skipped and listed in ``dataset.skipped``.
    """
    bad = BadFiles(skip_bad)
    names, rows = folder_index(folder, labels_file, bad)
    images, kept = [], []
    for name in names:
        if n is not None and len(images) >= n:
            break
        with bad.guard():
            images.append(load_image_gray(os.path.join(folder, name), size))
            kept.append(name)
    if not images:
        raise DataError(folder, f"no usable images ({bad.summary()})")
    labels = (label_arrays([rows[name] for name in kept], os.path.join(folder, labels_file))
              if rows is not None else {})
    return ArrayDataset(np.stack(images)[:, None], labels, skipped=bad)


def write_folder(folder: PathLike, images: np.ndarray,
                 labels: Optional[Mapping[str, np.ndarray]] = None,
                 labels_file: str = LABELS_FILE) -> List[str]:
    """Write ``(N, 1, H, W)`` images in [-1, 1] as ``00000.png ...`` and their labels.

    ``labels``: ``name -> (N, ...)`` finite arrays, written one JSON line per image (floats
    rounded to 6 digits, ``labels.write_labels``). Returns the list of file names.
    """
    os.makedirs(folder, exist_ok=True)
    pixels = to_uint8(images)
    digits = max(5, len(str(len(pixels) - 1)))
    names = [f"{index:0{digits}d}.png" for index in range(len(pixels))]
    for name, image in zip(names, pixels):
        save_png(os.path.join(folder, name), image)
    check_label_arrays(labels or {}, folder)
    write_labels(os.path.join(folder, labels_file), names, label_rows(labels or {}, len(names)))
    return names
