"""The numbers the paper reports, as plain NumPy functions (no model, no device).

* ``angular_error``: degrees between predicted and true gaze vectors (Table 2, Table 3, Fig. 7)
* ``percent_within`` / ``cumulative_error_curve``: % of images within d degrees (Table 2, Fig. 7)
* ``pupil_centers`` / ``pupil_shift``: an automatic pupil-centre estimate, and how far it moves
  between a synthetic image and its refined version ("Preserving Ground Truth": 1.1 +- 0.8 px)
* ``binomial_p_value``: exact binomial test of a visual Turing test score (Table 1: 517 correct
  of 1000 gives p = 0.148, one-sided)
"""
import math

import numpy as np
from scipy import ndimage


# -- gaze ------------------------------------------------------------------------------------
def angular_error(predicted, target):
    """Angle in degrees between rows of ``predicted`` and ``target``, both ``(N, 3)`` -> ``(N,)``.

        angle = atan2(|a x b|, a . b)

    Neither vector needs unit length. atan2 rather than arccos(a.b / |a||b|) because arccos is
    flat near 0 degrees: rounding there would cost most of a degree in float32.
    """
    a = np.asarray(predicted, dtype=np.float64)
    b = np.asarray(target, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3 or a.shape != b.shape:
        raise ValueError(f"angular_error: expected two (N, 3) arrays of gaze vectors, got "
                         f"shapes {a.shape} and {b.shape}")
    if np.any(np.linalg.norm(a, axis=1) == 0) or np.any(np.linalg.norm(b, axis=1) == 0):
        raise ValueError("angular_error: a zero vector has no direction")
    cross = np.linalg.norm(np.cross(a, b), axis=1)
    return np.degrees(np.arctan2(cross, np.sum(a * b, axis=1)))


def percent_within(errors, degrees=7.0):
    """% of ``errors`` (degrees, ``(N,)``) at most ``degrees``: the paper's Table 2 uses d = 7."""
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        raise ValueError("percent_within: no errors given")
    return 100.0 * float(np.mean(errors <= degrees))


def cumulative_error_curve(errors, max_degrees=25.0, step=0.5):
    """The paper's Figure 7: ``(thresholds, percents)``, both ``(K,)``.

    ``thresholds = 0, step, ..., max_degrees``; ``percents[k] = percent_within(errors,
    thresholds[k])``, a non-decreasing curve that reaches 100 once every error is covered.
    """
    if step <= 0 or max_degrees <= 0:
        raise ValueError(f"cumulative_error_curve: step and max_degrees must be > 0, got "
                         f"{step} and {max_degrees}")
    errors = np.sort(np.asarray(errors, dtype=np.float64))
    if errors.size == 0:
        raise ValueError("cumulative_error_curve: no errors given")
    thresholds = np.arange(0.0, max_degrees + step / 2, step)
    percents = 100.0 * np.searchsorted(errors, thresholds, side="right") / errors.size
    return thresholds, percents


# -- pupil centre ----------------------------------------------------------------------------


def pupil_centers(images, smooth=1.0, blob=2.0, flank=8, border=3, window=5):
    """Estimate each eye's pupil centre: ``(N, 1, H, W)`` in [-1, 1] -> ``(N, 2)`` pixel (x, y).

    Pixel (x, y) is column x, row y, centres at integers (the renderer's convention).

    1. Find the iris: blur by ``blob`` (gaussian sigma, px) and score each pixel by how much
       darker it is than the mean of the two points ``flank`` px to its left and right:

           score(x, y) = (c(x - flank, y) + c(x + flank, y)) / 2 - c(x, y)

       A dark iris sits between bright sclera, which this rewards. An isotropic
       centre-surround filter also fires on the dark skin crease above the lid in the photo
       style; comparing only along x does not. Pixels within ``border`` of the edge never win.
    2. Refine: in the (2 window + 1)^2 box around the best score (lightly blurred by
       ``smooth`` against sensor noise) keep the pixels darker than half-way from the box's
       minimum to its median, and return their centroid weighted by how much darker they are.

    On the renderer's eyes the estimate lies a median ~0.1 px (synthetic) and ~0.9 px (photo)
    from the true centre (``tests/test_experiments_metrics.py`` checks it); it is the same
    function on both sides of every comparison, so a fixed bias cancels in ``pupil_shift``.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"pupil_centers: images must be (N, 1, H, W), got shape {x.shape}")
    n, _, height, width = x.shape
    if height <= 2 * border or width <= 2 * (border + flank):
        raise ValueError(f"pupil_centers: images of {height}x{width} are too small for "
                         f"border={border}, flank={flank}")
    x = x[:, 0]
    dark = ndimage.gaussian_filter(x, (0, blob, blob), mode="nearest")
    flanks = np.pad(dark, ((0, 0), (0, 0), (flank, flank)), mode="edge")
    score = (flanks[:, :, :width] + flanks[:, :, 2 * flank:]) / 2 - dark
    score[:, :border], score[:, height - border:] = -np.inf, -np.inf
    score[:, :, :border], score[:, :, width - border:] = -np.inf, -np.inf
    best = score.reshape(n, -1).argmax(axis=1)
    row, col = np.unravel_index(best, (height, width))

    # Boxes that cross the edge are padded with NaN so the nan-statistics ignore those pixels.
    smoothed = ndimage.gaussian_filter(x, (0, smooth, smooth), mode="nearest")
    padded = np.pad(smoothed, ((0, 0), (window, window), (window, window)),
                    constant_values=np.nan)
    side = 2 * window + 1
    boxes = np.lib.stride_tricks.sliding_window_view(padded, (side, side), axis=(1, 2))
    box = boxes[np.arange(n), row, col]                                   # (N, side, side)
    low = np.nanmin(box, axis=(1, 2), keepdims=True)
    middle = np.nanmedian(box, axis=(1, 2), keepdims=True)
    weight = np.nan_to_num(np.clip(low + 0.5 * (middle - low) - box, 0, None))
    weight[weight.sum(axis=(1, 2)) == 0] = 1.0  # a flat box: its centre is all we know
    offsets = np.arange(-window, window + 1, dtype=np.float64)
    total = weight.sum(axis=(1, 2))
    dx = (weight * offsets[None, None, :]).sum(axis=(1, 2)) / total
    dy = (weight * offsets[None, :, None]).sum(axis=(1, 2)) / total
    return np.stack([col + dx, row + dy], axis=1)


def pupil_shift(before, after, **search):
    """Pixel distance between the estimated pupil centres of paired images -> ``(N,)``.

    ``before``/``after``: ``(N, 1, H, W)``, e.g. synthetic images and their refined versions.
    The paper reports mean +- std of this over 100 images: 1.1 +- 0.8 px.
    """
    before, after = np.asarray(before), np.asarray(after)
    if before.shape != after.shape:
        raise ValueError(f"pupil_shift: paired images must have one shape, got {before.shape} "
                         f"and {after.shape}")
    return np.linalg.norm(pupil_centers(before, **search) - pupil_centers(after, **search), axis=1)


# -- visual Turing test ----------------------------------------------------------------------
ALTERNATIVES = ("greater", "less", "two-sided")


def _log_pmf(n, p):
    """log P(X = k) for k = 0..n, X ~ Binomial(n, p), 0 < p < 1, as a float64 ``(n + 1,)``."""
    k = np.arange(n + 1)
    log_choose = (math.lgamma(n + 1) - np.array([math.lgamma(i + 1) for i in k])
                  - np.array([math.lgamma(n - i + 1) for i in k]))
    return log_choose + k * math.log(p) + (n - k) * math.log1p(-p)


def binomial_p_value(k, n, p=0.5, alternative="greater"):
    """Exact binomial test of ``k`` successes in ``n`` trials against success probability ``p``.

        greater:   P(X >= k)          (are people better than chance? the paper's test)
        less:      P(X <= k)
        two-sided: sum of P(X = i) over every i with P(X = i) <= P(X = k)

    Same conventions as ``scipy.stats.binomtest(k, n, p, alternative).pvalue`` (the two-sided
    sum allows a relative slack of 1e-7, as scipy does, so ties in the pmf count). The paper's
    Table 1: 517 of 1000 -> 0.148; 162 of 200 -> 1e-19 (reported as p <= 1e-8).
    """
    if int(n) != n or n < 1 or int(k) != k or not 0 <= k <= n:
        raise ValueError(f"binomial_p_value: need integers 0 <= k <= n, n >= 1; got k={k}, n={n}")
    if not 0 < p < 1:
        raise ValueError(f"binomial_p_value: p must lie in (0, 1), got {p}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"binomial_p_value: alternative must be one of {ALTERNATIVES}, "
                         f"got {alternative!r}")
    k, n = int(k), int(n)
    pmf = np.exp(_log_pmf(n, p))
    if alternative == "greater":
        total = math.fsum(pmf[k:])
    elif alternative == "less":
        total = math.fsum(pmf[:k + 1])
    elif k == p * n:
        total = 1.0
    else:
        total = math.fsum(pmf[pmf <= pmf[k] * (1 + 1e-7)])
    return min(1.0, total)
