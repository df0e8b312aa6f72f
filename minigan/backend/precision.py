"""How float32 convolutions multiply on a GPU: exact fp32, or TF32 on tensor cores.

TF32 keeps fp32's 8-bit exponent and rounds the mantissa of each *operand* to 10 bits (round to
nearest, ties away from zero); products are exact and summed in fp32. A convolution then has a
relative error of about 1e-4 to 1e-3 instead of 1e-7, at several times the speed on
NVIDIA GPUs of compute capability 8.0 or more (A100, H100, ...). As in PyTorch
(``torch.backends.cudnn.allow_tf32``), it is **on by default for convolutions**; float64, the
CPU and older GPUs are not affected::

    from minigan.backend import precision
    precision.allow_tf32 = False            # strict fp32 from now on
    with precision.tf32(False):             # or only inside this block
        ...

The environment variable ``MINIGAN_ALLOW_TF32=0`` turns it off for a whole process.
"""
import contextlib
import os

allow_tf32 = os.environ.get("MINIGAN_ALLOW_TF32", "1").strip().lower() not in ("0", "false", "no")


@contextlib.contextmanager
def tf32(enabled):
    """Within the block, float32 convolutions on the GPU use TF32 when ``enabled``."""
    global allow_tf32
    saved, allow_tf32 = allow_tf32, bool(enabled)
    try:
        yield
    finally:
        allow_tf32 = saved
