"""The CPU backend: the functions ``minigan.functional`` runs on NumPy arrays.

The same names and signatures as ``minigan.cuda`` and ``minigan.reference`` (the spec). The
convolution (``convolution``) runs each pass as Winograd F(2x2, 3x3) (``winograd``) or as the
cache-blocked columns (``conv_blocked``), whichever is faster for its shape; the tests hold both
to the im2col specification ``minigan.reference.conv_spec``. ``conv2d_forward_fused`` adds the
fused op's epilogue (residual, ReLU). Max-pooling and the patch loss are the spec's own.
``threads`` splits a batch over the cores this process may use.

``MINIGAN_CPU=reference`` in the environment makes ``ops()`` hand out the spec itself, so a
student stepping into ``F.conv2d`` on the CPU lands in the im2col code they read.
"""
import os
import sys

from minigan import reference
from minigan.cpu.convolution import (conv2d_backward_bias, conv2d_backward_input,
                                     conv2d_backward_weight, conv2d_forward, conv2d_forward_fused)
from minigan.reference.pool_spec import max_pool2d_backward, max_pool2d_forward
from minigan.reference.xent_spec import patch_cross_entropy_forward

CHOICES = ("fast", "reference")


def ops():
    """The module whose functions run the ops on NumPy arrays: this one, or ``minigan.reference``
    when the environment variable ``MINIGAN_CPU`` is ``reference``."""
    choice = os.environ.get("MINIGAN_CPU", "fast") or "fast"
    if choice not in CHOICES:
        raise ValueError(f"MINIGAN_CPU must be one of {CHOICES}, got {choice!r}")
    return reference if choice == "reference" else sys.modules[__name__]

__all__ = [
    "conv2d_forward", "conv2d_forward_fused", "conv2d_backward_input", "conv2d_backward_weight", "conv2d_backward_bias",
    "max_pool2d_forward", "max_pool2d_backward", "patch_cross_entropy_forward", "ops", "CHOICES",
]
