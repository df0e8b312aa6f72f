"""Reverse-mode automatic differentiation over NumPy / CuPy arrays.

    tensor      Tensor (an array, its gradient, the op that made it) and backward()
    function    Function: the forward/backward pair every op subclasses
    grad_mode   no_grad(): ops inside record no graph
    gradcheck   analytic gradients against float64 central differences
"""
from minigan.autograd.function import Function, as_tensor
from minigan.autograd.grad_mode import is_grad_enabled, no_grad
from minigan.autograd.gradcheck import GradcheckError, gradcheck
from minigan.autograd.tensor import Tensor

__all__ = ["Tensor", "Function", "as_tensor", "no_grad", "is_grad_enabled", "gradcheck",
           "GradcheckError"]
