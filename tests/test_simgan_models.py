"""Refiner, local and global discriminator: shapes, ranges and argument checks."""
import numpy as np
import pytest

from minigan import Tensor
from minigan.simgan import Discriminator, GlobalDiscriminator, Refiner, patch_map_size
from minigan.simgan.models import build_discriminator


def eyes(n=2, seed=0):
    return Tensor(np.random.default_rng(seed).uniform(-1, 1, (n, 1, 35, 55)).astype(np.float32))


def test_refiner_keeps_the_image_shape_and_range():
    refiner = Refiner(channels=8, blocks=2, rng=np.random.default_rng(0))
    out = refiner(eyes())
    assert out.shape == (2, 1, 35, 55)
    assert np.abs(out.detach().numpy()).max() <= 1.0


def test_refiner_has_the_papers_layers():
    refiner = Refiner(rng=np.random.default_rng(0))
    names = dict(refiner.named_parameters())
    assert names["stem.weight"].shape == (64, 1, 3, 3)
    assert names["blocks.3.conv2.weight"].shape == (64, 64, 3, 3)
    assert "blocks.4.conv1.weight" not in names
    assert names["head.weight"].shape == (1, 64, 1, 1)


def test_refiner_with_zero_blocks_still_maps_image_to_image():
    refiner = Refiner(channels=4, blocks=0, rng=np.random.default_rng(0))
    assert refiner(eyes(1)).shape == (1, 1, 35, 55)


def test_local_discriminator_gives_a_9_by_14_patch_map_for_35_by_55_eyes():
    assert patch_map_size(35, 55) == (9, 14)
    logits = Discriminator(rng=np.random.default_rng(0))(eyes(3))
    assert logits.shape == (3, 2, 9, 14)


def test_discriminator_has_the_papers_channel_counts_and_width_scales_them():
    full = dict(Discriminator(rng=np.random.default_rng(0)).named_parameters())
    assert [full[f"layers.{i}.weight"].shape[0] for i in (0, 2, 5, 7, 9)] == [96, 64, 32, 32, 2]
    half = dict(Discriminator(width=0.5, rng=np.random.default_rng(0)).named_parameters())
    assert [half[f"layers.{i}.weight"].shape[0] for i in (0, 2, 5, 7, 9)] == [48, 32, 16, 16, 2]


def test_global_discriminator_gives_one_logit_pair_per_image():
    d = GlobalDiscriminator(width=0.25, rng=np.random.default_rng(0))
    assert d(eyes(4)).shape == (4, 2, 1, 1)
    with pytest.raises(ValueError, match="35x55"):
        d(Tensor(np.zeros((1, 1, 36, 55), np.float32)))


def test_build_discriminator_round_trips_the_architecture():
    for d in (Discriminator(width=0.25), GlobalDiscriminator(width=0.25)):
        again = build_discriminator(d.architecture())
        assert type(again) is type(d) and again.architecture() == d.architecture()


@pytest.mark.parametrize("make, match", [
    (lambda: Refiner(channels=0), "channels"),
    (lambda: Refiner(blocks=-1), "blocks"),
    (lambda: Discriminator(width=0), "width"),
    (lambda: build_discriminator({"kind": "pixel"}), "kind"),
])
def test_bad_model_arguments_name_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_a_refiner_padded_from_the_image_maps_a_flat_image_to_a_flat_image(mode):
    """Zero padding makes the border rows differ from the middle (the frame D can use);
    padding from the image itself keeps a constant image constant, border included."""
    flat = Tensor(np.full((1, 1, 35, 55), 0.3, np.float32))
    padded = Refiner(channels=8, blocks=2, rng=np.random.default_rng(0), padding_mode=mode)
    zeros = Refiner(channels=8, blocks=2, rng=np.random.default_rng(0))
    out = padded(flat).detach().numpy()
    assert np.ptp(out) < 1e-6
    assert np.ptp(zeros(flat).detach().numpy()) > 1e-3


def test_discriminator_with_batch_norm_normalizes_all_but_the_first_conv_and_round_trips():
    from minigan import nn
    for d in (Discriminator(width=0.5, batch_norm=True, rng=np.random.default_rng(0)),
              GlobalDiscriminator(width=0.5, batch_norm=True, rng=np.random.default_rng(0))):
        norms = [m for m in d.modules() if isinstance(m, nn.BatchNorm2d)]
        assert [n.num_features for n in norms] == [32, 16, 16]
        assert d.architecture()["batch_norm"] is True
        again = build_discriminator(d.architecture())
        assert again.batch_norm and again.architecture() == d.architecture()
        assert d(eyes(3)).shape[:2] == (3, 2)
    assert "batch_norm" not in Discriminator(width=0.5).architecture()
