"""Patch-wise softmax cross-entropy in NumPy (the local adversarial loss of SimGAN).

logits z (N, C, H, W): one C-way classification per patch (h, w); labels t (N, H, W) int in [0, C).

    loss[n, h, w]        = logsumexp_c z[n, :, h, w] - z[n, t, h, w]
    dloss/dz[n, c, h, w] = softmax(z[n, :, h, w])_c - [c == t[n, h, w]]

The maximum is subtracted before exponentiating so no exp overflows.
"""
import numpy as np


def patch_cross_entropy_forward(logits, labels):
    """Returns (loss (N,H,W), dlogits (N,C,H,W)): per-patch loss and its gradient."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    log_prob = shifted - np.log(total)
    index = labels[:, None].astype(np.intp)
    loss = -np.take_along_axis(log_prob, index, axis=1)[:, 0]
    dlogits = exp / total
    np.put_along_axis(dlogits, index, np.take_along_axis(dlogits, index, axis=1) - 1, axis=1)
    return loss, dlogits
