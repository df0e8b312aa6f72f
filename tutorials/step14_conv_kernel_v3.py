"""Step 14 - conv kernel v3: a guided read of minigan's own kernel, kernels/conv2d.cu.

Teaches: what v3 adds over v2, each for a measured reason on a GPU (step 16 shows how to
measure): (1) register blocking, each thread computes an 8 x 8 block of outputs from 8 + 8
values read from shared memory, not 1 from 2; (2) double buffering, the next tile is fetched
from global memory into registers while the current one is multiplied; (3) 4-wide vector reads
(float4) from shared memory laid out without bank conflicts (+4 padding per row); (4) FastDiv,
division by an invariant integer as a multiply-high and a shift; (5) tap stepping, (c, ky, kx)
advanced by increments instead of divided out for every element; (6) three passes (forward,
grad input, grad weight) from one GEMM main loop; (7) split-K with a fixed-order reduction for
grad weight, so that small layers fill the GPU and the result is still deterministic; (8) launch
planning in Python (minigan/cuda/plans.py: which tile, how many splits) and argument checks
before every launch (minigan/cuda/checks.py).
Opens: kernels/conv2d.cu, kernels/common.cuh, minigan/cuda/.
Run: python tutorials/step14_conv_kernel_v3.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks, kernel_device  # noqa: E402
from minigan import cuda, emulator  # noqa: E402
from minigan.backend import to_numpy, xp_for  # noqa: E402
from minigan.benchmarks import kernel_lab  # noqa: E402
from minigan.benchmarks.simgan_layers import simgan_layers  # noqa: E402
from minigan.cuda import plans  # noqa: E402
from minigan.cuda.compiler import kernels_dir  # noqa: E402

check = Checks()
device = kernel_device()
conv2d_cu = (kernels_dir() / "conv2d.cu").read_text(encoding="utf-8")
common_cuh = (kernels_dir() / "common.cuh").read_text(encoding="utf-8")


def excerpt(title, text, marker, before=0, after=4):
    """Print the lines around the first line that contains ``marker``."""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if marker in line]
    print(f"\n-- {title}")
    if not hits:
        print(f"   (not found: '{marker}'; the file changed, read it whole)")
        return
    for line in lines[max(0, hits[0] - before):hits[0] + after + 1]:
        print("   " + line)


excerpt("(1) the tiles: a block computes BM x BN outputs, a thread TM x TN", conv2d_cu,
        "struct TileBig", after=3)
excerpt("(1) the register block: TM x TN multiply-adds per TM + TN shared reads", conv2d_cu,
        "acc[i][j] += a[i] * b[j];", before=9, after=0)
excerpt("(2) double buffering: the next tile loads while this one is multiplied", conv2d_cu,
        "loader.fetch(k0 + BK);", before=3, after=1)
excerpt("(4) FastDiv: n / d as a multiply-high and a shift", common_cuh, "struct FastDiv",
        after=16)
excerpt("(5) tap stepping: (c, ky, kx) advanced, never divided", conv2d_cu,
        "The strip visits k0", after=17)

# (8) Launch planning: which tile each of SimGAN's layers gets, and grad weight's splits.
print("\n-- (8) launch plans at batch 64 on a 132-SM GPU")
for layer in simgan_layers():
    if layer.kind == "conv":
        ho, wo = layer.out
        taps = layer.c * layer.k * layer.k
        tile = plans.weight_tile(layer.f, taps)
        splits, chunk = plans.split_k_plan(tile, layer.f, taps, 64 * ho * wo, 132)
        print(f"   {layer.key:8} forward {plans.pixel_tile(layer.f).name:11} grad weight "
              f"{tile.name:11} x {splits:3d} splits of {chunk} pixels")
check.true("64 filters get the big tile, 2 logits the small one",
           plans.pixel_tile(64) is plans.TILE_BIG and plans.pixel_tile(2) is plans.TILE_SMALL_M)

# v3 against the reference, and against v1 and v2.
xp = xp_for(device)
for shape in [(2, 1, 35, 55, 64, 3, 1, 1), (2, 32, 9, 14, 2, 1, 1, 0),
              (1, 5, 17, 19, 130, 3, 2, 0)]:
    result = kernel_lab.check("v3", shape, np.float32, device)
    check.true(f"v3 {shape} float32", result.ok, f"{result.worst:.3f} x bound")
    x, w, b = (xp.asarray(a) for a in kernel_lab.inputs(shape, np.float64))
    ys = [to_numpy(kernel_lab.forward(v, x, w, b, shape[6], shape[7])) for v in ("v1", "v2", "v3")]
    check.close(f"v1 = v2 = v3 in float64 {shape}", np.stack(ys[:2]), np.stack([ys[2]] * 2),
                rtol=1e-12, atol=1e-12)

# The launch the plan promised (the emulator logs every launch: kernel, grid, block).
if device == "emulator":
    x, w, b = (xp.asarray(a) for a in kernel_lab.inputs((2, 1, 35, 55, 64, 3, 1, 1), np.float32))
    emulator.launch_log.clear()
    cuda.conv2d_forward(x, w, b, 1, 1)
    name, grid, block = emulator.launch_log[-1]
    print(f"\nlaunched {name}: grid {grid}, block {block}")
    check.true("grid = (ceil(N*Ho*Wo / 128), ceil(F / 64)), block 128",
               grid == (-(-2 * 35 * 55 // 128), 1, 1) and block == (128, 1, 1))

# (7) Split-K, reduced in a fixed order: the same inputs give the same bits, every time.
x, _, _ = kernel_lab.inputs((8, 64, 35, 55, 64, 3, 1, 1), np.float32)
gy = np.random.default_rng(1).standard_normal((8, 64, 35, 55)).astype(np.float32)
x, gy = xp.asarray(x), xp.asarray(gy)
first = to_numpy(cuda.conv2d_backward_weight(gy, x, (64, 64, 3, 3), 1, 1))
again = to_numpy(cuda.conv2d_backward_weight(gy, x, (64, 64, 3, 3), 1, 1))
check.true("grad weight (split-K) is bit-for-bit deterministic", np.array_equal(first, again))

if device == "cuda":
    print(f"\n{'layer':9} {'v1 ms':>9} {'v2 ms':>9} {'v3 ms':>9} {'v3 TFLOP/s':>11}")
    for layer in simgan_layers():
        if layer.kind == "conv":
            shape = (64, layer.c, layer.h, layer.w, layer.f, layer.k, layer.stride, layer.padding)
            t = {v: kernel_lab.time_forward(v, shape) for v in ("v1", "v2", "v3")}
            print(f"{layer.key:9} {t['v1'].ms:9.3f} {t['v2'].ms:9.3f} {t['v3'].ms:9.3f} "
                  f"{t['v3'].tflops:11.2f}")
check.finish()
