"""Step 12 - conv kernel v1: one CUDA thread per output element.

Teaches: how a CUDA kernel is launched (a grid of blocks of threads; each thread computes its
flat index i = blockIdx.x * blockDim.x + threadIdx.x); decoding i into (n, f, oh, ow) with 64-bit
arithmetic; the bounds check for the last block, which runs past the end; skipping taps outside
the image, which *is* the zero padding; checking a kernel against the float64 NumPy reference
with the rounding bound of a float32 sum (eps * (4 sqrt(L) + 4) * scale).
Opens: kernels/dev/conv2d_v1_naive.cu, minigan/benchmarks/kernel_lab.py. Homework task 4.1.
Run: python tutorials/step12_conv_kernel_v1.py   (on a GPU when one is usable, else the emulator)
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks, kernel_device  # noqa: E402
from minigan.benchmarks import kernel_lab  # noqa: E402
from minigan.grading import stubs  # noqa: E402
from minigan.reference.geometry import conv2d_geometry  # noqa: E402

check = Checks()
device = kernel_device()
source = kernel_lab.source("v1")
body = stubs.body(source, kernel_lab.VERSIONS["v1"].source, "conv2d_v1_naive")
print("v1 begins by finding its thread's output element:\n   " + "\n   ".join(
    body.splitlines()[1:9]))

# The launch: ceil(N*F*Ho*Wo / 256) blocks of 256 threads, one thread per output element.
shape = (2, 1, 35, 55, 64, 3, 1, 1)            # the refiner's first conv on a 35 x 55 eye
g = conv2d_geometry("conv", shape[:4], (shape[4], shape[1], shape[5], shape[5]), 1, 1)
grid, block = kernel_lab.launch_geometry("v1", g)
outputs = g.N * g.F * g.Ho * g.Wo
print(f"{outputs} outputs -> grid {grid} x block {block}: {grid[0] * block[0] - outputs} "
      f"threads of the last block have nothing to do")
check.true("the grid covers every output, with less than one block to spare",
           0 <= grid[0] * block[0] - outputs < block[0])

# Checked against the reference: float64 first (the index math: any wrong index shows as an
# error far above rounding), then float32 (the rounding bound).
for shape in [(2, 1, 35, 55, 64, 3, 1, 1), (1, 3, 7, 9, 5, 5, 1, 0), (3, 3, 13, 11, 7, 7, 2, 1),
              (2, 3, 8, 8, 4, 3, 3, 2)]:
    for dtype in (np.float64, np.float32):
        result = kernel_lab.check("v1", shape, dtype, device)
        check.true(f"v1 {shape} {np.dtype(dtype).name}", result.ok,
                   f"error {result.max_error:.1e} = {result.worst:.3f} x bound, "
                   f"{result.nan_count} NaN")

# Two classic bugs, and what the check says about them (the emulator's outputs start as NaN,
# so an output nobody writes shows up as NaN; on a GPU it holds garbage, which fails too).
bugs = {"off by one: the last output is never written": ("if (i >= (i64)N * F * Ho * Wo)",
                                                         "if (i >= (i64)N * F * Ho * Wo - 1)"),
        "index math: oh without % Ho": ("(int)(i / Wo % Ho)", "(int)(i / Wo)")}
for what, (line, broken) in bugs.items():
    if line not in source:
        print(f"  (your kernel has no '{line}': the demo '{what}' is skipped)")
        continue
    result = kernel_lab.check("v1", (2, 3, 8, 8, 4, 3, 1, 1), np.float32, device,
                              code=source.replace(line, broken))
    check.true(f"caught: {what}", not result.ok,
               f"{result.nan_count} NaN, error {result.max_error:.1e}")

if device == "cuda":
    for shape in [(64, 1, 35, 55, 64, 3, 1, 1), (64, 64, 35, 55, 64, 3, 1, 1)]:
        t = kernel_lab.time_forward("v1", shape)
        print(f"v1 {shape}: {t.ms:.3f} ms, {t.tflops:.2f} TFLOP/s, {t.pct_peak:.1f}% of fp32 peak")
check.finish()
