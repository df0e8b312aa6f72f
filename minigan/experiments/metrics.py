"""The numbers the paper reports, as plain NumPy functions (no model, no device).

* ``angular_error``: degrees between predicted and true gaze vectors (Table 2, Table 3, Fig. 7)
* ``percent_within`` / ``cumulative_error_curve``: % of images within d degrees (Table 2, Fig. 7)
* ``pupil_centers`` / ``pupil_shift``: an automatic pupil-centre estimate, and how far it moves
  between a synthetic image and its refined version ("Preserving Ground Truth": 1.1 +- 0.8 px)
* ``binomial_p_value``: exact binomial test of a visual Turing test score (Table 1: 517 correct
  of 1000 gives p = 0.148, one-sided)
"""
import numpy as np
from scipy import ndimage, stats

from minigan.data.normalize import equalize_histogram


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


def pupil_centers(images, radii=tuple(np.arange(6.0, 11.01, 0.5)), arc=45.0, band=1.5,
                  darkness=0.3, prior=(10.0, 6.0), prior_weight=0.3):
    """Estimate each eye's pupil centre: ``(N, 1, H, W)`` in [-1, 1] -> ``(N, 2)`` pixel (x, y).

    Pixel (x, y) is column x, row y, centres at integers (the renderer's convention). The
    pupil centre is the iris centre; the iris is found as a dark disk whose left and right
    rims (the limbus) are edges from dark to bright sclera:

    1. Per image: histogram equalization (so only the order of the 256 gray levels counts,
       and a change of tone moves the estimate only where it merges levels), a 3x3 grey
       opening (removes glints of up to 2 px inside the iris), a gaussian blur of 0.7 px.
    2. For each radius r in ``radii`` and each pixel c, with x the prepared image sampled
       bilinearly, ``u(t) = (cos t, sin t)`` and T the angles within ``arc`` degrees of the
       horizontal on both sides (the rims the lids cover least):

           score_r(c) = mean_{t in T} [x(c + (r + band) u(t)) - x(c + (r - band) u(t))]
                        - darkness * mean of x over the r x r box at c
                        - prior_weight * (((c_x - W_mid) / prior_x)^2 + ((c_y - H_mid) / prior_y)^2)

       The last term, a weak pull towards the middle of the crop where eyes sit, keeps dark
       eye corners and glasses frames from winning.
    3. The best (r, c) wins; the position is refined to sub-pixel accuracy by a parabola
       through the score (without the pull) at c and its neighbours along x and along y.

    The label of a rendered eye is the centre of its whole iris, which the lids often partly
    cover; where they do, the visible rims say little about its height. On 1000 eyes of each
    style (seed 7) the estimate lies a median 1.95 px (synthetic) and 1.38 px (photo) from the
    label, more than 4 px on 11 % and 14 % of them (``tests/test_experiments_metrics.py``
    checks bounds on other eyes). It is the same function on both sides of every comparison,
    so a bias common to both cancels in ``pupil_shift``.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"pupil_centers: images must be (N, 1, H, W), got shape {x.shape}")
    n, _, height, width = x.shape
    reach = int(np.ceil(max(radii) + band)) + 1
    if height < 8 or width < 8:
        raise ValueError(f"pupil_centers: images of {height}x{width} are too small")
    x = equalize_histogram(x[:, 0]).astype(np.float64)
    x = ndimage.grey_opening(x, size=(1, 3, 3))
    x = ndimage.gaussian_filter(x, (0, 0.7, 0.7), mode="nearest")
    padded = np.pad(x, ((0, 0), (reach, reach), (reach, reach)), mode="edge")

    def sample(dx, dy):
        """x at every pixel moved by (dx, dy), bilinear, the border repeated: (N, H, W)."""
        ix, iy = int(np.floor(dx)), int(np.floor(dy))
        fx, fy = dx - ix, dy - iy
        def at(i, j):
            return padded[:, reach + j:reach + j + height, reach + i:reach + i + width]
        return ((1 - fx) * (1 - fy) * at(ix, iy) + fx * (1 - fy) * at(ix + 1, iy)
                + (1 - fx) * fy * at(ix, iy + 1) + fx * fy * at(ix + 1, iy + 1))

    sides = np.deg2rad(np.linspace(-arc, arc, 9))
    angles = np.concatenate([sides, np.pi + sides])
    rows, cols = np.mgrid[0:height, 0:width]
    pull = prior_weight * (((cols - (width - 1) / 2) / prior[0]) ** 2
                           + ((rows - (height - 1) / 2) / prior[1]) ** 2)
    best = np.full((n, height, width), -np.inf)                        # max over r
    for r in radii:
        rims = sum(sample((r + band) * np.cos(t), (r + band) * np.sin(t))
                   - sample((r - band) * np.cos(t), (r - band) * np.sin(t)) for t in angles)
        inside = ndimage.uniform_filter(x, size=(1, int(r), int(r)), mode="nearest")
        np.maximum(best, rims / len(angles) - darkness * inside, out=best)
    index = (best - pull).reshape(n, -1).argmax(axis=1)
    row, col = np.unravel_index(index, (height, width))
    images_index = np.arange(n)

    def vertex(before, centre, after):
        """Offset in [-0.5, 0.5] of the top of the parabola through three equally spaced values."""
        curvature = before - 2 * centre + after
        safe = np.where(curvature < 0, curvature, -1.0)
        return np.where(curvature < 0, np.clip(0.5 * (before - after) / safe, -0.5, 0.5), 0.0)

    centre = best[images_index, row, col]
    left = best[images_index, row, np.maximum(col - 1, 0)]
    right = best[images_index, row, np.minimum(col + 1, width - 1)]
    up = best[images_index, np.maximum(row - 1, 0), col]
    down = best[images_index, np.minimum(row + 1, height - 1), col]
    return np.stack([col + vertex(left, centre, right), row + vertex(up, centre, down)], axis=1)


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


def binomial_p_value(k, n, p=0.5, alternative="greater"):
    """Exact binomial test of ``k`` successes in ``n`` trials against success probability ``p``,
    ``X ~ Binomial(n, p)``; ``scipy.stats.binomtest(k, n, p, alternative).pvalue``:

        greater:   P(X >= k)          (are people better than chance? the paper's test)
        less:      P(X <= k)
        two-sided: sum of P(X = i) over every i with P(X = i) <= P(X = k)

    The paper's Table 1: 517 of 1000 -> 0.148; 162 of 200 -> 1e-19 (reported as p <= 1e-8).
    """
    if int(n) != n or n < 1 or int(k) != k or not 0 <= k <= n:
        raise ValueError(f"binomial_p_value: need integers 0 <= k <= n, n >= 1; got k={k}, n={n}")
    if not 0 < p < 1:
        raise ValueError(f"binomial_p_value: p must lie in (0, 1), got {p}")
    if alternative not in ALTERNATIVES:
        raise ValueError(f"binomial_p_value: alternative must be one of {ALTERNATIVES}, "
                         f"got {alternative!r}")
    return float(stats.binomtest(int(k), int(n), p, alternative=alternative).pvalue)
