"""Convolution with its epilogue fused: bias, residual add and ReLU in the conv's own kernel.

    y = act(conv2d(x, weight, bias, stride, padding) + residual)

x (N, C, H, W), weight (F, C, K, K), bias (F,) or None, residual (N, F, Ho, Wo) or None,
activation None or "relu". These are the refiner's layers: conv + ReLU (its first conv and the
first conv of each ResNet block) and relu(x + conv(.)) (the second conv of each block).

On the GPU the forward pass is one kernel launch (``kernels/conv2d.cu``'s epilogue), where
conv2d, + and relu would take five. On the CPU the backend applies the epilogue to each chunk of
images while it is in cache (``minigan.cpu.conv2d_forward_fused``; under ``MINIGAN_CPU=reference``
the unfused chain). Either way it computes exactly what the unfused chain computes, in the same
order (bias, then residual, then relu as ``F.relu`` does it), so the results are bit for bit
those of ``F.relu(residual + F.conv2d(x, weight, bias))``.

Backward, with z = y the output and g = dL/dz:

    g_pre      = g where z > 0 else 0 * g      (relu; z > 0 exactly where its input is > 0)
    d residual = g_pre
    dx, dweight, dbias = conv2d's backward of g_pre
"""
from minigan.autograd import Function
from minigan.backend import device_of, get_array_module
from minigan.functional.conv import check_conv2d_arguments
from minigan.functional.dispatch import implementation
from minigan.reference.geometry import square

ACTIVATIONS = (None, "relu")


def _relu(a):
    """F.relu's formula, so that the CPU result is bit for bit the unfused one."""
    return get_array_module(a).maximum(a, 0).astype(a.dtype, copy=False)


class FusedConv2d(Function):
    """y = act(conv2d(x, w, b) + residual); gx, gw, gb from conv2d's backward of act's gy."""
    def __init__(self, stride=1, padding=0, activation=None, has_bias=True, has_residual=False):
        if activation not in ACTIVATIONS:
            raise ValueError(f"fused_conv2d: activation must be one of {ACTIVATIONS}, "
                             f"got {activation!r}")
        self.stride = square("fused_conv2d", "stride", stride)
        self.padding = square("fused_conv2d", "padding", padding)
        self.activation, self.has_bias, self.has_residual = activation, has_bias, has_residual

    def forward(self, x, w, *rest):
        b = rest[0] if self.has_bias else None
        residual = rest[-1] if self.has_residual else None
        g = check_conv2d_arguments(x, w, b, self.stride, self.padding)
        if residual is not None:
            _check_residual(residual, x, (g.N, g.F, g.Ho, g.Wo))
        self.x, self.w = x, w
        self.impl = implementation(x, w)
        relu = self.activation == "relu"
        if device_of(x) != "cpu":   # a CUDA device: one kernel, the epilogue does the rest
            if residual is not None:
                residual = get_array_module(x).ascontiguousarray(residual)
            self.z = self.impl.conv2d_forward(x, w, b, self.stride, self.padding, relu=relu,
                                              residual=residual)
            return self.z
        if hasattr(self.impl, "conv2d_forward_fused"):   # the CPU backend: per chunk in cache
            self.z = self.impl.conv2d_forward_fused(x, w, b, self.stride, self.padding,
                                                    residual=residual, relu=relu)
            return self.z
        y = self.impl.conv2d_forward(x, w, b, self.stride, self.padding)   # the spec
        if residual is not None:
            y = residual + y
        self.z = _relu(y) if relu else y
        return self.z

    def backward(self, gy):
        if self.activation == "relu":   # F.relu's backward: gy times the mask z > 0
            gy = (gy * (self.z > 0)).astype(gy.dtype, copy=False)
        gy = gy if gy.flags.c_contiguous else gy.copy()
        need = self.needs_input_grad
        gx = self.impl.conv2d_backward_input(gy, self.w, self.x.shape, self.stride,
                                             self.padding) if need[0] else None
        gw = self.impl.conv2d_backward_weight(gy, self.x, self.w.shape, self.stride,
                                              self.padding) if need[1] else None
        grads = [gx, gw]
        if self.has_bias:
            grads.append(self.impl.conv2d_backward_bias(gy) if need[2] else None)
        if self.has_residual:
            grads.append(gy if need[-1] else None)
        return tuple(grads)


def _check_residual(residual, x, expected):
    if tuple(residual.shape) != expected:
        raise ValueError(f"fused_conv2d: residual must have the output's shape {expected}, got "
                         f"{tuple(residual.shape)}")
    if residual.dtype != x.dtype:
        raise TypeError(f"fused_conv2d: residual must have the input's dtype {x.dtype}, got "
                        f"{residual.dtype}")


def fused_conv2d(x, weight, bias=None, stride=1, padding=0, residual=None, activation=None):
    """act(conv2d(x, weight, bias) + residual) in one op, ``stride`` and ``padding`` an int or a
    pair of equal ints; see the module docstring."""
    op = FusedConv2d(stride, padding, activation, bias is not None, residual is not None)
    inputs = [x, weight] + ([bias] if bias is not None else []) + (
        [residual] if residual is not None else [])
    return op(*inputs)
