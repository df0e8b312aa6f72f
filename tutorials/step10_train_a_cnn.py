"""Step 10 - a small CNN learns to tell horizontal from vertical bars.

Teaches: forward (conv, relu, pool, linear), loss (softmax cross-entropy), backward (autograd),
update (SGD with momentum): the four moves of every training loop, SimGAN's included.
Opens: minigan/nn/, minigan/optim/, minigan/functional/loss.py.
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


rng = np.random.default_rng(0)
minigan.manual_seed(0)
model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(),
                      nn.Flatten(), nn.Linear(8 * 3 * 3, 2))
opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
x_train, y_train = bars(512, rng)
x_test, y_test = bars(256, rng)

for step in range(150):
    batch = rng.integers(0, len(x_train), 32)
    loss = F.cross_entropy(model(Tensor(x_train[batch])), y_train[batch])
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step == 0:
        first_loss = loss.item()
    if step % 30 == 0:
        print(f"step {step:3d}  loss {loss.item():.3f}")

model.eval()
with minigan.no_grad():
    predicted = model(Tensor(x_test)).argmax(dim=1)
accuracy = (predicted == Tensor(y_test)).float().mean().item()
print(f"held-out accuracy {accuracy:.1%}")
check = Checks()
check.true("held-out accuracy >= 95%", accuracy >= 0.95, f"{accuracy:.1%}")
check.true("the loss fell", loss.item() < first_loss, f"{first_loss:.3f} -> {loss.item():.3f}")
check.finish()
