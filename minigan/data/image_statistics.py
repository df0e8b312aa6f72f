"""Image statistics that tell a simulator's eyes from real ones, for any set of eye images.

    stats = eye_statistics(images)      # images: (N, 1, H, W) or (N, H, W), values in [-1, 1]
    print(format_statistics({"builtin:photo": stats}))

Each number looks at one thing a refiner or a normalization could change:

* ``mean``, ``sd_of_means``: mean and standard deviation over images of the per-image mean
  (the spread of global brightness; 0 after per-image histogram equalization).
* ``mean_std``: mean over images of the per-image standard deviation (global contrast; a
  uniform histogram over [-1, 1] has 1/sqrt(3) = 0.577).
* ``high_frequency``: mean |x - box3(x)| over the interior pixels, box3 the 3x3 box average
  (fine texture, noise and sharp edges).
* ``flat``: the fraction of 5x5 neighbourhoods (whole ones, inside the image) whose standard
  deviation is under ``flat_threshold`` = 0.01 (regions with no texture at all).
* ``quartiles``: the fraction of pixels in each quarter of [-1, 1]: [-1, -0.5), [-0.5, 0),
  [0, 0.5), [0.5, 1] (how the histogram fills the range).
"""
from typing import Any, Dict, Mapping

import numpy as np

FLAT_THRESHOLD = 0.01
COLUMNS = ("n", "mean", "sd_of_means", "mean_std", "high_frequency", "flat", "quartiles")
HEADERS = ("source", "n", "mean of per-image mean", "sd of per-image mean", "mean per-image std",
           "3x3 high-freq. residual", "nearly flat 5x5", "quartiles of [-1, 1]")


def eye_statistics(images: np.ndarray, flat_threshold: float = FLAT_THRESHOLD) -> Dict[str, Any]:
    """The statistics above for ``images`` ``(N, 1, H, W)`` or ``(N, H, W)``, values in [-1, 1].

    Returns a dict with the keys of ``COLUMNS``: ``n`` (int), ``quartiles`` a ``(4,)`` array of
    fractions, the rest floats. Needs N >= 1 and H, W >= 5; computed in float64.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or x.shape[0] < 1 or x.shape[1] < 5 or x.shape[2] < 5:
        raise ValueError("eye_statistics: images must be (N, 1, H, W) or (N, H, W) with N >= 1 "
                         f"and H, W >= 5, got shape {np.shape(images)}")
    means = x.mean(axis=(1, 2))
    residual = np.abs(x[:, 1:-1, 1:-1] - _box_mean(x, 3))
    local_mean = _box_mean(x, 5)
    local_variance = _box_mean(x * x, 5) - local_mean * local_mean
    flat = np.maximum(local_variance, 0.0) < flat_threshold ** 2
    counts = np.histogram(np.clip(x, -1.0, 1.0), bins=[-1.0, -0.5, 0.0, 0.5, 1.0])[0]
    return {"n": len(x), "mean": float(means.mean()), "sd_of_means": float(means.std()),
            "mean_std": float(x.std(axis=(1, 2)).mean()),
            "high_frequency": float(residual.mean()), "flat": float(flat.mean()),
            "quartiles": counts / counts.sum()}


def _box_mean(x, size):
    """Mean over every whole ``size x size`` window of ``(N, H, W)``; ``(N, H - size + 1,
    W - size + 1)``."""
    height, width = x.shape[1] - size + 1, x.shape[2] - size + 1
    total = np.zeros((x.shape[0], height, width))
    for row in range(size):
        for column in range(size):
            total += x[:, row:row + height, column:column + width]
    return total / (size * size)


def format_statistics(rows: Mapping[str, Mapping[str, Any]]) -> str:
    """A Markdown table of ``{source name: eye_statistics(...)}``, one row per source."""
    lines = ["| " + " | ".join(HEADERS) + " |",
             "|---|" + "---:|" * (len(HEADERS) - 2) + "---|"]
    for name, stats in rows.items():
        quartiles = "/".join(f"{100 * share:.0f}" for share in stats["quartiles"])
        cells = (name, f"{stats['n']}", f"{stats['mean']:+.2f}", f"{stats['sd_of_means']:.3f}",
                 f"{stats['mean_std']:.3f}", f"{stats['high_frequency']:.3f}",
                 f"{100 * stats['flat']:.1f} %", f"{quartiles} %")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
