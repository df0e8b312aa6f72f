"""The synthetic -> photo gap is real: a small CNN built with minigan's engine tells them apart.

SimGAN needs two domains that differ in appearance while the labels stay comparable; if a
tiny classifier could not separate the styles, the refiner would have nothing to learn.
Each image is standardized (zero mean, unit deviation) first, so the classifier cannot lean
on overall brightness or contrast and has to find the camera effects themselves.
"""
import numpy as np

import minigan
from minigan import F, Tensor, nn, optim
from minigan.data.batches import ArrayDataset
from minigan.data.eyes import render_eyes


def styles_dataset(n_per_style, seed):
    """Half synthetic (label 0), half photo (label 1), from different eyes."""
    synthetic = render_eyes(n_per_style, "synthetic", seed=seed)
    photo = render_eyes(n_per_style, "photo", seed=seed + 1)
    images = np.concatenate([synthetic.images, photo.images])
    style = np.repeat(np.array([0, 1]), n_per_style)
    return ArrayDataset(images, {"style": style})


def standardize(images):
    """Per image: subtract the mean, divide by the standard deviation."""
    centred = images - images.mean(axis=(1, 2, 3), keepdims=True)
    return centred / (centred.std(axis=(1, 2, 3), keepdims=True) + 1e-3)


def style_classifier(rng):
    """Two strided convolutions, global average pooling, a linear layer: ~700 weights."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=2, padding=1, rng=rng), nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, rng=rng), nn.ReLU())


def test_small_cnn_tells_synthetic_from_photo_on_held_out_eyes():
    rng = np.random.default_rng(0)
    train, held_out = styles_dataset(400, seed=10), styles_dataset(200, seed=20)
    features, head = style_classifier(rng), nn.Linear(8, 2, rng=rng)
    params = list(features.parameters()) + list(head.parameters())
    opt = optim.Adam(params, lr=0.01)

    def logits(images):
        return head(features(Tensor(standardize(images))).mean(dim=(2, 3)))

    for _ in range(300):
        images, labels = train.sample(32, rng)
        loss = F.cross_entropy(logits(images), labels["style"])
        opt.zero_grad()
        loss.backward()
        opt.step()

    with minigan.no_grad():
        predicted = logits(held_out.images).numpy().argmax(axis=1)
    accuracy = (predicted == held_out.labels["style"]).mean()
    print(f"held-out synthetic-vs-photo accuracy: {accuracy:.3f}")
    assert accuracy >= 0.95
