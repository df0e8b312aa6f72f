"""The pieces of the experiments: gaze estimator, realism critic, Turing page."""
import json
import re

import numpy as np
import pytest

from minigan.autograd import Tensor
from minigan.experiments.gaze_estimator import (ESTIMATOR_PRESETS, GazeEstimator, feature_shape,
                                                predict_gaze, train_gaze_estimator)
from minigan.experiments.realism import Critic, CriticConfig, critic_accuracy
from minigan.experiments.turing_page import make_turing_page


# -- gaze estimator --------------------------------------------------------------------------
def test_the_papers_estimator_flattens_exactly_9600_features():
    assert feature_shape() == (192, 5, 10)
    model = GazeEstimator(rng=np.random.default_rng(0))
    assert model.channels == (32, 32, 64, 80, 192) and model.feature_size == 9600
    assert model.head[0].weight.shape == (1000, 9600) and model.head[2].weight.shape == (3, 1000)


def test_small_estimators_and_padding_change_the_sizes():
    small = GazeEstimator(**ESTIMATOR_PRESETS["small"], rng=np.random.default_rng(0))
    assert small.channels == (8, 8, 16, 20, 48) and small.feature_size == 48 * 5 * 10
    assert feature_shape(padding=1) == (192, 8, 13)
    padded = GazeEstimator(width=0.125, hidden=8, padding=1, rng=np.random.default_rng(0))
    x = Tensor(np.zeros((2, 1, 35, 55), np.float32))
    assert padded(x).shape == (2, 3) and padded.feature_size == 24 * 8 * 13


def test_estimator_rejects_images_of_the_wrong_size():
    model = GazeEstimator(**ESTIMATOR_PRESETS["tiny"], rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="35, 55"):
        model(Tensor(np.zeros((1, 1, 36, 60), np.float32)))


def test_estimator_training_is_seeded_and_learns_a_simple_cue():
    # the gaze's yaw is written into the image's brightness: learnable in a few steps
    yaw = np.random.default_rng(0).uniform(-0.5, 0.5, size=64)
    gaze = np.stack([np.sin(yaw), np.zeros_like(yaw), -np.cos(yaw)], axis=1).astype(np.float32)
    images = np.tile(yaw[:, None, None, None], (1, 1, 35, 55)).astype(np.float32)
    runs = [train_gaze_estimator(images, gaze, steps=30, batch_size=16, lr=3e-3,
                                 preset="tiny", seed=3) for _ in range(2)]
    assert runs[0][1] == runs[1][1]  # same seed, same losses, bit for bit
    losses = runs[0][1]
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])
    first, second = (predict_gaze(model, images) for model, _ in runs)
    np.testing.assert_array_equal(first, second)


# -- realism critic --------------------------------------------------------------------------
@pytest.mark.task6_4
def test_the_critic_classifies_the_spatial_mean_of_its_features():
    critic = Critic(width=2, rng=np.random.default_rng(0))
    x = Tensor(np.random.default_rng(1).uniform(-1, 1, (3, 1, 35, 55)).astype(np.float32))
    features = critic.features(x).numpy()                 # (3, 8, 5, 7)
    linear = critic.classify
    expected = features.mean(axis=(2, 3)) @ linear.weight.numpy().T + linear.bias.numpy()
    np.testing.assert_allclose(critic(x).numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.task6_4
def test_critic_accuracy_is_seeded_and_scored_on_held_out_images():
    rng = np.random.default_rng(2)
    bright = rng.uniform(0.2, 0.6, (30, 1, 35, 55)).astype(np.float32)
    dark = -bright
    config = CriticConfig(steps=15, batch_size=8, lr=3e-3)
    first = critic_accuracy(bright, dark, config, seed=4)
    assert first == critic_accuracy(bright, dark, config, seed=4)
    assert first * 30 == round(first * 30)                # 15 + 15 held-out images scored
    assert first > 0.9


@pytest.mark.task6_4
def test_critic_separates_different_sets_and_not_identical_ones():
    rng = np.random.default_rng(0)
    smooth = rng.uniform(-0.5, 0.5, (80, 1, 1, 1)) * np.ones((1, 1, 35, 55))
    noisy = smooth + rng.normal(0, 0.3, (80, 1, 35, 55))
    config = CriticConfig(steps=40, batch_size=16, lr=3e-3)
    assert critic_accuracy(smooth, noisy, config, seed=0) > 0.9
    same = critic_accuracy(noisy[:40], noisy[40:], config, seed=0)
    assert 0.25 <= same <= 0.75


# -- visual Turing test page -----------------------------------------------------------------
def trials_of(page):
    start = page.index("const TRIALS = ") + len("const TRIALS = ")
    return json.JSONDecoder().raw_decode(page[start:])[0]


def test_turing_page_embeds_n_of_each_in_a_seeded_order_and_no_links():
    rng = np.random.default_rng(0)
    real, refined = rng.uniform(-1, 1, (2, 9, 1, 35, 55)).astype(np.float32)
    page = make_turing_page(real, refined, n=5, seed=1, examples=3)
    truths = [t["truth"] for t in trials_of(page)]
    assert sorted(truths) == ["real"] * 5 + ["refined"] * 5
    assert truths != ["real"] * 5 + ["refined"] * 5  # shuffled
    assert page == make_turing_page(real, refined, n=5, seed=1, examples=3)
    assert page.count('class="example"') == 6
    assert len(re.findall(r"data:image/png;base64,", page)) == 10 + 6
    assert "http://" not in page and "https://" not in page


def test_turing_page_needs_enough_images():
    images = np.zeros((4, 1, 35, 55), np.float32)
    with pytest.raises(ValueError, match="too few"):
        make_turing_page(images, images, n=3, examples=2)
