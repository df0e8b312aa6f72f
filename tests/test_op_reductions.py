"""Reductions: sum, mean, var, std, amax, amin over ``dim`` (None, an int or a tuple;
``keepdim``), max and min (whole, or along a dim with their indices), argmax, argmin.

Forward against NumPy and the float64 gradient check on every device; which element gets the
gradient of a maximum among ties; the PyTorch and NumPy spellings of the arguments.
"""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck
from minigan.backend import to_numpy

from op_cases import distinct, randn

REDUCTIONS = {"sum": (F.sum, np.sum), "mean": (F.mean, np.mean), "amax": (F.amax, np.amax)}
DIMS = [(None, False), (1, False), ((0, 2), True), (-1, True)]


@pytest.mark.parametrize("dim,keepdim", DIMS)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_forward_is_numpys(name, dim, keepdim, device):
    op, numpy_op = REDUCTIONS[name]
    x = randn(2, 3, 4)
    np.testing.assert_allclose(op(Tensor(x, device=device), dim=dim, keepdim=keepdim).numpy(),
                               numpy_op(x, axis=dim, keepdims=keepdim), rtol=1e-12)


@pytest.mark.task1_4
@pytest.mark.parametrize("dim,keepdim", DIMS)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_gradcheck(name, dim, keepdim, device):
    reduce = REDUCTIONS[name][0]
    gradcheck(lambda x: reduce(x, dim=dim, keepdim=keepdim), [randn(2, 3, 4)], device=device)


CORRECTIONS = [({}, 1), ({"unbiased": True}, 1), ({"unbiased": False}, 0),
               ({"correction": 0}, 0), ({"correction": 2}, 2)]


@pytest.mark.parametrize("dim,keepdim", DIMS)
@pytest.mark.parametrize("spelling,ddof", CORRECTIONS)
def test_var_and_std_are_numpys_with_ddof_the_correction(dim, keepdim, spelling, ddof, device):
    x = randn(2, 3, 4)
    t = Tensor(x, device=device)
    np.testing.assert_allclose(F.var(t, dim, keepdim=keepdim, **spelling).numpy(),
                               np.var(x, axis=dim, keepdims=keepdim, ddof=ddof), rtol=1e-12)
    np.testing.assert_allclose(t.std(dim, keepdim=keepdim, **spelling).numpy(),
                               np.std(x, axis=dim, keepdims=keepdim, ddof=ddof), rtol=1e-12)


@pytest.mark.parametrize("dim,keepdim", DIMS)
def test_var_and_std_gradcheck(dim, keepdim, device):
    gradcheck(lambda x: F.var(x, dim, keepdim=keepdim), [randn(2, 3, 4)], device=device)
    gradcheck(lambda x: F.std(x, dim, correction=0, keepdim=keepdim), [randn(2, 3, 4)],
              device=device)


def test_var_without_degrees_of_freedom_warns_and_gives_nan_or_inf():
    with pytest.warns(RuntimeWarning, match="degrees of freedom is <= 0"):
        assert np.isnan(Tensor(np.ones(1)).var().item())
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        assert np.isinf(Tensor(np.array([0.0, 1.0])).var(correction=2).item())
    assert Tensor(np.ones(1)).var(unbiased=False).item() == 0.0
    assert Tensor(np.arange(4.0)).var(False).item() == np.var(np.arange(4.0))  # var(unbiased)


@pytest.mark.task1_4
@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True)])
def test_amax_amin(op, dim, keepdim, device):
    x = distinct(2, 3, 4)
    y = getattr(F, op)(Tensor(x, device=device), dim, keepdim)
    np.testing.assert_array_equal(y.numpy(), getattr(np, op)(x, axis=dim, keepdims=keepdim))
    gradcheck(lambda t: getattr(F, op)(t, dim, keepdim), [x], device=device)


@pytest.mark.task1_4
@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_a_dim_return_values_and_indices(op, dim, keepdim, device):
    x = distinct(3, 4)
    values, indices = getattr(F, op)(Tensor(x, device=device), dim, keepdim)
    np.testing.assert_array_equal(values.numpy(), getattr(x, op)(axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.numpy(),
                                  getattr(x, "arg" + op)(axis=dim, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad
    gradcheck(lambda t: getattr(t, op)(dim=dim, keepdim=keepdim).values, [x], device=device)


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True)])
def test_argmax_argmin(dim, keepdim, device):
    x = distinct(3, 4)
    t = Tensor(x, device=device)
    expected_max = np.argmax(x, axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(t.argmax(dim, keepdim).numpy(), expected_max)
    np.testing.assert_array_equal(t.argmin(dim=dim, keepdim=keepdim).numpy(),
                                  np.argmin(x, axis=dim, keepdims=keepdim))


# --- ties ---------------------------------------------------------------------------------------

@pytest.mark.task1_4
def test_whole_max_shares_the_gradient_between_ties(device):
    x = Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True, device=device)
    F.max(x).backward()
    np.testing.assert_allclose(to_numpy(x.grad), [0.0, 0.5, 0.5])


@pytest.mark.task1_4
def test_whole_min_shares_the_gradient_between_ties(device):
    x = Tensor(np.array([2.0, 1.0, 1.0]), requires_grad=True, device=device)
    x.min().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [0, 0.5, 0.5])


@pytest.mark.task1_4
def test_max_along_a_dim_sends_the_gradient_to_the_first_maximum(device):
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True, device=device)
    x.max(dim=1).values.sum().backward()
    grad = to_numpy(x.grad)
    np.testing.assert_array_equal(grad, [[0, 1, 0], [1, 0, 0]])


# --- arguments ----------------------------------------------------------------------------------

def test_sum_and_mean_take_dim_keepdim_and_the_numpy_aliases():
    x = Tensor(randn(2, 3, 4))
    np.testing.assert_allclose(x.sum(dim=(0, 2), keepdim=True).numpy(),
                               x.numpy().sum(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(x.mean(axis=1, keepdims=True).numpy(),
                               x.numpy().mean(axis=1, keepdims=True))
    np.testing.assert_allclose(F.sum(x, 1).numpy(), x.numpy().sum(axis=1))
    with pytest.raises(TypeError, match="both dim and its alias axis"):
        x.sum(dim=0, axis=0)
