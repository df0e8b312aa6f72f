"""The ops behind PyTorch's Tensor methods that minigan added: sqrt, clamp, permute/transpose,
squeeze/unsqueeze/flatten, clone, min/max (whole, along a dim, amax/amin), argmax/argmin, and
comparisons. Forward against NumPy, backward by float64 gradient checks, on every device."""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck
from minigan.backend import to_numpy

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def distinct(*shape):
    """Values with no ties and no two closer than 0.1 (so max/min/clamp are differentiable)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 10.0 - 1.0


@pytest.mark.task1_3
def test_sqrt(device):
    x = rng.uniform(0.5, 3, (3, 4))
    np.testing.assert_allclose(F.sqrt(Tensor(x, device=device)).numpy(), np.sqrt(x), rtol=1e-12)
    gradcheck(F.sqrt, [x], device=device)


@pytest.mark.task1_3
@pytest.mark.parametrize("low,high", [(-0.55, 0.45), (None, 0.05), (-0.25, None)])
def test_clamp(low, high, device):
    x = distinct(4, 5)
    expected = np.clip(x, -np.inf if low is None else low, np.inf if high is None else high)
    np.testing.assert_array_equal(F.clamp(Tensor(x, device=device), low, high).numpy(), expected)
    gradcheck(lambda t: F.clamp(t, min=low, max=high), [x], device=device)


def test_clamp_passes_the_gradient_at_its_bounds_as_pytorch_does(device):
    x = Tensor(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), requires_grad=True, device=device)
    x.clamp(min=0.0, max=1.0).sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), [0, 1, 1, 1, 0])


@pytest.mark.task1_4
@pytest.mark.parametrize("dims", [(2, 0, 1), (0, 1, 2), (-1, -3, -2)])
def test_permute(dims, device):
    x = randn(2, 3, 4)
    np.testing.assert_array_equal(F.permute(Tensor(x, device=device), dims).numpy(),
                                  x.transpose(dims))
    gradcheck(lambda t: t.permute(*dims), [x], device=device)


@pytest.mark.task1_4
@pytest.mark.parametrize("dim0,dim1", [(0, 1), (0, 2), (-1, 1), (1, 1)])
def test_transpose_swaps_two_dims(dim0, dim1, device):
    x = randn(2, 3, 4)
    np.testing.assert_array_equal(Tensor(x, device=device).transpose(dim0, dim1).numpy(),
                                  np.swapaxes(x, dim0, dim1))
    gradcheck(lambda t: t.transpose(dim0, dim1), [x], device=device)


@pytest.mark.parametrize("op,expected_shape", [
    (lambda t: t.squeeze(), (3, 4)),
    (lambda t: t.squeeze(0), (3, 1, 4)),
    (lambda t: t.squeeze(1), (1, 3, 1, 4)),     # size 3: kept, as in PyTorch
    (lambda t: t.squeeze((0, 2)), (3, 4)),
    (lambda t: t.unsqueeze(0), (1, 1, 3, 1, 4)),
    (lambda t: t.unsqueeze(-1), (1, 3, 1, 4, 1)),
    (lambda t: t.flatten(), (12,)),
    (lambda t: t.flatten(1), (1, 12)),
    (lambda t: t.flatten(1, 2), (1, 3, 4)),
    (lambda t: t.view(4, -1), (4, 3)),
])
@pytest.mark.task1_4
def test_squeeze_unsqueeze_flatten_view(op, expected_shape, device):
    x = randn(1, 3, 1, 4)
    y = op(Tensor(x, device=device))
    assert y.shape == expected_shape
    np.testing.assert_array_equal(y.numpy().reshape(-1), x.reshape(-1))
    gradcheck(op, [x], device=device)


@pytest.mark.task1_4
def test_clone_keeps_the_graph_and_copies_the_values(device):
    x = Tensor(randn(2, 3), requires_grad=True, device=device)
    y = x.clone()
    assert y.data is not x.data and y.creator is not None
    gradcheck(lambda t: t.clone() * 3, [randn(2, 3)], device=device)


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


@pytest.mark.task1_4
def test_max_along_a_dim_sends_the_gradient_to_the_first_maximum(device):
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]]), requires_grad=True, device=device)
    x.max(dim=1).values.sum().backward()
    grad = to_numpy(x.grad)
    np.testing.assert_array_equal(grad, [[0, 1, 0], [1, 0, 0]])


@pytest.mark.task1_4
@pytest.mark.parametrize("op", ["amax", "amin"])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True)])
def test_amax_amin(op, dim, keepdim, device):
    x = distinct(2, 3, 4)
    y = getattr(F, op)(Tensor(x, device=device), dim, keepdim)
    np.testing.assert_array_equal(y.numpy(), getattr(np, op)(x, axis=dim, keepdims=keepdim))
    gradcheck(lambda t: getattr(F, op)(t, dim, keepdim), [x], device=device)


@pytest.mark.task1_4
def test_whole_min_shares_the_gradient_between_ties(device):
    x = Tensor(np.array([2.0, 1.0, 1.0]), requires_grad=True, device=device)
    x.min().backward()
    np.testing.assert_allclose(to_numpy(x.grad), [0, 0.5, 0.5])


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True)])
def test_argmax_argmin(dim, keepdim, device):
    x = distinct(3, 4)
    t = Tensor(x, device=device)
    expected_max = np.argmax(x, axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(t.argmax(dim, keepdim).numpy(), expected_max)
    np.testing.assert_array_equal(t.argmin(dim=dim, keepdim=keepdim).numpy(),
                                  np.argmin(x, axis=dim, keepdims=keepdim))


@pytest.mark.parametrize("symbol,compare", [
    ("==", np.equal), ("!=", np.not_equal), ("<", np.less), ("<=", np.less_equal),
    (">", np.greater), (">=", np.greater_equal)])
def test_comparisons_give_boolean_tensors_without_gradient(symbol, compare, device):
    a = rng.integers(0, 3, (3, 4)).astype(np.float32)
    b = rng.integers(0, 3, (4,)).astype(np.float32)
    ta = Tensor(a, requires_grad=True, device=device)
    tb = Tensor(b, device=device)
    for result, expected in ((eval(f"ta {symbol} tb"), compare(a, b)),
                             (eval(f"ta {symbol} 1.0"), compare(a, 1.0)),
                             (eval(f"a {symbol} tb"), compare(a, b))):
        assert isinstance(result, Tensor) and result.dtype == np.bool_
        assert not result.requires_grad and result.creator is None
        np.testing.assert_array_equal(result.numpy(), expected)


def test_sum_and_mean_take_dim_keepdim_and_the_numpy_aliases():
    x = Tensor(randn(2, 3, 4))
    np.testing.assert_allclose(x.sum(dim=(0, 2), keepdim=True).numpy(),
                               x.numpy().sum(axis=(0, 2), keepdims=True))
    np.testing.assert_allclose(x.mean(axis=1, keepdims=True).numpy(),
                               x.numpy().mean(axis=1, keepdims=True))
    np.testing.assert_allclose(F.sum(x, 1).numpy(), x.numpy().sum(axis=1))
    with pytest.raises(TypeError, match="both dim and its alias axis"):
        x.sum(dim=0, axis=0)
