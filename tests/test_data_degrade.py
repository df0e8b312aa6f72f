"""The hand-made degradation control: reproducible, keeps shape and range, really degrades."""
import numpy as np
import pytest

from minigan.data.degrade import degrade
from minigan.data.eyes import render_eyes
from minigan.data.image_statistics import eye_statistics


@pytest.fixture(scope="module")
def eyes():
    return render_eyes(64, "synthetic", seed=5).images


def test_same_seed_same_images_other_seed_other_images(eyes):
    a, b = degrade(eyes, seed=1), degrade(eyes, seed=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, degrade(eyes, seed=2))
    assert a.shape == eyes.shape and a.dtype == np.float32
    assert a.min() >= -1 and a.max() <= 1


def test_noise_adds_fine_detail_blur_removes_it_and_the_tone_stays(eyes):
    clean = eye_statistics(eyes)["high_frequency"]
    noisy = eye_statistics(degrade(eyes, seed=0, max_blur=0))["high_frequency"]
    blurred = eye_statistics(degrade(eyes, seed=0, max_noise=0))["high_frequency"]
    assert noisy > 1.2 * clean and blurred < 0.9 * clean
    # a local change: each image's brightness stays where it was
    shift = degrade(eyes, seed=0).mean(axis=(1, 2, 3)) - eyes.mean(axis=(1, 2, 3))
    assert np.abs(shift).max() < 0.05


def test_zero_strengths_only_quantize_and_compress(eyes):
    out = degrade(eyes, seed=0, max_blur=0, max_noise=0, jpeg_quality=(95, 95))
    assert np.abs(out - eyes).mean() < 0.02


def test_bad_arguments_are_named(eyes):
    with pytest.raises(ValueError, match="N, 1, H, W"):
        degrade(eyes[:, 0])
    with pytest.raises(ValueError, match="quality"):
        degrade(eyes, jpeg_quality=(0, 50))
