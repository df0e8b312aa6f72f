"""The layers that ``python -m minigan.bench`` times, and each implementation's passes over them.

Layers: every conv / pool / loss layer of SimGAN's refiner and discriminator (section 3.1 of the
paper; padding 1 for 3x3 convs and the pool, 0 for 1x1) at an H x W eye (35 x 55).

Implementations (``implementations(device, torch)``), each a name, a ``prepare()`` that sets
global library flags before it is timed, and ``passes(layer, n)``: {pass name: zero-argument
callable}. Passes: conv "forward", "grad_input", "grad_weight" (weight and bias gradients);
pool "forward", "backward"; loss "fused" (loss, its gradient and the sum).

    GPU: minigan (kernels/*.cu, strict fp32), minigan tf32 (its tensor-core convs),
         im2col+cuBLAS (``minigan.benchmarks.im2col`` on CuPy), torch fp32 (cuDNN, TF32 off),
         torch tf32 (PyTorch's default for convolutions)
    CPU: minigan (the CPU backend, ``minigan.cpu``), plain im2col (the readable
         reference convolution, ``minigan.reference.conv_spec``), torch cpu
"""
from typing import Callable, Dict, NamedTuple

import numpy as np

from minigan.backend import xp_for
from minigan.benchmarks import im2col as bench_im2col
from minigan.benchmarks.gpu import FixedPrecisionConv
from minigan.reference import conv_spec as plain_conv
from minigan import cpu
from minigan.benchmarks.timing import conv_flops
from minigan.reference.geometry import conv2d_output_size


class Layer(NamedTuple):
    key: str          # short name for --layers
    title: str
    kind: str         # "conv" | "pool" | "xent"
    c: int            # input channels (classes for xent)
    f: int            # output channels (= c for pool / xent)
    k: int
    stride: int
    padding: int
    h: int            # input height and width
    w: int

    @property
    def out(self):
        if self.kind == "xent":
            return self.h, self.w
        return (conv2d_output_size(self.h, self.k, self.stride, self.padding),
                conv2d_output_size(self.w, self.k, self.stride, self.padding))

    def flops(self, n):
        """FLOPs of one conv pass (0 for pool and loss, which are memory-bound)."""
        return conv_flops(n, self.c, self.f, self.k, *self.out) if self.kind == "conv" else 0

    def bytes(self, n, which, itemsize=4):
        """Bytes a pass must at least read and write (each tensor once): a conv pass reads two
        of x, w, y (or their gradients) and writes the third."""
        ho, wo = self.out
        x, y = n * self.c * self.h * self.w, n * self.f * ho * wo
        if self.kind == "conv":
            return (x + y + self.f * self.c * self.k * self.k) * itemsize
        if self.kind == "pool":   # x and y (or their gradients) and the int8 argmax
            return (x + y) * itemsize + y
        return 2 * x * itemsize + n * self.h * self.w * 4      # logits in, dlogits out, labels


def simgan_layers(height=35, width=55):
    """The refiner's and discriminator's layers for height x width eyes."""
    h2, w2 = conv2d_output_size(height, 3, 2, 1), conv2d_output_size(width, 3, 2, 1)
    h4, w4 = conv2d_output_size(h2, 3, 2, 1), conv2d_output_size(w2, 3, 2, 1)
    return [
        Layer("r_conv1", "refiner conv3x3 1->64", "conv", 1, 64, 3, 1, 1, height, width),
        Layer("r_block", "refiner conv3x3 64->64", "conv", 64, 64, 3, 1, 1, height, width),
        Layer("r_head", "refiner conv1x1 64->1", "conv", 64, 1, 1, 1, 0, height, width),
        Layer("d_conv1", "disc conv3x3 s2 1->96", "conv", 1, 96, 3, 2, 1, height, width),
        Layer("d_conv2", "disc conv3x3 s2 96->64", "conv", 96, 64, 3, 2, 1, h2, w2),
        Layer("d_pool", "disc maxpool3x3 s1", "pool", 64, 64, 3, 1, 1, h4, w4),
        Layer("d_conv3", "disc conv3x3 64->32", "conv", 64, 32, 3, 1, 1, h4, w4),
        Layer("d_conv4", "disc conv1x1 32->32", "conv", 32, 32, 1, 1, 0, h4, w4),
        Layer("d_conv5", "disc conv1x1 32->2", "conv", 32, 2, 1, 1, 0, h4, w4),
        Layer("d_xent", "disc patch xent C=2", "xent", 2, 2, 1, 1, 0, h4, w4),
    ]


class Implementation(NamedTuple):
    name: str
    passes: Callable[[Layer, int], Dict[str, Callable[[], object]]]
    prepare: Callable[[], None] = lambda: None


# --- minigan and the im2col baseline on NumPy / CuPy arrays -------------------------------------

