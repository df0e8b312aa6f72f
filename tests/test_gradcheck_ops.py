"""Float64 central-difference gradient checks for every differentiable op (CPU path)."""
import numpy as np
import pytest

from minigan import F, gradcheck
from minigan.autograd.gradcheck import GradcheckError

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, shape)


BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 5), (3, 1)), ((1,), (2, 3))]


@pytest.mark.task1_2
@pytest.mark.parametrize("op", [F.add, F.sub, F.mul, F.div])
@pytest.mark.parametrize("shapes", BINARY_SHAPES)
def test_binary_ops_with_broadcasting(op, shapes):
    a, b = randn(*shapes[0]), positive(*shapes[1])
    gradcheck(op, [a, b])


@pytest.mark.task1_2
def test_pow_in_base_and_exponent():
    gradcheck(F.pow, [positive(2, 3), randn(3)])
    gradcheck(lambda x: x ** 3, [randn(4, 5)])


@pytest.mark.task1_3
@pytest.mark.parametrize("op,make", [
    (F.neg, randn), (F.exp, randn), (F.log, positive), (F.tanh, randn), (F.sigmoid, randn),
    (F.relu, randn), (lambda x: F.leaky_relu(x, 0.2), randn), (F.abs, randn),
])
def test_unary_ops(op, make):
    x = make(3, 5)
    x[np.abs(x) < 1e-3] = 0.5  # keep relu/abs away from their kink
    gradcheck(op, [x])


@pytest.mark.task1_4
@pytest.mark.parametrize("reduce", [F.sum, F.mean, F.amax])
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_reductions(reduce, dim, keepdim):
    gradcheck(lambda x: reduce(x, dim=dim, keepdim=keepdim), [randn(2, 3, 4)])


@pytest.mark.task1_4
def test_max_splits_gradient_between_ties():
    from minigan import Tensor
    x = Tensor(np.array([1.0, 3.0, 3.0]), requires_grad=True)
    F.max(x).backward()
    np.testing.assert_allclose(x.grad, [0.0, 0.5, 0.5])


@pytest.mark.task1_4
def test_shape_ops():
    gradcheck(lambda x: F.reshape(x, (6, -1)) * 2, [randn(2, 3, 4)])
    gradcheck(lambda x: F.permute(x, (2, 0, 1)), [randn(2, 3, 4)])
    gradcheck(lambda x: F.transpose(x, 0, 1), [randn(2, 3)])
    gradcheck(lambda x: F.broadcast_to(x, (4, 2, 3)), [randn(2, 1)])
    gradcheck(lambda a, b: F.cat([a, b], dim=1), [randn(2, 3), randn(2, 5)])
    gradcheck(lambda a, b: F.stack([a, b], dim=0), [randn(2, 3), randn(2, 3)])
    gradcheck(lambda a, b: F.stack([a, b], dim=-1), [randn(2, 3), randn(2, 3)])


@pytest.mark.task1_4
@pytest.mark.parametrize("index", [
    (slice(1, 3),), (Ellipsis, 0), (np.array([0, 2, 2]),), (slice(None), slice(None, None, 2)),
])
def test_indexing(index):
    gradcheck(lambda x: x[index], [randn(4, 5)])


@pytest.mark.task1_5
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((4,), (4, 3)),
                                    ((3, 4), (4,)), ((1, 3, 4), (2, 4, 5))])
def test_matmul(shapes):
    gradcheck(F.matmul, [randn(*shapes[0]), randn(*shapes[1])])


@pytest.mark.task2_5
@pytest.mark.parametrize("kernel", [1, 3, 5])
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 1])
def test_conv2d(kernel, stride, padding):
    x, w, b = randn(2, 3, 7, 6), randn(4, 3, kernel, kernel), randn(4)
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride, padding), [x, w, b])


@pytest.mark.task2_5
def test_conv2d_batch_one_without_bias_odd_size():
    gradcheck(lambda x, w: F.conv2d(x, w, None, 1, 1), [randn(1, 2, 5, 9), randn(3, 2, 3, 3)])


@pytest.mark.task2_5
@pytest.mark.parametrize("kernel,stride,padding", [(3, 1, 1), (3, 2, 1), (2, 2, 0), (3, 1, 0), (3, 2, 0)])
def test_max_pool2d(kernel, stride, padding):
    x = rng.permutation(2 * 3 * 7 * 9).reshape(2, 3, 7, 9) / 10.0  # distinct values: no ties
    gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding), [x])


@pytest.mark.task2_5
@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
def test_patch_cross_entropy(reduction):
    labels = rng.integers(0, 3, (2, 4, 5))
    gradcheck(lambda z: F.patch_cross_entropy(z, labels, reduction), [randn(2, 3, 4, 5)])


@pytest.mark.task2_5
def test_classification_and_regression_losses():
    gradcheck(lambda z: F.cross_entropy(z, np.array([0, 2, 1])), [randn(3, 4)])
    gradcheck(lambda a, b: F.l1_loss(a, b, "sum"), [randn(3, 4), randn(3, 4)])
    gradcheck(lambda a, b: F.mse_loss(a, b), [randn(3, 4), randn(3, 4)])
    gradcheck(lambda z: F.log_softmax(z, dim=1), [randn(3, 4)])
    gradcheck(lambda z: F.softmax(z, dim=1), [randn(3, 4)])


def test_gradcheck_reports_a_wrong_gradient():
    from minigan.autograd import Function

    class WrongSquare(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return g * self.x  # should be 2 x

    with pytest.raises(GradcheckError, match="input 0 .* elements differ"):
        gradcheck(lambda x: WrongSquare()(x), [randn(3)])
