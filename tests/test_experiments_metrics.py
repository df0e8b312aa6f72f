"""Metrics of the experiments, against answers known in advance."""
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from minigan.data.eyes import render_eyes
from minigan.experiments.metrics import (angular_error, binomial_p_value,
                                         cumulative_error_curve, percent_within, pupil_centers,
                                         pupil_shift)


# -- angular error ---------------------------------------------------------------------------
@pytest.mark.task6_1
def test_angular_error_of_known_vector_pairs():
    predicted = [[0, 0, -1], [1, 0, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]]
    target = [[0, 0, -3], [0, 1, 0], [1, 0, 0], [0, 0, -1], [1, 0, 1]]
    np.testing.assert_allclose(angular_error(predicted, target), [0, 90, 45, 180, 45],
                               atol=1e-12)


@pytest.mark.task6_1
def test_angular_error_resolves_a_thousandth_of_a_degree():
    angle = np.radians(1e-3)
    predicted = np.array([[0.0, np.sin(angle), -np.cos(angle)]], dtype=np.float32)
    assert angular_error(predicted, [[0.0, 0.0, -1.0]])[0] == pytest.approx(1e-3, rel=1e-3)


@pytest.mark.task6_1
def test_angular_error_rejects_bad_shapes_and_zero_vectors():
    with pytest.raises(ValueError, match="N, 3"):
        angular_error(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="zero vector"):
        angular_error([[0, 0, 0]], [[0, 0, 1]])


@pytest.mark.task6_1
def test_percent_within_counts_the_threshold_itself():
    assert percent_within([1.0, 7.0, 7.1, 30.0]) == 50.0
    assert percent_within([1.0, 7.0, 7.1, 30.0], degrees=10) == 75.0


@pytest.mark.task6_1
def test_cumulative_curve_rises_to_100_and_matches_percent_within():
    errors = np.random.default_rng(0).exponential(5.0, size=200)
    thresholds, percents = cumulative_error_curve(errors, max_degrees=25, step=0.5)
    assert thresholds[0] == 0 and thresholds[-1] == 25 and len(thresholds) == 51
    assert np.all(np.diff(percents) >= 0)
    assert percents[thresholds == 7.0][0] == percent_within(errors, 7.0)
    assert cumulative_error_curve([1.0, 2.0], max_degrees=5)[1][-1] == 100.0


# -- pupil centre ----------------------------------------------------------------------------
def disk_image(cx, cy, radius=8.0, height=35, width=55):
    """A dark anti-aliased disk at (cx, cy) on a bright background, as (1, 1, H, W) in [-1, 1]."""
    ys, xs = np.mgrid[0:height, 0:width]
    inside = np.clip(radius + 0.5 - np.hypot(xs - cx, ys - cy), 0, 1)
    return (0.6 - 1.5 * inside)[None, None].astype(np.float32)


@pytest.mark.parametrize("cx, cy", [(27.0, 17.0), (20.3, 14.6), (35.7, 20.2), (12.5, 18.5)])
def test_pupil_centre_of_a_rendered_disk(cx, cy):
    estimate = pupil_centers(disk_image(cx, cy))[0]
    np.testing.assert_allclose(estimate, [cx, cy], atol=0.2)


def test_pupil_centre_survives_noise():
    rng = np.random.default_rng(1)
    images = np.concatenate([disk_image(26.4, 16.8) for _ in range(20)])
    images += rng.normal(0, 0.15, images.shape).astype(np.float32)
    errors = np.linalg.norm(pupil_centers(images) - [26.4, 16.8], axis=1)
    assert np.median(errors) < 0.5 and errors.max() < 1.5


# The lids often cover part of the iris, whose centre is the label: where they do, the visible
# rims say little about its height, so the bounds are a pixel or two, not tenths (1000 eyes of
# each style, seed 7: median 1.95 / 1.38 px, over 4 px for 11 % / 14 %).
@pytest.mark.parametrize("style, median_px, gross", [("synthetic", 2.3, 0.12),
                                                     ("photo", 1.8, 0.18)])
