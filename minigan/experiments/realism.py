"""Realism as a machine sees it: can a freshly trained critic tell two sets of images apart?

    accuracy(A, B) = held-out accuracy of a small CNN trained to label A as 0 and B as 1

with A and B balanced, so 50% means "indistinguishable" and 100% "trivially different". The
paper asks people (the visual Turing test, Table 1); this is the automatic counterpart, used to
compare refined-vs-photo with synthetic-vs-photo: a refiner that works lowers the first.

The critic is new for every comparison (not SimGAN's discriminator, which was trained against
this very refiner), has its own seed, and is scored on images it never saw in training.
"""
from dataclasses import dataclass

import numpy as np

from minigan import functional as F
from minigan import nn, optim
from minigan.autograd import Tensor, no_grad
from minigan.backend import resolve_device, to_numpy


class Critic(nn.Module):
    """``(N, 1, H, W)`` -> ``(N, 2)`` logits.

        conv3x3 s2 c -> ReLU -> conv3x3 s2 2c -> ReLU -> conv3x3 s2 4c -> ReLU
        -> mean over the image -> FC 4c -> 2

    The global mean makes it see texture and tone statistics over the whole image, which is
    what separates the styles, and keeps it small enough to train in seconds on a CPU.
    """

    def __init__(self, width=8, rng=None):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, width, 3, stride=2, padding=1, rng=rng), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1, rng=rng), nn.ReLU(),
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1, rng=rng), nn.ReLU())
        self.classify = nn.Linear(4 * width, 2, rng=rng)

    def forward(self, x):
        """x: ``(N, 1, H, W)`` -> logits ``(N, 2)``: ``features``, the mean over the spatial
        dimensions (2, 3), then ``classify``."""
        return self.classify(F.mean(self.features(x), dim=(2, 3)))


@dataclass
class CriticConfig:
    """How the critic is trained: Adam, ``steps`` balanced batches of ``batch_size``."""

    steps: int = 200
    batch_size: int = 64
    lr: float = 0.001
    width: int = 8
    test_fraction: float = 0.5


def critic_accuracy(images_a, images_b, config=CriticConfig(), seed=0, device=None):
    """Held-out accuracy (in [0, 1]) of a critic trained to separate ``images_a`` from
    ``images_b`` (each ``(N, 1, H, W)`` in [-1, 1]).

    Both sets are cut to the smaller one's size, shuffled, and split: ``test_fraction`` of each
    for testing, the rest for training. Each training batch holds ``batch_size / 2`` of each.
    """
    a, b = np.asarray(images_a, np.float32), np.asarray(images_b, np.float32)
    if a.ndim != 4 or a.shape[1:] != b.shape[1:]:
        raise ValueError(f"critic_accuracy: need two (N, 1, H, W) sets of one image size, got "
                         f"shapes {a.shape} and {b.shape}")
    n = min(len(a), len(b))
    n_test = int(round(n * config.test_fraction))
    if n_test < 1 or n - n_test < 1:
        raise ValueError(f"critic_accuracy: {n} images per set cannot be split into training "
                         f"and test parts with test_fraction={config.test_fraction}")
    rng = np.random.default_rng([seed, 7])
    a, b = a[rng.permutation(len(a))[:n]], b[rng.permutation(len(b))[:n]]
    device = resolve_device(device)
    critic = Critic(config.width, rng=np.random.default_rng(seed)).to(device)
    optimizer = optim.Adam(critic.parameters(), lr=config.lr)
    half = max(1, config.batch_size // 2)
    labels = Tensor(np.repeat(np.array([0, 1], np.int64), half), device=device).data
    for _ in range(config.steps):
        pick_a = rng.integers(n_test, n, size=half)
        pick_b = rng.integers(n_test, n, size=half)
        x = Tensor(np.concatenate([a[pick_a], b[pick_b]]), device=device)
        loss = F.cross_entropy(critic(x), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    critic.eval()
    with no_grad():
        correct = 0
        for images, label in ((a[:n_test], 0), (b[:n_test], 1)):
            for start in range(0, n_test, 256):
                logits = to_numpy(critic(Tensor(images[start:start + 256], device=device)).data)
                correct += int(np.sum(logits.argmax(axis=1) == label))
    return correct / (2 * n_test)


def realism_report(synthetic, refined, real, config=CriticConfig(), seed=0, device=None):
    """``{"synthetic_vs_real": acc, "refined_vs_real": acc}``: the same critic recipe and seed
    on (synthetic, real) and on (refined, real); ``refined`` is R(``synthetic``)."""
    return {"synthetic_vs_real": critic_accuracy(synthetic, real, config, seed, device),
            "refined_vs_real": critic_accuracy(refined, real, config, seed, device)}
