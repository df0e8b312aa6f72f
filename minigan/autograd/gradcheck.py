"""Gradient check: analytic gradients from ``backward`` against central differences.

For a function f of tensors x_1..x_k we compare, for every element x_i[j],

    analytic  = d<w, f(x)>/dx_i[j]                          (one backward pass)
    numerical = (<w, f(x + eps e_j)> - <w, f(x - eps e_j)>) / (2 eps)

where w is a fixed random weighting of the outputs (so every output element matters and one
scalar suffices). Run it in float64 on the CPU: float32 round-off swamps the difference.
"""
from typing import Callable, Optional, Sequence

import numpy as np

from minigan.autograd.tensor import Tensor
from minigan.backend import to_numpy


class GradcheckError(AssertionError):
    """Raised when analytic and numerical gradients disagree."""


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-4, seed: int = 0, check: Optional[Sequence[bool]] = None,
              device: str = "cpu") -> bool:
    """Check ``fn(*inputs)`` (a Tensor) against central differences; returns True or raises.

    inputs: arrays or Tensors; each floating one is made a float64 leaf that requires grad
    (``check`` = list of booleans limits which are checked); ``device='cuda'`` runs ``fn`` on the
    GPU (the kernels) while the differences are still taken in float64. Raises
    ``GradcheckError`` listing the worst elements (index, analytic, numerical) when
    |a - n| > atol + rtol * |n| anywhere.
    """
    leaves = []
    for value in inputs:
        array = to_numpy(value.data if isinstance(value, Tensor) else np.asarray(value))
        if array.dtype.kind == "f":
            array = array.astype(np.float64)
        leaves.append(array)
    check = [a.dtype.kind == "f" for a in leaves] if check is None else list(check)

    def evaluate(arrays):
        tensors = [Tensor(a, requires_grad=c, device=device) for a, c in zip(arrays, check)]
        out = fn(*tensors)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
        return tensors, out

    tensors, out = evaluate(leaves)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(weights)   # d<w, f(x)>/dx: the output's gradient is w itself

    failures = []
    for i, (array, tensor) in enumerate(zip(leaves, tensors)):
        if not check[i]:
            continue
        analytic = np.zeros_like(array) if tensor.grad is None else to_numpy(tensor.grad.data)
        numerical = np.zeros_like(array)
        flat = array.reshape(-1)
        for j in range(flat.size):
            original = flat[j]
            flat[j] = original + eps
            plus = float((to_numpy(evaluate(leaves)[1].data) * weights).sum())
            flat[j] = original - eps
            minus = float((to_numpy(evaluate(leaves)[1].data) * weights).sum())
            flat[j] = original
            numerical.reshape(-1)[j] = (plus - minus) / (2 * eps)
        excess = np.abs(analytic - numerical) - (atol + rtol * np.abs(numerical))
        if (excess > 0).any():
            worst = np.argsort(excess.reshape(-1))[::-1][:5]
            rows = [f"    index {np.unravel_index(k, array.shape)}: analytic "
                    f"{analytic.reshape(-1)[k]:.8g}, numerical {numerical.reshape(-1)[k]:.8g}"
                    for k in worst if excess.reshape(-1)[k] > 0]
            failures.append(f"  input {i} (shape {array.shape}): "
                            f"{int((excess > 0).sum())} of {array.size} elements differ\n"
                            + "\n".join(rows))
    if failures:
        raise GradcheckError("gradient check failed (atol=%g, rtol=%g):\n%s"
                             % (atol, rtol, "\n".join(failures)))
    return True
