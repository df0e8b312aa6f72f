"""Step 2 - a convolution is a matrix product in disguise (im2col).

Run: python tutorials/step02_conv_im2col.py

A 3x3 convolution of x (N, C, H, W) with w (F, C, 3, 3) computes, for every output pixel, the
dot product of w[f] with the 3x3xC window under it. Lay all windows out as the columns of one
matrix (im2col) and the whole convolution becomes W (F, 9C) @ cols (9C, N*Ho*Wo): one call to
BLAS on the CPU, one tiled GEMM kernel on the GPU (kernels/conv2d.cu does the same without
ever building cols in memory: "implicit GEMM").
"""
import time

import numpy as np

from minigan.reference.conv import conv2d_forward, im2col

rng = np.random.default_rng(0)
x = rng.standard_normal((8, 16, 35, 55)).astype(np.float32)
w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)

# The definition, one output pixel at a time (slow, but obviously right).
xpad = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
start = time.perf_counter()
loops = np.zeros((8, 32, 35, 55), np.float32)
for i in range(35):
    for j in range(55):
        loops[:, :, i, j] = np.einsum("ncuv,fcuv->nf", xpad[:, :, i:i + 3, j:j + 3], w)
loop_ms = (time.perf_counter() - start) * 1e3

cols, (ho, wo) = im2col(x, kernel=3, stride=1, padding=1)
print("cols:", cols.shape, "= (C*K*K, N*Ho*Wo)")
start = time.perf_counter()
fast = conv2d_forward(x, w, None, stride=1, padding=1)
fast_ms = (time.perf_counter() - start) * 1e3
print("max |loops - im2col| = %.2e" % np.abs(loops - fast).max())
print("pixel loops %.1f ms, im2col + matmul %.1f ms" % (loop_ms, fast_ms))
