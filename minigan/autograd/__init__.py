"""Reverse-mode automatic differentiation over NumPy / CuPy arrays.

    tensor      Tensor (an array, its gradient, the op that made it) and backward()
    function    Function: the forward/backward pair every op subclasses
    grad_mode   no_grad(): ops inside record no graph
    gradcheck   analytic gradients against float64 central differences
    hints       the type hints of the public API (TensorLike, Dim, Window)
    torch_names what the error says when a PyTorch name is missing
"""
from minigan.autograd.function import Function, as_tensor
from minigan.autograd.grad_mode import is_grad_enabled, no_grad
from minigan.autograd.gradcheck import GradcheckError, gradcheck
from minigan.autograd.tensor import Tensor, zero_grads

__all__ = ["Tensor", "Function", "as_tensor", "no_grad", "is_grad_enabled", "gradcheck",
           "GradcheckError", "zero_grads"]
