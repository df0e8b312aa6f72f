"""Patch-wise softmax cross-entropy on the GPU: launch wrappers for ``kernels/patch_xent.cu``,
same API as ``minigan.reference.xent_spec`` (plus a fused sum).

    patch_cross_entropy_forward(logits, labels)  -> loss (N, H, W), dlogits (N, C, H, W)
    patch_cross_entropy_sum(logits, labels)      -> total (0-d), dlogits   [one fused pass]
"""
import numpy as np

from minigan.backend import get_array_module
from minigan.cuda import checks
from minigan.cuda.compiler import CTYPES, int32_args, launch, on_common_device
from minigan.cuda.plans import BLOCK, XENT_MAX_BLOCKS, cdiv


def _xent(logits, labels, fused_sum):
    op = "patch_cross_entropy"
    checks.require_gpu_arrays(op, logits=logits, labels=labels)
    xp = get_array_module(logits)
    n, c, h, w = checks.check_patch_xent(logits, labels)
    ctype = CTYPES[str(logits.dtype)]
    with on_common_device(op, logits=logits, labels=labels):
        dlogits = xp.empty((n, c, h, w), dtype=logits.dtype)
        blocks = min(cdiv(n * h * w, BLOCK), XENT_MAX_BLOCKS)
        if fused_sum:
            loss = dlogits                                   # not written (write_loss = 0)
            partials = xp.empty((blocks,), dtype=logits.dtype)
        else:
            loss = xp.empty((n, h, w), dtype=logits.dtype)
            partials = loss                                  # not written (write_partials = 0)
        launch(xp, "patch_xent", f"patch_xent_forward<{ctype}>", (blocks,), (BLOCK,),
               (logits, labels, loss, dlogits, partials)
               + int32_args(not fused_sum, fused_sum, n, c, h * w))
        if not fused_sum:
            return loss, dlogits
        total = xp.empty((), dtype=logits.dtype)
        launch(xp, "patch_xent", f"sum_partials<{ctype}>", (1,), (1024,),
               (partials, total, np.int32(blocks)))
    return total, dlogits


def patch_cross_entropy_forward(logits, labels):
    """(loss (N,H,W), dlogits (N,C,H,W)): per-patch logsumexp_c z - z_label and softmax - onehot.
    logits float (N,C,H,W), labels int32 (N,H,W) in [0, C) (outside: NaN for that patch)."""
    return _xent(logits, labels, fused_sum=False)


def patch_cross_entropy_sum(logits, labels):
    """(total, dlogits): the summed loss as a 0-d array (deterministic two-pass reduction) and
    the per-patch gradient, in one fused kernel plus a one-block sum."""
    return _xent(logits, labels, fused_sum=True)
