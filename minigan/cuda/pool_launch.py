"""Max-pooling on the GPU: launch wrappers for ``kernels/maxpool2d.cu``, same API as
``minigan.reference.pool_spec``.

    max_pool2d_forward(x, kernel, stride, padding)                    -> y, argmax (int8)
    max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding) -> gx
"""
import numpy as np

from minigan.backend import get_array_module
from minigan.cuda import checks
from minigan.cuda.checks import GRID_YZ_LIMIT
from minigan.cuda.compiler import CTYPES, int32_args, launch, on_common_device
from minigan.cuda.plans import BLOCK, cdiv


def _pool_ints(g):
    return int32_args(g.N * g.C, g.H, g.W, g.K, g.stride, g.padding, g.Ho, g.Wo)


def max_pool2d_forward(x, kernel, stride, padding):
    """(y, argmax): y (N,C,Ho,Wo) like x, argmax int8 = ky*K + kx of each window's maximum."""
    op = "max_pool2d_forward"
    checks.require_gpu_arrays(op, x=x)
    xp = get_array_module(x)
    g = checks.check_max_pool2d_forward(x, kernel, stride, padding)
    with x.device:
        y = xp.empty((g.N, g.C, g.Ho, g.Wo), dtype=x.dtype)
        argmax = xp.empty((g.N, g.C, g.Ho, g.Wo), dtype=np.int8)
        grid = (cdiv(g.Ho * g.Wo, BLOCK), min(g.N * g.C, GRID_YZ_LIMIT), 1)
        launch(xp, "maxpool2d", f"max_pool2d_forward<{CTYPES[str(x.dtype)]}>", grid, (BLOCK,),
               (x, y, argmax) + _pool_ints(g))
    return y, argmax


def max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding):
    """dL/dx (N,C,H,W): each input pixel gathers gy from the windows whose argmax it is."""
    op = "max_pool2d_backward"
    checks.require_gpu_arrays(op, gy=gy, argmax=argmax)
    xp = get_array_module(gy)
    g = checks.check_max_pool2d_backward(gy, argmax, x_shape, kernel, stride, padding)
    with on_common_device(op, gy=gy, argmax=argmax):
        gx = xp.empty((g.N, g.C, g.H, g.W), dtype=gy.dtype)
        grid = (cdiv(g.H * g.W, BLOCK), min(g.N * g.C, GRID_YZ_LIMIT), 1)
        launch(xp, "maxpool2d", f"max_pool2d_backward<{CTYPES[str(gy.dtype)]}>", grid, (BLOCK,),
               (gy, argmax, gx) + _pool_ints(g))
    return gx
