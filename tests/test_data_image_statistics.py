"""Image statistics of eye sets, and the targets the built-in styles are calibrated to.

The targets come from real data measured with the same code: 128 UnityEyes crops and 144
MPIIGaze normalized eyes (README, "Data"). ``synthetic`` must have texture nearly everywhere
and UnityEyes' spread of brightness; ``photo`` must look like MPIIGaze after its per-image
histogram equalization: no brightness spread, a flat histogram, webcam-like fine detail.
"""
import numpy as np
import pytest

from minigan.data.eyes import render_eyes
from minigan.data.image_statistics import eye_statistics, format_statistics


def test_statistics_of_constant_images():
    images = np.stack([np.full((1, 35, 55), value, np.float32) for value in (-0.75, 0.25)])
    stats = eye_statistics(images)
    assert stats["n"] == 2 and stats["mean"] == pytest.approx(-0.25)
    assert stats["sd_of_means"] == pytest.approx(0.5)
    assert stats["mean_std"] == 0.0 and stats["high_frequency"] == 0.0 and stats["flat"] == 1.0
    np.testing.assert_allclose(stats["quartiles"], [0.5, 0.0, 0.5, 0.0])


def test_high_frequency_residual_is_the_mean_distance_to_the_3x3_average():
    image = np.random.default_rng(0).uniform(-1, 1, (9, 11))
    expected = np.mean([abs(image[r, c] - image[r - 1:r + 2, c - 1:c + 2].mean())
                        for r in range(1, 8) for c in range(1, 10)])
    assert eye_statistics(image[None])["high_frequency"] == pytest.approx(expected)


def test_flat_counts_5x5_neighbourhoods_with_std_under_0_01():
    image = np.random.default_rng(1).uniform(-1, 1, (35, 55))
    image[:10, :10] = 0.3 + 0.005 * np.random.default_rng(2).uniform(-1, 1, (10, 10))
    # windows wholly inside the 10x10 patch: 6 x 6 of the 31 x 51 whole windows
    assert eye_statistics(image[None])["flat"] == pytest.approx(36 / (31 * 51))


def test_quartiles_split_the_range_at_minus_half_zero_and_half():
    image = np.array([[-1.0, -0.6, -0.5, -0.1, 0.0, 0.4, 0.5, 1.0]] * 5)
    np.testing.assert_allclose(eye_statistics(image[None])["quartiles"], 0.25)


def test_statistics_reject_what_is_not_a_set_of_images():
    with pytest.raises(ValueError, match="images must be"):
        eye_statistics(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match="images must be"):
        eye_statistics(np.zeros((0, 35, 55)))


def test_table_has_a_header_and_one_row_per_source():
    stats = eye_statistics(render_eyes(8, "synthetic", seed=0).images)
    lines = format_statistics({"a": stats, "b": stats}).splitlines()
    assert len(lines) == 4 and lines[0].startswith("| source") and lines[2].startswith("| a |")


@pytest.fixture(scope="module")
def styles():
    return {style: eye_statistics(render_eyes(300, style, seed=123).images)
            for style in ("synthetic", "photo")}


def test_synthetic_has_texture_and_the_simulator_brightness_spread(styles):
    stats = styles["synthetic"]
    assert stats["flat"] <= 0.05                 # UnityEyes: 0.9 %; before: 27 %
    assert stats["sd_of_means"] >= 0.15          # UnityEyes: 0.22


def test_photo_has_mpiigaze_statistics_after_equalization(styles):
    stats = styles["photo"]
    assert stats["sd_of_means"] <= 0.03                      # MPIIGaze: 0.01
    assert 0.5 <= stats["mean_std"] <= 0.65                  # 0.58
    assert np.all((stats["quartiles"] >= 0.2) & (stats["quartiles"] <= 0.3))   # 24/25/25/26 %
    assert 0.04 <= stats["high_frequency"] <= 0.07           # 0.055
