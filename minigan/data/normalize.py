"""Per-image normalizations of eye images: histogram equalization and standardization.

MPIIGaze's normalized eye images are histogram-equalized, one image at a time; gaze
estimators usually equalize or standardize their inputs. Both take images ``(..., H, W)``
with values in [-1, 1] and treat each ``H x W`` image on its own.
"""
import numpy as np

NORMALIZATIONS = ("histeq", "standardize", "none")


def equalize_histogram(images: np.ndarray) -> np.ndarray:
    """Per-image histogram equalization on 256 gray levels, as OpenCV's ``equalizeHist``.

    Each image is quantized to levels ``q = round((x + 1) * 127.5)`` in 0..255; with ``cdf``
    its cumulative histogram (pixel counts), N its pixel count and ``cdf_min`` the count of
    its darkest level, level q becomes

        round(255 * (cdf(q) - cdf_min) / (N - cdf_min))

    so the darkest pixels go to 0, the brightest to 255 and the histogram becomes nearly flat.
    An image of one level is left as it is. Returns float32 in [-1, 1], the shape of ``images``.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError(f"equalize_histogram: images must be (..., H, W), got shape {x.shape}")
    flat = x.reshape(-1, x.shape[-2] * x.shape[-1])
    levels = np.rint((np.clip(flat, -1.0, 1.0) + 1.0) * 127.5).astype(np.int64)
    count, pixels = flat.shape
    offsets = 256 * np.arange(count)[:, None]
    histogram = np.bincount((levels + offsets).ravel(), minlength=256 * count).reshape(count, 256)
    cdf = np.cumsum(histogram, axis=1)
    cdf_min = np.take_along_axis(cdf, levels.min(axis=1, keepdims=True), axis=1)
    spread = np.maximum(pixels - cdf_min, 1)
    table = np.rint(255.0 * (cdf - cdf_min) / spread)
    table = np.where(pixels > cdf_min, table, np.arange(256)[None, :])  # one level: unchanged
    equalized = np.take_along_axis(table, levels, axis=1)
    return (equalized / 127.5 - 1.0).astype(np.float32).reshape(x.shape)


def standardize(images: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """Per image: ``(x - mean) / (std + eps)`` over its ``H x W`` pixels (float32)."""
    x = np.asarray(images, dtype=np.float32)
    if x.ndim < 2:
        raise ValueError(f"standardize: images must be (..., H, W), got shape {x.shape}")
    centred = x - x.mean(axis=(-2, -1), keepdims=True)
    return centred / (centred.std(axis=(-2, -1), keepdims=True) + eps)


def normalize(images: np.ndarray, kind: str) -> np.ndarray:
    """``kind`` of ``NORMALIZATIONS``: ``histeq`` (``equalize_histogram``), ``standardize`` or
    ``none`` (the images as float32)."""
    if kind == "histeq":
        return equalize_histogram(images)
    if kind == "standardize":
        return standardize(images)
    if kind == "none":
        return np.asarray(images, dtype=np.float32)
    raise ValueError(f"normalize: kind must be one of {NORMALIZATIONS}, got {kind!r}")
