"""Step 8 - a stable softmax, and the patch-wise loss of SimGAN's discriminator.

Teaches: exp overflows for large logits, so softmax and log-sum-exp subtract the maximum first
(it cancels out); the cross-entropy of a softmax has the gradient softmax - onehot, so the loss
and its gradient come out of one pass; SimGAN's discriminator classifies every *patch* of its
output map, so the labels are a (N, H, W) map and the loss a sum over patches.
Opens: minigan/reference/xent_spec.py. Homework task 2.4.
Run: python tutorials/step08_softmax_patch_loss.py

    loss[n, h, w]  = logsumexp_c z[n, :, h, w] - z[n, t, h, w]
    dloss/dz       = softmax(z[n, :, h, w]) - onehot(t)
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks  # noqa: E402
from minigan.reference.xent_spec import patch_cross_entropy_forward  # noqa: E402

check = Checks()

# 1. Naive softmax overflows; shifting by the maximum does not change the answer.
z = np.array([1000.0, 999.0, -5.0])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(z) / np.exp(z).sum()
stable = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
print("naive softmax:", naive, " stable:", stable)
check.true("naive softmax of [1000, 999, -5] is NaN", np.isnan(naive).any())
check.close("stable softmax = softmax of the shifted logits", stable,
            np.exp(z - 999) / np.exp(z - 999).sum(), rtol=1e-12)

# 2. The patch loss: a 2-class (real / refined) decision per patch of a 9 x 14 map, as the
#    discriminator makes for a 35 x 55 eye.
rng = np.random.default_rng(0)
logits = 3 * rng.standard_normal((4, 2, 9, 14))
labels = rng.integers(0, 2, (4, 9, 14)).astype(np.int32)
loss, dlogits = patch_cross_entropy_forward(logits, labels)
print("logits", logits.shape, "labels", labels.shape, "-> loss", loss.shape)
log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
check.close("loss = -log softmax at the label", loss,
            -np.take_along_axis(log_softmax, labels[:, None], axis=1)[:, 0], rtol=1e-12, atol=1e-12)
onehot = np.eye(2)[labels].transpose(0, 3, 1, 2)
check.close("gradient = softmax - onehot", dlogits, np.exp(log_softmax) - onehot, atol=1e-12)

# 3. The gradient of the summed loss, against central differences.
small, small_labels = logits[:1, :, :2, :3].copy(), labels[:1, :2, :3].copy()
eps, numeric = 1e-6, np.zeros_like(small)
for index in np.ndindex(small.shape):
    plus, minus = small.copy(), small.copy()
    plus[index] += eps
    minus[index] -= eps
    numeric[index] = (patch_cross_entropy_forward(plus, small_labels)[0].sum()
                      - patch_cross_entropy_forward(minus, small_labels)[0].sum()) / (2 * eps)
check.close("gradient vs central differences", patch_cross_entropy_forward(small, small_labels)[1],
            numeric, atol=1e-7)

# 4. Stable where the naive formula is not: logits of +-1000 in float32.
huge = np.array([[[[1000.0]], [[-1000.0]]]], dtype=np.float32)
huge_loss, huge_grad = patch_cross_entropy_forward(huge, np.ones((1, 1, 1), np.int32))
check.close("loss of the wrong class at +-1000 is 2000", huge_loss[0, 0, 0], 2000.0)
check.true("its gradient is finite", np.isfinite(huge_grad).all(), str(huge_grad.ravel()))
check.finish()
