"""The losses beside the patch loss: cross_entropy (N, C) logits against (N,) labels,
binary_cross_entropy_with_logits, l1_loss, mse_loss, softmax and log_softmax, and their modules
(nn.MSELoss ...). Forward against their formulas and the float64 gradient check, on every
device; labels from the host are range-checked on a CUDA device too.
"""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck, nn
from minigan.backend import to_numpy

from op_cases import randn


def log_softmax_formula(z):
    return z - z.max(axis=1, keepdims=True) - np.log(
        np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True))


LABELS = np.array([0, 2, 1])

def bce_formula(x, t, pos_weight=1.0, weight=1.0):
    softplus = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)        # log(1 + e^-x)
    return weight * ((1 - t) * x + (1 + (pos_weight - 1) * t) * softplus)


FORMULAS = {   # name: (the op on tensors, the formula on arrays, inputs)
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits,
                                         lambda x, t: bce_formula(x, t).mean(), 2),
    "binary_cross_entropy_with_logits(pos_weight, sum)": (
        lambda x, t, p: F.binary_cross_entropy_with_logits(x, t, pos_weight=p[0],
                                                           reduction="sum"),
        lambda x, t, p: bce_formula(x, t, pos_weight=p[0]).sum(), 3),
    "binary_cross_entropy_with_logits(weight, none)": (
        lambda x, t, w: F.binary_cross_entropy_with_logits(x, t, w, reduction="none"),
        lambda x, t, w: bce_formula(x, t, weight=w), 3),
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


def test_binary_cross_entropy_with_logits_does_not_overflow():
    x = Tensor(np.array([100.0, -100.0, 800.0, -800.0]), requires_grad=True)
    t = Tensor(np.array([1.0, 1.0, 0.0, 0.0]))
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [0.0, 100.0, 800.0, 0.0], atol=1e-40)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, -1.0, 1.0, 0.0], atol=1e-40)


def test_binary_cross_entropy_with_logits_needs_one_shape():
    with pytest.raises(ValueError, match="prediction has shape \\(3,\\) but target has shape"):
        F.binary_cross_entropy_with_logits(Tensor(np.zeros(3)), Tensor(np.zeros(4)))


@pytest.mark.parametrize("layer, function", [
    (nn.MSELoss, F.mse_loss), (nn.L1Loss, F.l1_loss), (nn.BCEWithLogitsLoss,
                                                       F.binary_cross_entropy_with_logits)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_call_their_function(layer, function, reduction):
    a, b = randn(3, 4), np.random.default_rng(1).uniform(0, 1, (3, 4))
    ours = layer(reduction=reduction)(Tensor(a), Tensor(b))
    np.testing.assert_array_equal(ours.numpy(),
                                  function(Tensor(a), Tensor(b), reduction=reduction).numpy())


def test_cross_entropy_loss_module_and_a_bad_reduction():
    z = randn(3, 4)
    assert nn.CrossEntropyLoss()(Tensor(z), LABELS).item() == F.cross_entropy(
        Tensor(z), LABELS).item()
    with pytest.raises(ValueError, match="reduction must be one of"):
        nn.MSELoss(reduction="average")
    with pytest.raises(TypeError):
        nn.CrossEntropyLoss(None)   # PyTorch's first argument is weight: not taken
