"""NumPy reference implementations of the ops that have hand-written CUDA kernels.

They are the *specification* of the kernels in ``kernels/*.cu`` (the GPU tests compare the two).
``minigan.cuda`` exposes functions with exactly the same names and signatures, and so does
``minigan.reference.cpu``, the CPU backend: these ops with the convolution swapped for its fast
version (``conv_fast``, held by the tests to the same outputs as the plain im2col one here).
"""
from minigan.reference.conv import (conv2d_backward_bias, conv2d_backward_input,
                                    conv2d_backward_weight, conv2d_forward)
from minigan.reference.geometry import conv2d_output_size
from minigan.reference.pool import max_pool2d_backward, max_pool2d_forward
from minigan.reference.xent import patch_cross_entropy_forward

# The ops that minigan.cuda implements too, with the same names and parameters.
OPS = ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight", "conv2d_backward_bias",
       "max_pool2d_forward", "max_pool2d_backward", "patch_cross_entropy_forward")

__all__ = ["conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
           "conv2d_backward_bias", "max_pool2d_forward", "max_pool2d_backward",
           "patch_cross_entropy_forward", "OPS", "conv2d_output_size"]
