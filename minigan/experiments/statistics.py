"""Intervals over seeds: what a result table needs to say how sure it is.

A seed here is one whole replicate of an experiment (SimGAN's initialization, the estimators'
training data and test set), so replicates are independent and every row of one replicate
shares its data: differences between rows are *paired* by seed.

    t_interval([9.1, 8.7, 9.5, 8.9, 9.0])         # mean and its 95 % t-interval
    paired_difference(simgan, synthetic)          # mean of the per-seed differences, interval
"""
import math

import numpy as np
from scipy import stats


def t_interval(values, confidence=0.95):
    """``{"n", "mean", "sd", "low", "high"}`` of ``values`` ``(n,)``: the mean and its
    two-sided Student-t interval, mean +- t_{(1 + confidence) / 2, n - 1} sd / sqrt(n).

    With n = 1 the interval is unknown (None).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"t_interval: need a non-empty 1-D array of finite values, got {values!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"t_interval: confidence must lie in (0, 1), got {confidence}")
    n, mean = x.size, float(x.mean())
    if n == 1:
        return {"n": 1, "mean": mean, "sd": None, "low": None, "high": None}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return {"n": n, "mean": mean, "sd": sd, "low": mean - half, "high": mean + half}


def paired_difference(a, b, confidence=0.95):
    """The per-seed differences ``a - b`` (both ``(n,)``, seed i of a paired with seed i of b)
    and their ``t_interval``, plus ``differences`` (list) and ``p``, the two-sided p-value of
    the paired t-test that the mean difference is 0 (None with n = 1 or no spread)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired_difference: need two 1-D arrays of one length (one value per "
                         f"seed), got shapes {a.shape} and {b.shape}")
    differences = a - b
    interval = t_interval(differences, confidence)
    p = None
    if interval["n"] > 1 and interval["sd"] > 0:
        t = interval["mean"] / (interval["sd"] / math.sqrt(interval["n"]))
        p = float(2 * stats.t.sf(abs(t), interval["n"] - 1))
    return dict(interval, differences=differences.tolist(), p=p)
