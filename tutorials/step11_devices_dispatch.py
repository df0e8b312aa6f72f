"""Step 11 - devices and dispatch: one program, NumPy on the CPU, CUDA kernels on a GPU.

Teaches: every array lives on a device ("cpu": NumPy; "cuda": CuPy on a GPU; "emulator":
minigan's CPU emulator of the CUDA device); ``xp = get_array_module(x)`` is the array library
of x, so code written against ``xp`` runs on all of them (the DeZero / Chainer idiom); the
kernel-backed ops exist twice with the same names and signatures, ``minigan.reference`` (NumPy)
and ``minigan.cuda`` (the .cu kernels), and dispatch is one line; device arrays refuse to mix
with host arrays, on a GPU and on the emulator alike.
Opens: minigan/backend/, minigan/cuda/ (its __init__), minigan/emulator/ (its __init__).
Run: python tutorials/step11_devices_dispatch.py   (MINIGAN_DEVICE=cpu|cuda|emulator|auto picks
the default device of a whole program, e.g. MINIGAN_DEVICE=emulator python -m minigan.train_eyes)
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks, kernel_device  # noqa: E402
from minigan import F, Tensor, backend, cuda, reference  # noqa: E402

check = Checks()
device = kernel_device()
# Float32 convolutions on a GPU use TF32 tensor cores by default, as in PyTorch (10-bit
# mantissas, relative error ~3e-4): switched off here so that both devices compute in fp32.
backend.precision.allow_tf32 = False
xp = backend.xp_for(device)
rng = np.random.default_rng(0)
x = rng.standard_normal((2, 3, 35, 55)).astype(np.float32)
w = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
b = rng.standard_normal(8).astype(np.float32)

# 1. Where an array lives, and its array library.
x_dev, w_dev, b_dev = (backend.to_device(a, device) for a in (x, w, b))
print(f"x on the host: {type(x).__module__}.{type(x).__name__}; on {device}: "
      f"{type(x_dev).__module__}.{type(x_dev).__name__}")
check.true("device_of: cpu for NumPy, the device for its arrays",
           backend.device_of(x) == "cpu" and backend.device_of(x_dev) == device)
check.true("get_array_module: numpy, or the device's module",
           backend.get_array_module(x) is np and backend.get_array_module(x_dev) is xp)
check.close("to_device there and back loses nothing", backend.to_numpy(x_dev), x)


# 2. Dispatch: the same names in both modules, so the op picks one by the arrays' library.
def implementation(*arrays):
    return reference if backend.get_array_module(*arrays) is np else cuda


check.true("reference and cuda offer the same ops", reference.OPS == cuda.OPS,
           ", ".join(reference.OPS[:2]) + ", ...")
y_cpu = implementation(x, w, b).conv2d_forward(x, w, b, 1, 1)
y_dev = implementation(x_dev, w_dev, b_dev).conv2d_forward(x_dev, w_dev, b_dev, 1, 1)
check.close(f"conv2d_forward: {device} kernel vs NumPy", backend.to_numpy(y_dev), y_cpu,
            rtol=1e-4, atol=1e-4)
pooled_cpu, argmax_cpu = implementation(y_cpu).max_pool2d_forward(y_cpu, 3, 2, 1)
pooled_dev, argmax_dev = implementation(y_dev).max_pool2d_forward(y_dev, 3, 2, 1)
check.true(f"max_pool2d argmax: {device} kernel vs NumPy",
           np.array_equal(backend.to_numpy(argmax_dev), argmax_cpu))

# 3. No silent copies: mixing a host and a device array is an error, not a slow transfer.
check.raises("device array + host array is a TypeError", TypeError, lambda: x_dev + x)
check.raises("a kernel wrapper refuses a host array", TypeError,
             lambda: cuda.conv2d_forward(x, w_dev, b_dev, 1, 1), "must be an array on a CUDA")

# 4. The engine on top: the same model code, the same gradients, on either device.
grads = {}
for where in ("cpu", device):
    tx = Tensor(x, device=where, requires_grad=True)
    loss = F.conv2d(tx, Tensor(w, device=where), Tensor(b, device=where), 1, 1).tanh().sum()
    loss.backward()
    grads[where] = backend.to_numpy(tx.grad)
check.close(f"d sum(tanh(conv(x))) / dx: {device} vs cpu", grads[device], grads["cpu"],
            rtol=1e-3, atol=1e-4)
check.finish()
