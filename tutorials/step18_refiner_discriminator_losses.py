"""Step 18 - SimGAN's two networks and its three losses.

Teaches: the refiner R keeps the image size (3x3 convolutions with padding 1, ResNet blocks, a
1x1 convolution and tanh), so R(x) can be compared with x pixel by pixel; the local
discriminator D ends in a map of patch logits (N, 2, h, w): every patch of the image is judged
on its own (real = 0, refined = 1), which keeps D from latching onto one global artefact; the
losses, each checked against a hand computation:

    L_D    = mean_i sum_patches -log D_refined(x~_i)  +  mean_j sum_patches -log D_real(y_j)
    l_real = mean_i sum_patches -log D_real(R(x_i))      (R wants its output called real)
    l_reg  = lambda * mean_i || R(x_i) - x_i ||_1         (self-regularization: keep the labels)

Opens: minigan/simgan/models.py, minigan/simgan/losses.py. Homework task 5.1.
Run: python tutorials/step18_refiner_discriminator_losses.py
"""
import math
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks  # noqa: E402
from minigan import Tensor  # noqa: E402
from minigan.data.eyes import render_eyes  # noqa: E402
from minigan.simgan import (Discriminator, Refiner, discriminator_loss,  # noqa: E402
                            local_adversarial_loss, patch_map_size, realism_loss,
                            self_regularization)

check = Checks()
rng = np.random.default_rng(0)
x = Tensor(render_eyes(4, "synthetic", seed=0).images)            # (4, 1, 35, 55)
y = Tensor(render_eyes(4, "photo", seed=1).images)
refiner = Refiner(1, channels=8, blocks=2, rng=rng)
discriminator = Discriminator(1, width=0.25, rng=rng)

# 1. Shapes: R keeps 35 x 55; D's two stride-2 convolutions give a map of patches.
refined = refiner(x)
logits = discriminator(refined)
h, w = patch_map_size(35, 55)
print(f"R: {x.shape} -> {refined.shape};  D: {refined.shape} -> {logits.shape}")
check.true("R(x) has the shape of x", refined.shape == x.shape)
check.true("patch map: ceil(ceil(35/2)/2) x ceil(ceil(55/2)/2)",
           (h, w) == (math.ceil(math.ceil(35 / 2) / 2), math.ceil(math.ceil(55 / 2) / 2)),
           f"{h} x {w} = {h * w} patches")
check.true("D's logits are (N, 2, h, w)", logits.shape == (4, 2, h, w))
check.true("R's output lies in [-1, 1] (tanh)", float(np.abs(refined.detach().numpy()).max()) <= 1)


def log_softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


# 2. The adversarial losses against NumPy: sum over the patches, mean over the images.
z_refined, z_real = logits.detach().numpy(), discriminator(y).detach().numpy()
check.close("local adversarial loss, label 1 (refined)",
            local_adversarial_loss(logits, 1).item(),
            -log_softmax(z_refined)[:, 1].sum() / 4, rtol=1e-5)
check.close("L_D = refined as 1 + real as 0",
            discriminator_loss(logits, discriminator(y)).item(),
            -(log_softmax(z_refined)[:, 1].sum() + log_softmax(z_real)[:, 0].sum()) / 4,
            rtol=1e-5)
check.close("l_real: R's images as 0 (real)", realism_loss(logits).item(),
            -log_softmax(z_refined)[:, 0].sum() / 4, rtol=1e-5)
# A D that cannot tell (equal logits) pays log 2 per patch, for each of its two batches.
even = Tensor(np.zeros((4, 2, h, w), np.float32))
check.close("a D at chance: L_D = 2 h w log 2", discriminator_loss(even, even).item(),
            2 * h * w * math.log(2), rtol=1e-6)

# 3. Self-regularization: lambda x the per-image L1 distance, and its gradient lambda/N sign.
lam = 0.05
moved = Tensor(x.numpy() + rng.normal(0, 0.1, x.shape).astype(np.float32), requires_grad=True)
loss = self_regularization(moved, x, lam)
loss.backward()
difference = moved.detach().numpy() - x.numpy()
check.close("l_reg = lambda * mean_i sum |R(x) - x|", loss.item(),
            lam * np.abs(difference).sum() / 4, rtol=1e-5)
check.close("d l_reg / d R(x) = lambda / N * sign", moved.grad, lam / 4 * np.sign(difference),
            rtol=1e-6)

# 4. Why lambda is small: l_reg sums 1925 pixels, l_real only h * w patches.
print(f"per image: {35 * 55} pixel terms in l_reg, {h * w} patch terms in l_real; at chance "
      f"l_real = {h * w * math.log(2):.1f}, an average pixel change of 0.1 costs "
      f"{lam * 0.1 * 35 * 55:.1f} at lambda = {lam}")
total = realism_loss(discriminator(refiner(x))) + self_regularization(refiner(x), x, lam)
total.backward()
check.true("every R weight gets a gradient from l_real + l_reg",
           all(p.grad is not None and np.abs(p.grad.numpy()).sum() > 0
               for p in refiner.parameters()))
check.finish()
