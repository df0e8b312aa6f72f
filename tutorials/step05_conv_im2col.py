"""Step 5 - a convolution is a matrix product in disguise (im2col + GEMM).

Teaches: the K x K windows of an image laid out as the columns of one matrix, so that a whole
convolution becomes one matrix product; the definition's pixel loops against it.
Opens: minigan/reference/conv_spec.py (im2col, conv2d_forward). Homework task 2.1.
Run: python tutorials/step05_conv_im2col.py

A 3x3 convolution of x (N, C, H, W) with w (F, C, 3, 3) computes, for every output pixel, the
dot product of w[f] with the 3x3xC window under it. Lay all windows out as the columns of one
matrix (im2col) and the whole convolution becomes W (F, 9C) @ cols (9C, N*Ho*Wo): one call to
BLAS on the CPU, one tiled GEMM kernel on the GPU (kernels/conv2d.cu does the same without
ever building cols in memory: "implicit GEMM", steps 13 and 14).
"""
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import QUICK, Checks  # noqa: E402
from minigan.reference.conv_spec import conv2d_forward, im2col  # noqa: E402

check = Checks()
rng = np.random.default_rng(0)
n, c, f = (2, 4, 8) if QUICK else (8, 16, 32)
x = rng.standard_normal((n, c, 35, 55)).astype(np.float32)
w = rng.standard_normal((f, c, 3, 3)).astype(np.float32)
b = rng.standard_normal(f).astype(np.float32)

# The columns: column (n, i, j) is the 3x3xC window of the zero-padded x at (i, j).
cols, (ho, wo) = im2col(x, kernel=3, stride=1, padding=1)
print("cols:", cols.shape, "= (C*K*K, N*Ho*Wo)")
xpad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
check.true("cols has shape (C*K*K, N*Ho*Wo)", cols.shape == (c * 9, n * ho * wo), str(cols.shape))
check.close("column (n=1, i=0, j=7) is the padded window", cols[:, (1 * ho + 0) * wo + 7],
            xpad[1, :, 0:3, 7:10].ravel())

# The definition, one output pixel at a time (slow, but obviously right).
start = time.perf_counter()
loops = np.zeros((n, f, 35, 55), np.float32)
for i in range(35):
    for j in range(55):
        loops[:, :, i, j] = np.einsum("ncuv,fcuv->nf", xpad[:, :, i:i + 3, j:j + 3], w) + b
loop_ms = (time.perf_counter() - start) * 1e3

start = time.perf_counter()
fast = conv2d_forward(x, w, b, stride=1, padding=1)
fast_ms = (time.perf_counter() - start) * 1e3
check.close("conv2d_forward (im2col + matmul) vs pixel loops", fast, loops, rtol=1e-4, atol=1e-4)
check.close("the same product by hand: W @ cols + b",
            (w.reshape(f, -1) @ cols + b[:, None]).reshape(f, n, ho, wo).transpose(1, 0, 2, 3),
            fast, rtol=1e-5, atol=1e-5)
print(f"pixel loops {loop_ms:.1f} ms, im2col + matmul {fast_ms:.1f} ms")

# Stride and padding change only which windows are taken: Ho = (H + 2p - K) // s + 1.
y = conv2d_forward(x, w, None, stride=2, padding=0)
check.true("stride 2, no padding: Ho x Wo = 17 x 27", y.shape[2:] == (17, 27), str(y.shape))
check.close("stride 2 picks every other window of stride 1", y,
            conv2d_forward(x, w, None, stride=1, padding=0)[:, :, ::2, ::2], rtol=1e-5, atol=1e-5)
check.finish()
