"""Reading eye images from files: any PNG/JPG as grayscale at its bit depth, cropped and resized
to 35 x 55, in [-1, 1].

An 8-bit image u in 0..255 becomes u / 127.5 - 1 (``minigan.io.png.from_uint8``, exact for
every value); a 16-bit one (PNG ``I;16``, or uint16 arrays) v in 0..65535 becomes
v / 32767.5 - 1, read in floating point so that nothing clips. Colour is converted to gray
(Pillow's ``L``). Anything else is refused with ``DataError``, and so is a path that is no
regular file (a FIFO would hang the reader). The pixel conversions of writing live in
``minigan.io.png``.
"""
import os
from typing import Union

import numpy as np

from minigan.data.bad_files import DataError
from minigan.io.inputs import open_regular
from minigan.io.png import from_uint8, pil_image

PathLike = Union[str, os.PathLike]  # a file or folder argument of the loaders
EYE_SIZE = (35, 55)  # (H, W) of every eye image in minigan
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
EIGHT_BIT_MAX = 255.0


def open_gray(path):
    """Open an image file fully (so a truncated file fails here) as grayscale: mode ``L`` for
    an 8-bit image, ``F`` holding 0..255 (v / 257) for a 16-bit one.

    Raises ``DataError`` naming ``path`` when it cannot be read, or is no regular file.
    """
    Image = pil_image()
    try:
        with open_regular(path) as handle, Image.open(handle) as image:
            image.load()
            return _gray(image, path)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except DataError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        reason = getattr(error, "strerror", None) or f"not a readable PNG/JPG image ({error})"
        raise DataError(path, reason) from None


def _gray(image, path):
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise DataError(path, f"mode {image.mode} holds values outside 0..65535; expected "
                                  "an 8- or 16-bit image")
        return pil_image().fromarray(values.astype(np.float32) / 257.0, mode="F")
    if image.mode == "F":
        raise DataError(path, "holds floating-point pixels; expected an 8- or 16-bit image")
    return image.convert("L")


def resize_gray(image, size=EYE_SIZE, box=None):
    """A grayscale Pillow image (``L`` or ``F``, optionally cropped to ``box``) -> ``(H, W)``
    at ``size``: uint8 for ``L``, float32 in [0, 255] for ``F``.

    ``size`` is ``(H, W)``; ``box`` is ``(left, top, right, bottom)`` in pixels. Downscaling
    uses Lanczos filtering so thin features (eyelashes, glints) do not alias.
    """
    height, width = size
    resized = image.resize((width, height), resample=pil_image().Resampling.LANCZOS, box=box)
    if resized.mode == "F":
        return np.clip(np.asarray(resized, dtype=np.float32), 0.0, EIGHT_BIT_MAX)
    return np.asarray(resized, dtype=np.uint8)


def resize_array(image, size=EYE_SIZE):
    """Resize one ``(h, w)`` uint8 (or float32 in [0, 255]) array to ``size = (H, W)``
    (Lanczos, through Pillow)."""
    image = np.ascontiguousarray(image)
    if image.dtype == np.uint8:
        return resize_gray(pil_image().fromarray(image), size)
    return resize_gray(pil_image().fromarray(image.astype(np.float32), mode="F"), size)


def to_unit_range(pixels):
    """``(N, H, W)`` or ``(H, W)`` uint8, or float32 in [0, 255] -> ``(N, 1, H, W)`` float32 in
    [-1, 1]."""
    pixels = np.asarray(pixels)
    if pixels.dtype == np.uint8:
        return from_uint8(pixels)
    array = pixels.astype(np.float32)
    array = array[None] if array.ndim == 2 else array
    return (array / np.float32(127.5) - np.float32(1.0))[:, None]


def load_image_gray(path, size=EYE_SIZE, box=None):
    """Read any PNG/JPG as grayscale, crop to ``box`` if given, resize to ``size = (H, W)``.

    Returns ``(H, W)`` float32 in [-1, 1]. Raises ``DataError`` for an unreadable file.
    """
    return to_unit_range(resize_gray(open_gray(path), size, box))[0, 0]
