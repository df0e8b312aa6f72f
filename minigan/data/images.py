"""Reading eye images from files: any PNG/JPG as grayscale, cropped and resized to 35 x 55.

The pixel conversions (uint8 <-> [-1, 1]) and PNG writing live in ``minigan.io.png``.
"""
import os
from typing import Union

import numpy as np

from minigan.data.bad_files import DataError
from minigan.io.png import from_uint8, pil_image

EYE_SIZE = (35, 55)  # (H, W) of every eye image in minigan
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
PathLike = Union[str, os.PathLike]  # a file or folder argument of the loaders


def open_gray(path):
    """Open an image file fully (so a truncated file fails here) as 8-bit grayscale ``'L'``.

    Raises ``DataError`` naming ``path`` when Pillow cannot decode it.
    """
    Image = pil_image()
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert("L")
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise DataError(path, f"not a readable PNG/JPG image ({error})") from None


def resize_gray(image, size=EYE_SIZE, box=None):
    """A Pillow ``'L'`` image (optionally cropped to ``box``) -> ``(H, W)`` uint8 at ``size``.

    ``size`` is ``(H, W)``; ``box`` is ``(left, top, right, bottom)`` in pixels. Downscaling
    uses Lanczos filtering so thin features (eyelashes, glints) do not alias.
    """
    height, width = size
    resized = image.resize((width, height), resample=pil_image().Resampling.LANCZOS, box=box)
    return np.asarray(resized, dtype=np.uint8)


def resize_array(image, size=EYE_SIZE):
    """Resize one ``(h, w)`` uint8 array to ``size = (H, W)`` (Lanczos, through Pillow)."""
    return resize_gray(pil_image().fromarray(np.ascontiguousarray(image, dtype=np.uint8)), size)


def load_image_gray(path, size=EYE_SIZE, box=None):
    """Read any PNG/JPG as grayscale, crop to ``box`` if given, resize to ``size = (H, W)``.

    Returns ``(H, W)`` float32 in [-1, 1]. Raises ``DataError`` for an unreadable file.
    """
    return from_uint8(resize_gray(open_gray(path), size, box))[0, 0]