def test_pupil_centre_on_rendered_eyes_is_close_to_the_label(style, median_px, gross):
    eyes = render_eyes(300, style, seed=4242)
    estimate = pupil_centers(eyes.images)
    errors = np.linalg.norm(estimate - eyes.pupil_center, axis=1)
    assert np.median(errors) < median_px and np.mean(errors > 4) < gross
    follows = [np.corrcoef(estimate[:, k], eyes.pupil_center[:, k])[0, 1] for k in (0, 1)]
    assert follows[0] > 0.85 and follows[1] > 0.7


def test_pupil_centre_does_not_follow_a_change_of_tone():
    # equalization keeps only the order of 256 gray levels; darkening merges some levels, so
    # on a few eyes a near tie between two dark disks goes the other way
    eyes = render_eyes(50, "synthetic", seed=3).images
    darker = np.clip(0.6 * eyes - 0.3, -1, 1)
    moved = np.linalg.norm(pupil_centers(darker) - pupil_centers(eyes), axis=1)
    assert np.median(moved) < 0.05 and np.mean(moved <= 0.5) >= 0.9, np.sort(moved)[-5:]


def test_pupil_shift_is_zero_for_the_same_images_and_follows_a_translation():
    images = np.concatenate([disk_image(24.0, 17.0), disk_image(30.0, 15.0)])
    np.testing.assert_allclose(pupil_shift(images, images), 0.0)
    moved = np.roll(images, 2, axis=3)
    np.testing.assert_allclose(pupil_shift(images, moved), 2.0, atol=0.05)


def test_pupil_functions_reject_wrong_shapes():
    with pytest.raises(ValueError, match="N, 1, H, W"):
        pupil_centers(np.zeros((35, 55)))
    with pytest.raises(ValueError, match="one shape"):
        pupil_shift(np.zeros((1, 1, 35, 55)), np.zeros((2, 1, 35, 55)))


# -- binomial test ---------------------------------------------------------------------------
@pytest.mark.task6_3
def test_binomial_p_value_reproduces_the_papers_table_1():
    assert binomial_p_value(517, 1000) == pytest.approx(0.148, abs=5e-4)
    assert binomial_p_value(162, 200) <= 1e-8


def binomial_sum_by_hand(k, n, p, alternative):
    """The exact p-value in rational arithmetic: P(X >= k), P(X <= k), or the sum of every
    P(X = i) <= P(X = k) (two-sided, with scipy's relative slack of 1e-7 for ties)."""
    p = Fraction(str(p))
    pmf = [comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(n + 1)]
    if alternative == "greater":
        return float(sum(pmf[k:]))
    if alternative == "less":
        return float(sum(pmf[:k + 1]))
    return float(min(1, sum(q for q in pmf if q <= pmf[k] * (1 + Fraction(1, 10 ** 7)))))


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
@pytest.mark.parametrize("k, n, p", [(517, 1000, 0.5), (162, 200, 0.5), (0, 7, 0.5),
                                     (7, 7, 0.5), (3, 10, 0.3), (30, 100, 0.25), (50, 100, 0.5),
                                     (1, 2000, 0.5), (12, 40, 0.35)])
@pytest.mark.task6_3
def test_binomial_p_value_is_the_exact_binomial_sum(k, n, p, alternative):
    expected = binomial_sum_by_hand(k, n, p, alternative)
    assert binomial_p_value(k, n, p, alternative) == pytest.approx(expected, rel=1e-9, abs=1e-300)


@pytest.mark.task6_3
def test_binomial_p_value_rejects_impossible_arguments():
    for k, n, p, alternative in [(5, 4, 0.5, "greater"), (-1, 4, 0.5, "greater"),
                                 (2, 4, 1.0, "greater"), (2, 4, 0.5, "bigger")]:
        with pytest.raises(ValueError):
            binomial_p_value(k, n, p, alternative)
