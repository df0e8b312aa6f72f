"""Per-image histogram equalization (as OpenCV's equalizeHist) and standardization."""
import numpy as np
import pytest

from minigan.data.eye_camera import resampling_matrix
from minigan.data.normalize import equalize_histogram, standardize


def equalize_one_by_the_book(levels):
    """OpenCV's recipe on one uint8 image, pixel by pixel."""
    counts = np.bincount(levels.ravel(), minlength=256)
    cdf = np.cumsum(counts)
    cdf_min = cdf[levels.min()]
    if cdf_min == levels.size:
        return levels.copy()
    table = [round(255 * (cdf[q] - cdf_min) / (levels.size - cdf_min)) for q in range(256)]
    return np.array([[table[q] for q in row] for row in levels])


def test_equalization_matches_the_recipe_image_by_image():
    rng = np.random.default_rng(0)
    levels = np.clip(rng.normal(90, 25, (4, 35, 55)), 0, 255).round().astype(np.int64)
    levels[3] = rng.integers(100, 104, (35, 55))             # few levels
    equalized = equalize_histogram(levels / 127.5 - 1.0)
    for image, result in zip(levels, equalized):
        expected = equalize_one_by_the_book(image)
        np.testing.assert_allclose(result, expected / 127.5 - 1.0, atol=1e-6)


def test_equalized_histogram_is_flat_and_spans_the_range():
    rng = np.random.default_rng(1)
    images = np.tanh(rng.normal(-1.0, 0.3, (20, 1, 35, 55))).astype(np.float32)  # dark, narrow
    equalized = equalize_histogram(images)
    assert equalized.shape == images.shape and equalized.dtype == np.float32
    assert np.allclose(equalized.min(axis=(1, 2, 3)), -1.0)
    assert np.allclose(equalized.max(axis=(1, 2, 3)), 1.0)
    quarters = np.histogram(equalized, bins=[-1, -0.5, 0, 0.5, 1])[0] / equalized.size
    np.testing.assert_allclose(quarters, 0.25, atol=0.02)


def test_equalization_keeps_the_order_of_pixels_and_leaves_a_flat_image_alone():
    rng = np.random.default_rng(2)
    image = rng.uniform(-1, 1, (1, 35, 55)).astype(np.float32)
    equalized = equalize_histogram(image)
    order = np.argsort(image.ravel(), kind="stable")
    assert np.all(np.diff(equalized.ravel()[order]) >= 0)
    flat = np.full((2, 5, 5), 0.2, np.float32)
    np.testing.assert_allclose(equalize_histogram(flat), np.rint(1.2 * 127.5) / 127.5 - 1.0)


def test_standardize_gives_zero_mean_unit_deviation_per_image():
    rng = np.random.default_rng(3)
    images = rng.normal(0.3, 0.2, (6, 1, 35, 55)).astype(np.float32)
    out = standardize(images)
    np.testing.assert_allclose(out.mean(axis=(2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(2, 3)), 1.0, atol=1e-2)


def test_normalizations_reject_non_images():
    with pytest.raises(ValueError, match="images must be"):
        equalize_histogram(np.zeros(5))
    with pytest.raises(ValueError, match="images must be"):
        standardize(np.zeros(5))


@pytest.mark.parametrize("size_out, size_in", [(20, 35), (29, 46), (35, 20), (55, 41), (35, 35)])
def test_resampling_maps_pixel_centres_to_pixel_centres(size_out, size_in):
    """A linear ramp stays the same ramp (away from the clamped ends): nothing shifts, so the
    photo style's camera keeps the labels exact."""
    matrix = resampling_matrix(size_out, size_in)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-6)
    ramp_in = np.arange(size_in, dtype=np.float64)
    ramp_out = (np.arange(size_out) + 0.5) * size_in / size_out - 0.5
    inner = slice(2, size_out - 2)
    np.testing.assert_allclose((matrix @ ramp_in)[inner], ramp_out[inner], atol=1e-4)


def test_normalize_dispatches_by_name_and_rejects_others():
    from minigan.data.normalize import normalize
    x = np.random.default_rng(3).uniform(-0.5, 0.2, (2, 1, 35, 55)).astype(np.float32)
    np.testing.assert_array_equal(normalize(x, "histeq"), equalize_histogram(x))
    np.testing.assert_array_equal(normalize(x, "standardize"), standardize(x))
    np.testing.assert_array_equal(normalize(x, "none"), x)
    with pytest.raises(ValueError, match="histeq"):
        normalize(x, "zscore")
