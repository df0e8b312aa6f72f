"""Step 10 - a small CNN learns to tell horizontal from vertical bars.

Teaches: forward (conv, relu, pool, linear), loss (softmax cross-entropy), backward (autograd),
update (SGD with momentum): the four moves of every training loop, SimGAN's included.
Opens: minigan/nn/, minigan/optim/, minigan/functional/loss.py. Homework task 3.4
(``train_step`` and ``accuracy`` below; ``tests/test_nn_optim.py`` imports them).
Run: python tutorials/step10_train_a_cnn.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from lesson import Checks  # noqa: E402
from minigan import F, Tensor, nn, optim  # noqa: E402


def bars(n, rng):
    """Noisy 12x12 images: label 0 has a horizontal bar, label 1 a vertical one."""
    x = rng.normal(0, 0.3, (n, 1, 12, 12)).astype(np.float32)
    labels = rng.integers(0, 2, n)
    for i, where in enumerate(rng.integers(2, 10, n)):
        if labels[i] == 0:
            x[i, 0, where, 2:10] += 1.5
        else:
            x[i, 0, 2:10, where] += 1.5
    return x, labels


def train_step(model, optimizer, images, labels):
    """One training step on a batch; returns its loss as a Python float.

    images: a Tensor (N, 1, 12, 12); labels: (N,) ints in {0, 1}. Forward: logits (N, 2) =
    model(images); loss: ``F.cross_entropy`` (the mean over the batch of -log softmax at the
    label); backward: dloss/dparameter for every parameter, after clearing the gradients of
    the previous step (they would add up); update: the optimizer's step.
    """
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


def accuracy(model, images, labels):
    """The fraction in [0, 1] of ``images`` (a Tensor (N, 1, 12, 12)) whose largest logit is
    at their label (``labels``: (N,) ints), computed without recording a graph (no_grad)."""
    with minigan.no_grad():
        predicted = model(images).argmax(dim=1)
    return (predicted == Tensor(labels)).float().mean().item()


def train(steps=150, seed=0):
    """Train the step's CNN on 512 images; returns (model, held-out accuracy, losses)."""
    rng = np.random.default_rng(seed)
    minigan.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(),
                          nn.Flatten(), nn.Linear(8 * 3 * 3, 2))
    optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x_train, y_train = bars(512, rng)
    x_test, y_test = bars(256, rng)
    losses = []
    for step in range(steps):
        batch = rng.integers(0, len(x_train), 32)
        losses.append(train_step(model, optimizer, Tensor(x_train[batch]), y_train[batch]))
        if step % 30 == 0:
            print(f"step {step:3d}  loss {losses[-1]:.3f}")
    model.eval()
    return model, accuracy(model, Tensor(x_test), y_test), losses


if __name__ == "__main__":
    model, held_out, losses = train()
    print(f"held-out accuracy {held_out:.1%}")
    check = Checks()
    check.true("held-out accuracy >= 95%", held_out >= 0.95, f"{held_out:.1%}")
    check.true("the loss fell", losses[-1] < losses[0], f"{losses[0]:.3f} -> {losses[-1]:.3f}")
    check.finish()
