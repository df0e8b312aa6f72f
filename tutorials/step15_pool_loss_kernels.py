"""Step 15 - the max-pooling and patch-loss kernels: gathers instead of atomics, fused passes,
and sums that come out the same every time.

Teaches: max-pooling forward, one thread per output pixel, keeping the argmax as int8; its
backward as a *gather*: each thread owns one input pixel and adds the gradients of the windows
whose argmax points at it, so no two threads write one address (no atomics, deterministic);
the patch loss in one pass per patch (max, sum of exp, loss and gradient); a block's sum with
warp shuffles (``block_sum`` in common.cuh), and a two-pass total (one partial per block, then
one block adds them in a fixed order) that gives the same bits on every run.
Opens: kernels/maxpool2d.cu, kernels/patch_xent.cu, kernels/common.cuh. Homework tasks 4.3, 4.4.
Run: python tutorials/step15_pool_loss_kernels.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks, kernel_device  # noqa: E402
from minigan import cuda, reference  # noqa: E402
from minigan.backend import to_numpy, xp_for  # noqa: E402
from minigan.cuda.compiler import kernels_dir  # noqa: E402

check = Checks()
device = kernel_device()
xp = xp_for(device)
rng = np.random.default_rng(0)

# Max-pooling as the discriminator uses it: 3 x 3, stride 1, padding 1, on its 9 x 14 map.
x = rng.standard_normal((4, 64, 9, 14)).astype(np.float32)
gy = rng.standard_normal((4, 64, 9, 14)).astype(np.float32)
y, argmax = cuda.max_pool2d_forward(xp.asarray(x), 3, 1, 1)
y_ref, argmax_ref = reference.max_pool2d_forward(x, 3, 1, 1)
check.close("pool forward: kernel vs NumPy (a max rounds nothing)", to_numpy(y), y_ref)
check.true("pool argmax: kernel vs NumPy, int8", np.array_equal(to_numpy(argmax), argmax_ref)
           and argmax.dtype == np.int8)
gx = cuda.max_pool2d_backward(xp.asarray(gy), argmax, x.shape, 3, 1, 1)
gx_ref = reference.max_pool2d_backward(gy.astype(np.float64), argmax_ref, x.shape, 3, 1, 1)
check.close("pool backward (a gather): kernel vs NumPy", to_numpy(gx), gx_ref, rtol=1e-6,
            atol=1e-6)
again = cuda.max_pool2d_backward(xp.asarray(gy), argmax, x.shape, 3, 1, 1)
check.true("pool backward is bit-for-bit deterministic", np.array_equal(to_numpy(gx),
                                                                        to_numpy(again)))

# The patch loss: 2 logits per patch of the 9 x 14 map, labels real (0) / refined (1).
logits = (3 * rng.standard_normal((64, 2, 9, 14))).astype(np.float32)
labels = rng.integers(0, 2, (64, 9, 14)).astype(np.int32)
loss, dlogits = cuda.patch_cross_entropy_forward(xp.asarray(logits), xp.asarray(labels))
loss_ref, dlogits_ref = reference.patch_cross_entropy_forward(logits.astype(np.float64), labels)
check.close("patch loss: kernel vs NumPy", to_numpy(loss), loss_ref, rtol=1e-5, atol=1e-5)
check.close("its gradient softmax - onehot: kernel vs NumPy", to_numpy(dlogits), dlogits_ref,
            atol=1e-6)

# The fused sum: every block sums its patches' losses with block_sum, then one block adds the
# partial sums in a fixed order. 64 * 9 * 14 = 8064 patches -> 32 blocks of 256 threads.
total, _ = cuda.patch_cross_entropy_sum(xp.asarray(logits), xp.asarray(labels))
check.close("fused total vs the sum of the NumPy losses", to_numpy(total), loss_ref.sum(),
            rtol=1e-5)
totals = {float(to_numpy(cuda.patch_cross_entropy_sum(xp.asarray(logits),
                                                      xp.asarray(labels))[0]))
          for _ in range(3)}
check.true("the total is the same bits on every run", len(totals) == 1, str(totals))

common = (kernels_dir() / "common.cuh").read_text(encoding="utf-8")
start = common.find("template <typename T>\n__device__ T block_sum")
print("\nblock_sum (kernels/common.cuh): warp shuffles, then warp 0 adds the warp totals")
print("   " + "\n   ".join(common[start:].splitlines()[:19]) if start >= 0 else
      "   (not found: read kernels/common.cuh)")
check.finish()
