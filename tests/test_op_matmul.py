"""matmul: NumPy's matrix product (vectors, matrices, batches of matrices that broadcast).

Forward against ``numpy.matmul`` and the float64 gradient check on every device; shapes that
do not align are a clear error.
"""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck

from op_cases import randn, shapes_id

SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,)),
          ((1, 3, 4), (2, 4, 5))]


@pytest.mark.parametrize("shapes", SHAPES, ids=shapes_id)
def test_matmul_forward_is_numpys(shapes, device):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    np.testing.assert_allclose(F.matmul(Tensor(a, device=device), Tensor(b, device=device))
                               .numpy(), np.matmul(a, b), rtol=1e-12, atol=1e-12)


@pytest.mark.task1_5
@pytest.mark.parametrize("shapes", SHAPES, ids=shapes_id)
def test_matmul_gradcheck(shapes, device):
    gradcheck(F.matmul, [randn(*shapes[0]), randn(*shapes[1])], device=device)


def test_shapes_that_do_not_align_are_rejected():
    with pytest.raises(ValueError, match="do not align"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 2)))


def test_linear_is_x_times_weight_transposed_plus_bias(device):
    x, w, b = randn(2, 3, 4), randn(5, 4), randn(5)
    y = F.linear(Tensor(x, device=device), Tensor(w, device=device), Tensor(b, device=device))
    np.testing.assert_allclose(y.numpy(), x @ w.T + b, rtol=1e-12)
    gradcheck(F.linear, [x, w, b], device=device)
    gradcheck(lambda x, w: F.linear(x, w), [x, w], device=device)
