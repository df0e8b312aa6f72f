"""Elementwise ops: add, sub, mul, div, pow with NumPy broadcasting; neg, exp, log, sqrt, tanh,
sigmoid, relu, leaky_relu, abs, clamp; the comparisons (boolean tensors without gradient).

Forward against NumPy and the float64 gradient check on every device; ``sum_to`` (broadcasting
undone, every binary backward's last step) as the adjoint of broadcasting; the dtype and shape
rules.
"""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck
from minigan.backend import to_numpy
from minigan.functional.elementwise import sum_to

from op_cases import distinct, positive, randn, rng, shapes_id

BINARY = {"add": (F.add, np.add), "sub": (F.sub, np.subtract), "mul": (F.mul, np.multiply),
          "div": (F.div, np.divide)}
BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 5), (3, 1)), ((1,), (2, 3))]


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY = {   # name: (op, formula, input maker)
    "neg": (F.neg, np.negative, randn),
    "exp": (F.exp, np.exp, randn),
    "log": (F.log, np.log, positive),
    "tanh": (F.tanh, np.tanh, randn),
    "sigmoid": (F.sigmoid, sigmoid, randn),
    "relu": (F.relu, lambda x: np.maximum(x, 0), randn),
    "leaky_relu(0.2)": (lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
                        randn),
    "abs": (F.abs, np.abs, randn),
}


def unary_input(make):
    x = make(3, 5)
    x[np.abs(x) < 1e-3] = 0.5  # keep relu/abs away from their kink
    return x


# --- forward ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=shapes_id)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_forward_broadcasts_as_numpy(name, shapes, device):
    op, formula = BINARY[name]
    a, b = randn(*shapes[0]), positive(*shapes[1])
    y = op(Tensor(a, device=device), Tensor(b, device=device))
    np.testing.assert_allclose(y.numpy(), formula(a, b), rtol=1e-15)


@pytest.mark.parametrize("name", UNARY)
def test_unary_op_forward_is_its_formula(name, device):
    op, formula, make = UNARY[name]
    x = unary_input(make)
    np.testing.assert_allclose(op(Tensor(x, device=device)).numpy(), formula(x), rtol=1e-14)


def test_pow_forward_is_numpys_power(device):
    base, exponent = positive(2, 3), randn(3)
    np.testing.assert_allclose(F.pow(Tensor(base, device=device), Tensor(exponent, device=device))
                               .numpy(), np.power(base, exponent), rtol=1e-14)


@pytest.mark.parametrize("symbol,compare", [
    ("==", np.equal), ("!=", np.not_equal), ("<", np.less), ("<=", np.less_equal),
    (">", np.greater), (">=", np.greater_equal)])
def test_comparisons_give_boolean_tensors_without_gradient(symbol, compare, device):
    a = rng.integers(0, 3, (3, 4)).astype(np.float32)
    b = rng.integers(0, 3, (4,)).astype(np.float32)
    ta = Tensor(a, requires_grad=True, device=device)
    tb = Tensor(b, device=device)
    names = {"ta": ta, "tb": tb, "a": a}
    for result, expected in ((eval(f"ta {symbol} tb", names), compare(a, b)),
                             (eval(f"ta {symbol} 1.0", names), compare(a, 1.0)),
                             (eval(f"a {symbol} tb", names), compare(a, b))):
        assert isinstance(result, Tensor) and result.dtype == np.bool_
        assert not result.requires_grad and result.creator is None
        np.testing.assert_array_equal(result.numpy(), expected)


# --- backward: float64 gradient checks on every device ------------------------------------------

@pytest.mark.task1_2
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=shapes_id)
@pytest.mark.parametrize("name", BINARY)
def test_binary_op_gradcheck_with_broadcasting(name, shapes, device):
    a, b = randn(*shapes[0]), positive(*shapes[1])
    gradcheck(BINARY[name][0], [a, b], device=device)


@pytest.mark.task1_2
def test_pow_gradcheck_in_base_and_exponent(device):
    gradcheck(F.pow, [positive(2, 3), randn(3)], device=device)
    gradcheck(lambda x: x ** 3, [randn(4, 5)], device=device)


@pytest.mark.task1_3
@pytest.mark.parametrize("name", UNARY)
def test_unary_op_gradcheck(name, device):
    op, _, make = UNARY[name]
    gradcheck(op, [unary_input(make)], device=device)


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


# --- broadcasting undone ----------------------------------------------------------------------

@pytest.mark.task1_2
@pytest.mark.parametrize("shape", [(2, 4, 3), (4, 1), (3,), (2, 1, 3), (1, 1), ()])
def test_sum_to_is_the_adjoint_of_broadcasting(shape):
    """<sum_to(g, shape), v> = <g, broadcast(v)> for all g, v: each copy's gradient adds up."""
    gen = np.random.default_rng(0)
    g, v = gen.standard_normal((2, 4, 3)), gen.standard_normal(shape)
    summed = sum_to(g, shape)
    assert summed.shape == shape
    np.testing.assert_allclose(np.sum(summed * v), np.sum(g * np.broadcast_to(v, g.shape)))


@pytest.mark.task1_4
def test_broadcast_gradients_are_summed_back_to_shape():
    a = Tensor(np.ones((4, 3)), requires_grad=True)
    b = Tensor(np.ones((1, 3)), requires_grad=True)
    c = Tensor(np.ones(3), requires_grad=True)
    ((a + b) * c).sum().backward()
    assert b.grad.shape == (1, 3) and np.all(b.grad == 4)
    assert c.grad.shape == (3,) and np.all(c.grad == 8)


# --- dtypes and shapes --------------------------------------------------------------------------

def test_scalar_operands_keep_the_tensor_dtype():
    x = Tensor(np.ones(3, dtype=np.float32))
    assert (x * 2.5 + 1).dtype == np.float32
    assert (1 - x).dtype == np.float32


def test_mismatched_float_dtypes_are_rejected():
    a = Tensor(np.ones(2, dtype=np.float32))
    b = Tensor(np.ones(2, dtype=np.float64))
    with pytest.raises(TypeError, match="dtype mismatch float32 vs float64"):
        a + b


def test_shapes_that_do_not_broadcast_are_rejected():
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4,\) do not broadcast"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
