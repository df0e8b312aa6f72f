"""The synthetic -> photo gap is real, and survives per-image normalization.

SimGAN needs two domains that differ in appearance while the labels stay comparable; if a
tiny classifier could not separate the styles, the refiner would have nothing to learn. And
if a global normalization made them alike, a refiner would be pointless: one line of
preprocessing would do its job. So the critic here sees every image normalized, either
standardized (zero mean, unit deviation) or histogram-equalized (as MPIIGaze's files are),
and must still tell the styles apart from local texture, noise and blur alone.
"""
import numpy as np
import pytest

import minigan
from minigan import F, Tensor, nn, optim
from minigan.data.batches import ArrayDataset
from minigan.data.eyes import render_eyes
from minigan.data.normalize import equalize_histogram, standardize


def styles_dataset(n_per_style, seed):
    """Half synthetic (label 0), half photo (label 1), from different eyes."""
    synthetic = render_eyes(n_per_style, "synthetic", seed=seed)
    photo = render_eyes(n_per_style, "photo", seed=seed + 1)
    images = np.concatenate([synthetic.images, photo.images])
    style = np.repeat(np.array([0, 1]), n_per_style)
    return ArrayDataset(images, {"style": style})


def style_classifier(rng):
    """A strided 3x3 convolution, ReLU, a 3x3 convolution: 8 texture detectors (~680 weights)
    whose mean energies over the image, on a log scale, feed a linear layer. It sees texture,
    noise and sharpness, not the image's layout."""
    features = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, rng=rng), nn.ReLU(),
                             nn.Conv2d(8, 8, 3, rng=rng))
    return features, nn.Linear(8, 2, rng=rng)


@pytest.fixture(scope="module")
def eyes():
    """400 training and 200 held-out eyes of each style."""
    return styles_dataset(400, seed=10), styles_dataset(200, seed=20)


@pytest.mark.parametrize("normalize", [standardize, equalize_histogram])
def test_small_cnn_tells_normalized_synthetic_from_photo_on_held_out_eyes(normalize, eyes):
    rng = np.random.default_rng(0)
    train, held_out = eyes
    features, head = style_classifier(rng)
    opt = optim.Adam(list(features.parameters()) + list(head.parameters()), lr=0.01)

    def logits(images):
        responses = features(Tensor(normalize(images)))
        return head(F.log((responses * responses).mean(dim=(2, 3)) + 1e-3))

    for _ in range(300):
        images, labels = train.sample(32, rng)
        loss = F.cross_entropy(logits(images), labels["style"])
        opt.zero_grad()
        loss.backward()
        opt.step()

    with minigan.no_grad():
        predicted = logits(held_out.images).numpy().argmax(axis=1)
    accuracy = (predicted == held_out.labels["style"]).mean()
    print(f"held-out synthetic-vs-photo accuracy ({normalize.__name__}): {accuracy:.3f}")
    assert accuracy >= 0.95
