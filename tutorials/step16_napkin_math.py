"""Step 16 - napkin math: how fast could each layer be, and how fast is it?

Teaches: counting a layer's work (FLOPs = 2 * M * Ncol * Kdim of its GEMM) and its least memory
traffic (read x and w, write y, once each); arithmetic intensity = FLOPs / byte; the roofline:
a layer takes at least max(FLOPs / peak FLOP/s, bytes / bandwidth), so below the GPU's ridge
point (peak / bandwidth, about 20 FLOP/byte on an H100) it is memory-bound and no kernel
trick on the arithmetic helps; measured time against that bound (% of the roofline).
Opens: minigan/benchmarks/ (layers.py, timing.py; ``python -m minigan.bench`` prints the full
table on a GPU: minigan vs im2col + cuBLAS vs cuDNN).
Run: python tutorials/step16_napkin_math.py
"""
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import QUICK, Checks, kernel_device  # noqa: E402
from minigan import reference  # noqa: E402
from minigan.benchmarks import kernel_lab  # noqa: E402
from minigan.benchmarks.simgan_layers import simgan_layers  # noqa: E402
from minigan.benchmarks.timing import gpu_name, peak_for  # noqa: E402
from minigan.reference.conv_spec import im2col  # noqa: E402

check = Checks()
device = kernel_device()
layers = {layer.key: layer for layer in simgan_layers()}
name = gpu_name() if device == "cuda" else None
tflops, gbps = peak_for(name or "") or peak_for("H100")
print(f"peaks of {name or 'an H100 (no GPU here: the vendor figures)'}: {tflops} TFLOP/s fp32, "
      f"{gbps} GB/s; ridge point {tflops * 1e3 / gbps:.1f} FLOP/byte")

n = 512   # the paper's batch
print(f"\nforward pass at batch {n}, float32:")
print(f"{'layer':9} {'GFLOP':>8} {'MB':>8} {'FLOP/B':>7} {'bound us':>9}  bound by")
bound_by = {}
for key, layer in layers.items():
    flops, moved = layer.flops(n), layer.bytes(n, "forward")
    compute_us, memory_us = flops / tflops / 1e6, moved / gbps / 1e3
    bound_by[key] = "compute" if compute_us > memory_us else "memory"
    print(f"{key:9} {flops / 1e9:8.2f} {moved / 1e6:8.1f} {flops / moved:7.1f} "
          f"{max(compute_us, memory_us):9.1f}  {bound_by[key]}")
check.true("the refiner's 64->64 conv is compute-bound", bound_by["r_block"] == "compute")
check.true("its 1x1 64->1 head, the pool and the loss are memory-bound",
           {bound_by[k] for k in ("r_head", "d_pool", "d_xent")} == {"memory"})

# The FLOP count is the GEMM's: 2 * F * (C*K*K) * (N*Ho*Wo), the sizes of W and of im2col's cols.
layer = layers["d_conv2"]
x = np.zeros((2, layer.c, layer.h, layer.w), np.float32)
cols, _ = im2col(x, layer.k, layer.stride, layer.padding)
check.true("layer FLOPs = 2 * F * rows(cols) * columns(cols)",
           layer.flops(2) == 2 * layer.f * cols.shape[0] * cols.shape[1],
           f"{layer.flops(2)} FLOPs at batch 2")
ho, wo = layer.out
check.true("least traffic = x + w + y, once each", layer.bytes(2, "forward") == 4 * (
    x.size + layer.f * layer.c * layer.k ** 2 + 2 * layer.f * ho * wo))

# Measured: the NumPy reference on this CPU (the same FLOPs, through OpenBLAS).
layer = layers["r_block"]
batch = 2 if QUICK else 8
rng = np.random.default_rng(0)
x = rng.standard_normal((batch, 64, 35, 55)).astype(np.float32)
w = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
times = []
for _ in range(3):
    start = time.perf_counter()
    reference.conv2d_forward(x, w, None, 1, 1)
    times.append(time.perf_counter() - start)
print(f"\nCPU, NumPy reference, r_block at batch {batch}: {min(times) * 1e3:.1f} ms = "
      f"{layer.flops(batch) / min(times) / 1e9:.1f} GFLOP/s (best of 3)")

if device == "cuda":
    print("\nGPU, v3 at batch 64 against the roofline:")
    for key, layer in layers.items():
        if layer.kind == "conv":
            shape = (64, layer.c, layer.h, layer.w, layer.f, layer.k, layer.stride, layer.padding)
            t = kernel_lab.time_forward("v3", shape)
            bound_ms = max(layer.flops(64) / tflops / 1e9, layer.bytes(64, "forward") / gbps / 1e6)
            print(f"  {key:9} {t.ms:8.3f} ms  {100 * bound_ms / t.ms:5.1f}% of the roofline")
else:
    print("no GPU: the emulator's times say nothing about a GPU's; run this step on one (or "
          "python -m minigan.bench) to fill in the measured column")
check.finish()
