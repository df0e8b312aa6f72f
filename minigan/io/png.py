"""Images at the library's edge: float32 in [-1, 1] <-> 8-bit grayscale, PNG files, grids.

Inside minigan an image batch is ``(N, 1, H, W)`` float32 with black = -1 and white = +1.
On disk it is an 8-bit grayscale PNG. The two maps are

    to_uint8:   u = round((x + 1) * 127.5), clipped to [0, 255]
    from_uint8: x = u / 127.5 - 1

so a uint8 image survives the round trip exactly. Files go through Pillow and are written
atomically (``atomic``): a PNG on disk is always whole.
"""
import numpy as np

from minigan.io.atomic import atomic_file


def pil_image():
    """Pillow's ``Image`` module (an install requirement: say so if it is missing)."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("minigan needs Pillow to read and write images: "
                          "pip install pillow") from error
    return Image


def to_uint8(images):
    """``(N, 1, H, W)``, ``(N, H, W)`` or ``(H, W)`` floats in [-1, 1] -> ``(N, H, W)`` uint8.

    Values outside [-1, 1] are clipped. A 2-D input gives ``N = 1``.
    """
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 4:
        if array.shape[1] != 1:
            raise ValueError(f"to_uint8: images must have 1 channel, got shape {array.shape}")
        array = array[:, 0]
    elif array.ndim == 2:
        array = array[None]
    elif array.ndim != 3:
        raise ValueError("to_uint8: images must be (N, 1, H, W), (N, H, W) or (H, W); "
                         f"got shape {array.shape}")
    return np.clip(np.rint((array + 1.0) * 127.5), 0, 255).astype(np.uint8)


def from_uint8(images):
    """``(N, H, W)`` or ``(H, W)`` uint8 -> ``(N, 1, H, W)`` float32 in [-1, 1]."""
    array = np.asarray(images)
    if array.dtype != np.uint8:
        raise ValueError(f"from_uint8: expected a uint8 array, got dtype {array.dtype}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(f"from_uint8: expected (N, H, W) or (H, W), got shape {array.shape}")
    return (array.astype(np.float32) / 127.5 - 1.0)[:, None]


def save_png(path, image):
    """Write one ``(H, W)`` uint8 array as an 8-bit grayscale PNG."""
    save_image(path, pil_image().fromarray(np.ascontiguousarray(image, dtype=np.uint8)))  # "L"


def save_image(path, image):
    """Write a Pillow image as a PNG to ``path`` atomically."""
    with atomic_file(path, "wb") as handle:
        image.save(handle, format="PNG")


def make_grid(images, nrow=10, padding=1, scale=1, pad_value=255):
    """Tile ``(N, 1, H, W)`` images in [-1, 1] into one ``(rows*(H+p)+p, nrow*(W+p)+p)`` uint8.

    Images fill the grid row by row; ``scale`` enlarges each pixel to ``scale x scale`` (nearest
    neighbour, so the pixels a model sees stay visible); the gaps are ``pad_value``.
    """
    if isinstance(scale, bool) or int(scale) != scale or scale < 1:
        raise ValueError(f"make_grid: scale must be a positive integer, got {scale!r}")
    tiles = to_uint8(images)
    if scale != 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    count, height, width = tiles.shape
    if count == 0:
        raise ValueError("make_grid: no images to tile")
    rows = -(-count // nrow)
    grid = np.full((rows * (height + padding) + padding, nrow * (width + padding) + padding),
                   pad_value, dtype=np.uint8)
    for index in range(count):
        top = padding + (index // nrow) * (height + padding)
        left = padding + (index % nrow) * (width + padding)
        grid[top:top + height, left:left + width] = tiles[index]
    return grid


def save_grid(path, images, nrow=10, padding=1, scale=1):
    """Write ``(N, 1, H, W)`` images in [-1, 1] as one grid PNG (see ``make_grid``)."""
    save_png(path, make_grid(images, nrow=nrow, padding=padding, scale=scale))
