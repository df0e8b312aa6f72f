"""Comparisons: ``a == b``, ``a != b``, ``a < b`` ... elementwise, with broadcasting.

Each returns a boolean Tensor that is no part of the graph (a comparison has no gradient), as in
PyTorch. ``t == None`` is False and ``t != None`` True, as for any Python object.
"""
from __future__ import annotations

import operator

from minigan.autograd import Tensor, as_tensor
from minigan.autograd.hints import TensorLike


def _comparison(name, symbol, compare):
    def op(a: TensorLike, b: TensorLike) -> Tensor:
        a = as_tensor(a)
        b = as_tensor(b, like=a)
        if a.device != b.device:
            raise ValueError(f"{name}: operands are on different devices ({a.device}, "
                             f"{b.device}); move one with .to(device) first")
        try:
            return Tensor.wrap(compare(a.data, b.data))
        except ValueError as error:
            raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not broadcast "
                             f"({error})") from None
    op.__name__ = name
    op.__doc__ = f"Elementwise ``a {symbol} b`` as a boolean Tensor (no gradient)."
    return op


eq = _comparison("eq", "==", operator.eq)
ne = _comparison("ne", "!=", operator.ne)
lt = _comparison("lt", "<", operator.lt)
le = _comparison("le", "<=", operator.le)
gt = _comparison("gt", ">", operator.gt)
ge = _comparison("ge", ">=", operator.ge)
