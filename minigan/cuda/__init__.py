"""minigan's hand-written CUDA kernels (``kernels/*.cu``): compile, check, launch.

Every op function has the name, signature and results of its NumPy reference in
``minigan.reference`` (the spec), on CUDA arrays instead, so an op dispatches with
``impl = minigan.cuda if the arrays live on a CUDA device else minigan.reference``:

    conv     conv2d_forward, conv2d_backward_input, conv2d_backward_weight, conv2d_backward_bias
    pool     max_pool2d_forward, max_pool2d_backward
    xent     patch_cross_entropy_forward, patch_cross_entropy_sum (fused sum)

Each wrapper checks dtype, layout, shapes and device (``checks``) before any launch, so calling
it with NumPy arrays gives a TypeError, not a crash; ``plans`` chooses tiles, occupancy and
grids; ``compiler`` compiles each ``.cu`` once per process and device, launches its kernels and
reads what their build uses. Beyond the reference's API the conv passes take ``tf32`` (float32
on tensor cores; default: ``minigan.backend.precision.allow_tf32``) and the forward pass a fused
``residual`` and ``relu`` (see ``conv``).
"""
from minigan.cuda.compiler import kernels_dir
from minigan.cuda.conv_launch import (conv2d_backward_bias, conv2d_backward_input,
                                      conv2d_backward_weight, conv2d_forward)
from minigan.cuda.pool_launch import max_pool2d_backward, max_pool2d_forward
from minigan.cuda.xent_launch import patch_cross_entropy_forward, patch_cross_entropy_sum

# The ops of minigan.reference, with the same names and parameters (the fused sum is extra).
OPS = ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight", "conv2d_backward_bias",
       "max_pool2d_forward", "max_pool2d_backward", "patch_cross_entropy_forward")

__all__ = ["conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
           "conv2d_backward_bias", "max_pool2d_forward", "max_pool2d_backward",
           "patch_cross_entropy_forward", "OPS", "patch_cross_entropy_sum", "kernels_dir"]