def _array_passes(xp, conv, pool, xent):
    """Passes over xp arrays for a conv module (conv2d_* functions), a pool module and a
    patch-xent function (None: that layer kind is not offered)."""
    def passes(layer, n):
        rng = xp.random.default_rng(0) if hasattr(xp.random, "default_rng") else xp.random
        ho, wo = layer.out

        def normal(*shape):
            return rng.standard_normal(shape, dtype=np.float32)

        x, gy = normal(n, layer.c, layer.h, layer.w), normal(n, layer.f, ho, wo)
        if layer.kind == "conv" and conv is not None:
            w, b = normal(layer.f, layer.c, layer.k, layer.k), normal(layer.f)
            s, p = layer.stride, layer.padding
            return {"forward": lambda: conv.conv2d_forward(x, w, b, s, p),
                    "grad_input": lambda: conv.conv2d_backward_input(gy, w, x.shape, s, p),
                    "grad_weight": lambda: (conv.conv2d_backward_weight(gy, x, w.shape, s, p),
                                            conv.conv2d_backward_bias(gy))}
        if layer.kind == "pool" and pool is not None:
            args = (layer.k, layer.stride, layer.padding)
            _, argmax = pool.max_pool2d_forward(x, *args)
            return {"forward": lambda: pool.max_pool2d_forward(x, *args),
                    "backward": lambda: pool.max_pool2d_backward(gy, argmax, x.shape, *args)}
        if layer.kind == "xent" and xent is not None:
            labels = xp.asarray(np.random.default_rng(1).integers(0, layer.c, (n, ho, wo)),
                                dtype=np.int32)
            return {"fused": lambda: xent(x, labels)}
        return {}
    return passes


def _cpu_xent_sum(logits, labels):
    loss, dlogits = cpu.patch_cross_entropy_forward(logits, labels)
    return loss.sum(), dlogits


def minigan_implementation(device):
    """minigan: the CPU backend on the CPU; on a CUDA device its kernels in strict fp32."""
    if device == "cpu":
        return Implementation("minigan", _array_passes(np, cpu, cpu, _cpu_xent_sum))
    from minigan import cuda
    return Implementation("minigan", _array_passes(xp_for(device), FixedPrecisionConv(tf32=False),
                                                   cuda, cuda.patch_cross_entropy_sum))


def minigan_tf32_implementation(device):
    """minigan's conv kernels on tensor cores (TF32 operands); convs only."""
    return Implementation("minigan tf32", _array_passes(xp_for(device),
                                                        FixedPrecisionConv(tf32=True), None, None))


def im2col_implementation(device):
    """An im2col + GEMM convolution on the device's array module (cuBLAS on a GPU)."""
    return Implementation("im2col+cuBLAS", _array_passes(xp_for(device), bench_im2col, None, None))


def plain_im2col_implementation():
    return Implementation("plain im2col", _array_passes(np, plain_conv, None, None))


# --- PyTorch -----------------------------------------------------------------------------------

def _torch_passes(torch, device):
    functional = torch.nn.functional

    def passes(layer, n):
        ho, wo = layer.out
        gen = torch.Generator(device=device).manual_seed(0)

        def normal(*shape):
            return torch.randn(*shape, generator=gen, device=device)

        x, gy = normal(n, layer.c, layer.h, layer.w), normal(n, layer.f, ho, wo)
        s, p = [layer.stride] * 2, [layer.padding] * 2
        if layer.kind == "conv":
            w, b = normal(layer.f, layer.c, layer.k, layer.k), normal(layer.f)

            def backward(mask):
                return torch.ops.aten.convolution_backward(gy, x, w, [layer.f], s, p, [1, 1],
                                                           False, [0, 0], 1, mask)
            return {"forward": lambda: functional.conv2d(x, w, b, s, p),
                    "grad_input": lambda: backward([True, False, False]),
                    "grad_weight": lambda: backward([False, True, True])}
        if layer.kind == "pool":
            k = [layer.k] * 2
            _, indices = functional.max_pool2d(x, k, s, p, return_indices=True)
            return {"forward": lambda: functional.max_pool2d(x, k, s, p, return_indices=True),
                    "backward": lambda: torch.ops.aten.max_pool2d_with_indices_backward(
                        gy, x, k, s, p, [1, 1], False, indices)}
        labels = torch.randint(0, layer.c, (n, ho, wo), generator=gen, device=device)
        logits = x.clone().requires_grad_(True)

        def fused():
            with torch.enable_grad():
                loss = functional.cross_entropy(logits, labels, reduction="sum")
                return loss, torch.autograd.grad(loss, logits)[0]
        return {"fused": fused}

    def no_grad_passes(layer, n):
        with torch.no_grad():
            table = passes(layer, n)
        return {name: _no_grad(torch, run) for name, run in table.items()}
    return no_grad_passes


def _no_grad(torch, run):
    def wrapped():
        with torch.no_grad():
            return run()
    return wrapped


def set_tf32(torch, enabled):
    torch.backends.cudnn.allow_tf32 = enabled
    torch.backends.cuda.matmul.allow_tf32 = enabled
    torch.backends.cudnn.benchmark = True   # let cuDNN pick its fastest algorithm per shape


def torch_implementations(torch, device):
    """PyTorch on the same hardware: CPU, or cuDNN in fp32 and TF32 (none on the emulator)."""
    if device == "emulator":
        return []
    if device == "cpu":
        return [Implementation("torch cpu", _torch_passes(torch, "cpu"))]
    return [Implementation("torch fp32", _torch_passes(torch, "cuda"),
                           lambda: set_tf32(torch, False)),
            Implementation("torch tf32", _convs_only(_torch_passes(torch, "cuda")),
                           lambda: set_tf32(torch, True))]


def _convs_only(passes):
    """TF32 only changes the convolutions' math: skip the pool and loss rows."""
    return lambda layer, n: passes(layer, n) if layer.kind == "conv" else {}


def implementations(device, torch=None):
    """minigan first (the ratios are taken against it), then the baselines available here."""
    found = [minigan_implementation(device)]
    if device == "cpu":
        found.append(plain_im2col_implementation())
    else:
        found += [minigan_tf32_implementation(device), im2col_implementation(device)]
    if torch is not None:
        found += torch_implementations(torch, device)
    return found
