"""Matrix product with NumPy's ``matmul`` broadcasting rules.

a (..., n, k), b (..., k, m) -> y = a @ b (..., n, m);  ga = gy @ b^T,  gb = a^T @ gy
(transposes over the last two axes, summed back over broadcast batch axes). 1-D operands are
treated as in NumPy (row / column vectors).
"""
from __future__ import annotations

from typing import Optional

from minigan.autograd import Function, Tensor
from minigan.autograd.hints import TensorLike
from minigan.backend import get_array_module
from minigan.functional.elementwise import _check_dtypes, sum_to


class MatMul(Function):
    """y = a @ b;  ga = gy @ b^T, gb = a^T @ gy (batch axes summed back where broadcast)."""
    def forward(self, a, b):
        _check_dtypes("matmul", a, b)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: operands must have at least one dimension")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align "
                             f"({a.shape[-1]} != {b.shape[-2 if b.ndim > 1 else 0]})")
        self.a, self.b = a, b
        return get_array_module(a, b).matmul(a, b)

    def backward(self, gy):
        """(ga, gb) = (gy @ b^T, a^T @ gy) over the last two axes; a 1-D a is the row
        (1, k) and a 1-D b the column (k, 1) (gy gets the dimension back that they lost), and each
        gradient is summed back over the batch axes its input was broadcast along (``sum_to``).
        None for an input that needs no gradient."""
        xp = get_array_module(gy)
        a = self.a[None, :] if self.a.ndim == 1 else self.a
        b = self.b[:, None] if self.b.ndim == 1 else self.b
        if self.a.ndim == 1:
            gy = xp.expand_dims(gy, -2)
        if self.b.ndim == 1:
            gy = xp.expand_dims(gy, -1)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = sum_to(xp.matmul(gy, xp.swapaxes(b, -1, -2)), a.shape).reshape(self.a.shape)
        if self.needs_input_grad[1]:
            gb = sum_to(xp.matmul(xp.swapaxes(a, -1, -2), gy), b.shape).reshape(self.b.shape)
        return ga, gb


def matmul(a: TensorLike, b: TensorLike) -> Tensor:
    return MatMul()(a, b)


def linear(x: TensorLike, weight: TensorLike, bias: Optional[TensorLike] = None) -> Tensor:
    """y = x @ weight^T + bias: x (..., in), weight (out, in), bias (out,) -> y (..., out)."""
    y = matmul(x, weight.T)
    return y if bias is None else y + bias
