"""The CPU backend: the functions ``minigan.functional`` runs on NumPy arrays.

The same names and signatures as ``minigan.cuda``. The convolution is the fast one
(``conv_fast``; the tests hold it to the plain im2col specification in ``conv``); max-pooling
and the patch loss are the reference's own.
"""
from minigan.reference.conv_fast import (conv2d_backward_bias, conv2d_backward_input,
                                         conv2d_backward_weight, conv2d_forward)
from minigan.reference.pool import max_pool2d_backward, max_pool2d_forward
from minigan.reference.xent import patch_cross_entropy_forward

__all__ = [
    "conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight", "conv2d_backward_bias",
    "max_pool2d_forward", "max_pool2d_backward", "patch_cross_entropy_forward",
]
