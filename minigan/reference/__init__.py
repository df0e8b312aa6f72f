"""NumPy specifications of the ops that have hand-written CUDA kernels.

They are the *specification* of the kernels in ``kernels/*.cu`` (the GPU tests compare the two)
and of the CPU backend ``minigan.cpu`` (the tests hold its cache-blocked convolution to
``conv_spec``). ``minigan.cuda`` and ``minigan.cpu`` expose functions with exactly these names
and signatures; ``MINIGAN_CPU=reference`` makes the CPU path run these.
"""
from minigan.reference.conv_spec import (conv2d_backward_bias, conv2d_backward_input,
                                         conv2d_backward_weight, conv2d_forward)
from minigan.reference.geometry import conv2d_output_size
from minigan.reference.pool_spec import max_pool2d_backward, max_pool2d_forward
from minigan.reference.xent_spec import patch_cross_entropy_forward

# The ops that minigan.cuda implements too, with the same names and parameters.
OPS = ("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight", "conv2d_backward_bias",
       "max_pool2d_forward", "max_pool2d_backward", "patch_cross_entropy_forward")

__all__ = ["conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
           "conv2d_backward_bias", "max_pool2d_forward", "max_pool2d_backward",
           "patch_cross_entropy_forward", "OPS", "conv2d_output_size"]
