"""The losses beside the patch loss: cross_entropy (N, C) logits against (N,) labels, l1_loss,
mse_loss, softmax and log_softmax. Forward against their formulas and the float64 gradient
check, on every device; labels from the host are range-checked on a CUDA device too.
"""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck
from minigan.backend import to_numpy

from op_cases import randn


def log_softmax_formula(z):
    return z - z.max(axis=1, keepdims=True) - np.log(
        np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))


LABELS = np.array([0, 2, 1])

FORMULAS = {   # name: (the op on tensors, the formula on arrays, inputs)
    "cross_entropy": (lambda z: F.cross_entropy(z, LABELS),
                      lambda z: -log_softmax_formula(z)[np.arange(3), LABELS].mean(), 1),
    "l1_loss(sum)": (lambda a, b: F.l1_loss(a, b, "sum"), lambda a, b: np.abs(a - b).sum(), 2),
    "mse_loss": (lambda a, b: F.mse_loss(a, b), lambda a, b: ((a - b) ** 2).mean(), 2),
    "log_softmax": (lambda z: F.log_softmax(z, dim=1), log_softmax_formula, 1),
    "softmax": (lambda z: F.softmax(z, dim=1), lambda z: np.exp(log_softmax_formula(z)), 1),
}


@pytest.mark.parametrize("name", FORMULAS)
def test_loss_forward_is_its_formula(name, device):
    op, formula, arity = FORMULAS[name]
    arrays = [randn(3, 4) for _ in range(arity)]
    result = op(*[Tensor(a, device=device) for a in arrays])
    np.testing.assert_allclose(to_numpy(result.data), formula(*arrays), rtol=1e-12, atol=1e-12)


# cross_entropy runs through the patch loss (homework task 2.5); the others are compositions
# of elementwise ops and reductions (homework 1)
@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.task2_5)
                                  if name == "cross_entropy" else name for name in FORMULAS])
def test_loss_gradcheck(name, device):
    op, _, arity = FORMULAS[name]
    gradcheck(op, [randn(3, 4) for _ in range(arity)], device=device)


def test_cross_entropy_checks_host_labels_on_a_cuda_device(cuda_device):
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        F.cross_entropy(Tensor(np.zeros((2, 2), np.float32), device=cuda_device), [0, 5])
