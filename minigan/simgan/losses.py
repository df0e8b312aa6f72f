"""SimGAN's losses (equations 2-4 of the paper) on the discriminator's patch logits.

D outputs logits (N, 2, h, w); channel 1 means "refined", channel 0 "real", and
D(.) = softmax(logits)[1] is the paper's probability of "refined". Per image:

    ce(image, t) = sum over the h*w patches of -log softmax(logits)[t]      (F.patch_cross_entropy)

Reduction over the batch: every loss here is a **sum over patches (or pixels) within an image,
averaged over the images of the batch**. The paper sums over both; averaging over images keeps
the size of a gradient step independent of the batch size (b = 512 in the paper, 32 on a CPU),
so one learning rate serves every preset.

    discriminator_loss = mean_i ce(x~_i, 1) + mean_j ce(y_j, 0)                     (eq. 2)
    realism_loss       = mean_i ce(R(x_i), 0)  = mean_i sum -log(1 - D(R(x_i)))     (eq. 3)
    self_regularization = lambda * mean_i || psi(R(x_i)) - psi(x_i) ||_1            (eq. 4)

psi: "identity" (the paper's default); "mean", the mean over colour channels (N, 1, H, W);
"gradients", the image derivatives (x[:, :, :, 1:] - x[:, :, :, :-1], x[:, :, 1:] - x[:, :, :-1]),
whose L1 norm is the sum of both; "blur", the channel mean blurred by a gaussian of
``BLUR_SIGMA`` pixels (7 x 7 taps, zero padding alike on both sides): it holds what is coarser
than a few pixels (where the pupil and the lids are) and leaves R free to change fine texture
and noise.
"""
import numpy as np

from minigan import F
from minigan.autograd import Tensor
from minigan.backend import get_array_module, to_numpy

REAL, REFINED = 0, 1
BLUR_SIGMA = 1.5


def local_adversarial_loss(logits, label, scale=1.0):
    """``scale`` x mean over images of the patch cross-entropy sum: logits (N, 2, h, w), label
    0 or 1 -> scalar.

    A global discriminator's (N, 2, 1, 1) logits work too: then it is one term per image, and
    ``scale = h * w`` of the local map (``global_loss_scale``) gives it the local loss's size:
    at chance both are h * w * log 2.
    """
    loss = F.patch_cross_entropy(logits, label, reduction="sum") / logits.shape[0]
    return loss if scale == 1 else loss * float(scale)


def discriminator_loss(logits_refined, logits_real, scale=1.0):
    """L_D (eq. 2): refined images labelled 1, real images labelled 0; returns a scalar Tensor."""
    return (local_adversarial_loss(logits_refined, REFINED, scale)
            + local_adversarial_loss(logits_real, REAL, scale))


def realism_loss(logits_refined, scale=1.0):
    """l_real (eq. 3): the refiner wants D to call its output real (label 0); scalar Tensor."""
    return local_adversarial_loss(logits_refined, REAL, scale)


def psi(images, kind="identity"):
    """The feature map ``kind`` of the self-regularization (see the module docstring): a Tensor,
    or a tuple of Tensors for "gradients" (horizontal (N, C, H, W-1), vertical (N, C, H-1, W));
    "blur" gives (N, 1, H, W)."""
    if kind == "identity":
        return images
    if kind == "mean":
        return images.mean(dim=1, keepdim=True)
    if kind == "gradients":
        return (images[:, :, :, 1:] - images[:, :, :, :-1],
                images[:, :, 1:, :] - images[:, :, :-1, :])
    if kind == "blur":
        gray = images.mean(dim=1, keepdim=True)
        kernel = Tensor(_gaussian_kernel(BLUR_SIGMA, gray.dtype), device=gray.device)
        return F.conv2d(gray, kernel, padding=3)
    raise ValueError(f"psi must be 'identity', 'mean', 'gradients' or 'blur', got {kind!r}")


def _gaussian_kernel(sigma, dtype, radius=3):
    """(1, 1, 2 radius + 1, 2 radius + 1) normalized gaussian taps."""
    taps = np.exp(-np.arange(-radius, radius + 1) ** 2 / (2.0 * sigma ** 2))
    kernel = np.outer(taps, taps)
    return (kernel / kernel.sum()).astype(dtype)[None, None]


def self_regularization(refined, synthetic, lam, kind="identity"):
    """lambda * mean over images of ||psi(refined) - psi(synthetic)||_1; both (N, C, H, W)."""
    if refined.shape != synthetic.shape:
        raise ValueError(f"self_regularization: refined has shape {refined.shape} but synthetic "
                         f"has {synthetic.shape}")
    a, b = psi(refined, kind), psi(synthetic, kind)
    pairs = zip(a, b) if isinstance(a, tuple) else [(a, b)]
    total = sum(F.l1_loss(p, q, reduction="sum") for p, q in pairs)
    return total * (lam / refined.shape[0])


def patch_accuracy(logits, label):
    """Fraction of patches that D classifies as ``label`` (a Python float).

    logits: (N, 2, h, w) Tensor or array; a patch counts as "refined" when logit 1 > logit 0.
    """
    data = logits.data if isinstance(logits, Tensor) else logits
    xp = get_array_module(data)
    predicted_refined = data[:, 1] > data[:, 0]
    hits = predicted_refined if label == REFINED else xp.logical_not(predicted_refined)
    return float(to_numpy(hits.mean(dtype=np.float64)))
