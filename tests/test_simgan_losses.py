"""The losses: labels, reductions (sum over patches, mean over images), psi, accuracy."""
import numpy as np
import pytest

from minigan import Tensor
from minigan.simgan.losses import (discriminator_loss, local_adversarial_loss, patch_accuracy,
                                   psi, realism_loss, self_regularization)


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


@pytest.mark.task5_1
def test_local_adversarial_loss_sums_patches_and_averages_images():
    z = np.random.default_rng(0).normal(size=(3, 2, 4, 5)).astype(np.float32)
    expected = -log_softmax(z)[:, 1].sum() / 3
    assert local_adversarial_loss(Tensor(z), 1).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.task5_1
def test_loss_does_not_depend_on_the_batch_size():
    z = np.random.default_rng(1).normal(size=(1, 2, 4, 5)).astype(np.float32)
    one = local_adversarial_loss(Tensor(z), 0).item()
    four = local_adversarial_loss(Tensor(np.repeat(z, 4, axis=0)), 0).item()
    assert four == pytest.approx(one, rel=1e-5)


@pytest.mark.task5_1
def test_discriminator_loss_labels_refined_1_and_real_0():
    rng = np.random.default_rng(2)
    refined, real = (rng.normal(size=(2, 2, 3, 3)).astype(np.float32) for _ in range(2))
    expected = -(log_softmax(refined)[:, 1].sum() + log_softmax(real)[:, 0].sum()) / 2
    value = discriminator_loss(Tensor(refined), Tensor(real)).item()
    assert value == pytest.approx(expected, rel=1e-5)


@pytest.mark.task5_1
def test_realism_loss_asks_for_the_real_label():
    z = np.random.default_rng(3).normal(size=(2, 2, 3, 3)).astype(np.float32)
    expected = -log_softmax(z)[:, 0].sum() / 2
    assert realism_loss(Tensor(z)).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.task5_1
def test_self_regularization_identity_is_lambda_times_l1_per_image():
    rng = np.random.default_rng(4)
    a, b = (rng.uniform(-1, 1, (2, 1, 5, 6)).astype(np.float32) for _ in range(2))
    value = self_regularization(Tensor(a), Tensor(b), lam=0.3).item()
    assert value == pytest.approx(0.3 * np.abs(a - b).sum() / 2, rel=1e-5)


@pytest.mark.task5_1
def test_self_regularization_mean_compares_channel_means():
    rng = np.random.default_rng(5)
    a, b = (rng.uniform(-1, 1, (2, 3, 4, 4)).astype(np.float32) for _ in range(2))
    value = self_regularization(Tensor(a), Tensor(b), lam=1.0, kind="mean").item()
    assert value == pytest.approx(np.abs(a.mean(1) - b.mean(1)).sum() / 2, rel=1e-5)


@pytest.mark.task5_1
def test_self_regularization_gradients_ignores_a_constant_shift():
    a = np.random.default_rng(6).uniform(-1, 1, (2, 1, 5, 6)).astype(np.float32)
    value = self_regularization(Tensor(a + 0.5), Tensor(a), 1.0, "gradients").item()
    assert value == pytest.approx(0, abs=1e-5)
    dx, dy = psi(Tensor(a), "gradients")
    assert dx.shape == (2, 1, 5, 5) and dy.shape == (2, 1, 4, 6)


@pytest.mark.task5_1
def test_self_regularization_blur_holds_coarse_structure_and_lets_fine_noise_go():
    rng = np.random.default_rng(7)
    a = rng.uniform(-1, 1, (2, 1, 35, 55)).astype(np.float32)
    checker = 0.2 * (-1.0) ** np.add.outer(np.arange(35), np.arange(55)).astype(np.float32)
    fine = self_regularization(Tensor(a + checker), Tensor(a), 1.0, "blur").item()
    coarse = self_regularization(Tensor(a + 0.2), Tensor(a), 1.0, "blur").item()
    identity = self_regularization(Tensor(a + checker), Tensor(a), 1.0).item()
    assert identity == pytest.approx(0.2 * 35 * 55, rel=1e-4)
    assert fine < 0.05 * identity and fine < 0.2 * coarse
    assert psi(Tensor(a), "blur").shape == (2, 1, 35, 55)


@pytest.mark.task5_1
def test_self_regularization_backpropagates_to_the_refined_image():
    a = Tensor(np.zeros((1, 1, 3, 3), np.float32), requires_grad=True)
    self_regularization(a, Tensor(np.ones((1, 1, 3, 3), np.float32)), lam=2.0).backward()
    np.testing.assert_allclose(a.grad, -2.0)


@pytest.mark.task5_1
def test_unknown_psi_and_shape_mismatch_are_clear_errors():
    x = Tensor(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match="psi"):
        self_regularization(x, x, 1.0, "vgg")
    with pytest.raises(ValueError, match="shape"):
        self_regularization(x, Tensor(np.zeros((1, 1, 3, 4), np.float32)), 1.0)


def test_patch_accuracy_counts_patches_on_the_right_side():
    z = np.zeros((1, 2, 1, 4), np.float32)
    z[0, 1, 0, :3] = 1.0  # three patches called "refined", one "real"
    assert patch_accuracy(z, 1) == 0.75
    assert patch_accuracy(Tensor(z), 0) == 0.25
