"""Step 13 - conv kernel v2: the convolution as a tiled matrix product in shared memory.

Teaches: the implicit-GEMM view (Y = A @ B with M = F filters, Ncol = N*Ho*Wo pixels,
Kdim = C*K*K taps; B is gathered from x while loading, never stored); 16 x 16 tiles staged in
shared memory so that every value read from global memory serves 16 threads; the two barriers
(tiles complete before anyone reads them; everyone done reading before they are overwritten),
and what goes wrong without either; neighbouring threads reading neighbouring addresses.
Opens: kernels/dev/conv2d_v2_tiled.cu, minigan/benchmarks/kernel_lab.py. Homework task 4.2.
Run: python tutorials/step13_conv_kernel_v2_tiled.py   (on a GPU when one is usable, else the
emulator, which runs a block's threads one at a time and so exposes a missing barrier)
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks, kernel_device  # noqa: E402
from minigan.benchmarks import kernel_lab  # noqa: E402
from minigan.benchmarks.simgan_layers import simgan_layers  # noqa: E402

check = Checks()
device = kernel_device()

# The GEMM each of SimGAN's convolutions is, at batch 64, and how much a 16 x 16 tile reuses.
print(f"{'layer':9} {'M = F':>6} {'Ncol = N*Ho*Wo':>15} {'Kdim = C*K*K':>13} {'16x16 tiles':>12}")
for layer in simgan_layers():
    if layer.kind == "conv":
        ho, wo = layer.out
        m, ncol, kdim = layer.f, 64 * ho * wo, layer.c * layer.k * layer.k
        tiles = -(-m // 16) * -(-ncol // 16)
        print(f"{layer.key:9} {m:6d} {ncol:15d} {kdim:13d} {tiles:12d}")
print("v1 reads 2 * Kdim numbers from global memory per output; v2 reads 2 * Kdim / 16.")

shapes = [(2, 1, 35, 55, 64, 3, 1, 1), (1, 5, 17, 19, 130, 3, 2, 0), (1, 70, 6, 5, 3, 3, 1, 1),
          (2, 20, 5, 5, 17, 1, 2, 0)]
for shape in shapes:
    for dtype in (np.float64, np.float32):
        result = kernel_lab.check("v2", shape, dtype, device)
        check.true(f"v2 {shape} {np.dtype(dtype).name}", result.ok,
                   f"error {result.max_error:.1e} = {result.worst:.3f} x bound, "
                   f"{result.nan_count} NaN")

# Take a barrier out. On the emulator a block's threads run in order, each until it reaches a
# barrier: without the first, thread 0 multiplies tiles that threads 1..255 have not loaded yet
# (shared memory starts as NaN there); without the second, thread 0 loads the next tile over
# the one the others are still multiplying. On a GPU the same bugs are races: wrong sometimes.
source = kernel_lab.source("v2")
first = source.find("__syncthreads();")
second = source.find("__syncthreads();", first + 1)
if device == "emulator" and second > first >= 0:
    for what, at in (("before the multiply", first), ("after the multiply", second)):
        broken = source[:at] + "/* no barrier */" + source[at + len("__syncthreads();"):]
        result = kernel_lab.check("v2", (1, 3, 9, 10, 20, 3, 1, 1), np.float32, device,
                                  code=broken)
        check.true(f"caught: no barrier {what}", not result.ok,
                   f"{result.nan_count} NaN, error {result.max_error:.1e}")
elif device == "emulator":
    print("  (your kernel does not have two __syncthreads(): the barrier demo is skipped)")

if device == "cuda":
    for shape in [(64, 1, 35, 55, 64, 3, 1, 1), (64, 64, 35, 55, 64, 3, 1, 1)]:
        for name in ("v1", "v2"):
            t = kernel_lab.time_forward(name, shape)
            print(f"{name} {shape}: {t.ms:.3f} ms, {t.tflops:.2f} TFLOP/s, "
                  f"{t.pct_peak:.1f}% of fp32 peak")
check.finish()
