"""The CPU backend's convolution: each pass by the algorithm that measured fastest for its shape.

Same functions, arguments and results as ``minigan.reference.conv_spec``. Two algorithms:

* ``winograd`` (F(2x2, 3x3)): 3x3 kernels at stride 1 with at least ``WINOGRAD_CHANNELS`` channels
  on both sides of the pass and a map whose 2x2 tiles waste little (at least
  ``WINOGRAD_TILE_USE`` of the tile grid is real output): the refiner's 64 -> 64 convolutions and
  the paper estimator's wide layers. Its error bound is in its docstring.
* ``conv_blocked`` (columns from shifted slices + one product per chunk): everything else, where
  Winograd's transforms cost more than the multiplications they save (few channels: the
  refiner's 1 -> 64, the small estimator; small maps: D's 9 x 14 layers).

``python -m minigan.bench --device cpu`` times both on the SimGAN and estimator layers.
"""
from minigan.cpu import conv_blocked, winograd
from minigan.cpu.conv_blocked import conv2d_backward_bias

WINOGRAD_CHANNELS = 32
WINOGRAD_TILE_USE = 0.75


def uses_winograd(c_in, c_out, kernel, stride, padding, h, w):
    """Whether a pass from c_in to c_out channels (a forward pass, or grad input with the roles
    swapped) over an h x w input runs as Winograd F(2x2, 3x3)."""
    if kernel != 3 or stride != 1 or padding > 2 or min(c_in, c_out) < WINOGRAD_CHANNELS:
        return False
    ho, wo = h + 2 * padding - 2, w + 2 * padding - 2
    tiles = winograd.tile_grid(h, w, padding)
    return ho * wo >= WINOGRAD_TILE_USE * 4 * (tiles.ho + 1) * tiles.wq


def conv2d_forward(x, w, b, stride, padding):
    """y = conv(x, w) + b. x (N,C,H,W), w (F,C,K,K), b (F,) or None -> y (N,F,Ho,Wo)."""
    return conv2d_forward_fused(x, w, b, stride, padding)


def conv2d_forward_fused(x, w, b, stride, padding, residual=None, relu=False):
    """relu(conv(x, w) + b + residual) (each part when given), the epilogue applied to each
    chunk of images while it is in cache: bit for bit the unfused chain."""
    f, c, k, _ = w.shape
    if uses_winograd(c, f, k, stride, padding, *x.shape[2:]):
        return winograd.conv3x3_forward(x, w, b, padding, residual, relu)
    return conv_blocked.conv2d_forward(x, w, b, stride, padding, residual, relu)


def conv2d_backward_input(gy, w, x_shape, stride, padding):
    """dL/dx (N,C,H,W) from dL/dy (N,F,Ho,Wo) and w (F,C,K,K)."""
    f, c, k, _ = w.shape
    if padding <= 2 and uses_winograd(f, c, k, stride, 2 - padding, *gy.shape[2:]):
        return winograd.conv3x3_backward_input(gy, w, x_shape, padding)
    return conv_blocked.conv2d_backward_input(gy, w, x_shape, stride, padding)


def conv2d_backward_weight(gy, x, w_shape, stride, padding):
    """dL/dw (F,C,K,K) = sum over n, i, j of gy[n,f,i,j] * window(n,i,j)."""
    f, c, k, _ = w_shape
    if uses_winograd(c, f, k, stride, padding, *x.shape[2:]):
        return winograd.conv3x3_backward_weight(gy, x, padding)
    return conv_blocked.conv2d_backward_weight(gy, x, w_shape, stride, padding)


__all__ = ["conv2d_forward", "conv2d_forward_fused", "conv2d_backward_input",
           "conv2d_backward_weight", "conv2d_backward_bias", "uses_winograd"]
