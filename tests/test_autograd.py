"""The engine: tensors, the graph and its backward walk, gradient accumulation into ``.grad``
(a Tensor), no_grad and detach, the version counter, which tensors may require gradients, the
errors for names minigan lacks, and the gradient check itself. The ops' own tests are in
tests/test_op_*.py, the in-place ops' in tests/test_inplace.py."""
import numpy as np
import pytest

import minigan
from minigan import Tensor, gradcheck, no_grad
from minigan.autograd import Function
from minigan.autograd.gradcheck import GradcheckError
from minigan.autograd.tensor import _topological_order


def test_python_floats_default_to_float32():
    assert Tensor([1.0, 2.0]).dtype == np.float32
    assert Tensor(np.zeros(2)).dtype == np.float64


@pytest.mark.task1_4
def test_gradient_accumulates_over_uses_of_one_tensor():
    x = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    y = (x * x + x * 3).sum()      # dy/dx = 2x + 3
    y.backward()
    np.testing.assert_allclose(x.grad, [7.0, 9.0])


@pytest.mark.task1_2
def test_backward_twice_accumulates_into_grad():
    x = Tensor(np.array(1.5), requires_grad=True)
    (x * 2).backward()
    (x * 2).backward()
    assert x.grad == 4.0


@pytest.mark.task1_2
def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y + 1.0
    y.backward()
    assert x.grad == 1.0


@pytest.mark.task1_2
def test_diamond_graph_visits_each_node_once():
    x = Tensor(np.array(2.0), requires_grad=True)
    a = x * 3
    b = a * a + a        # db/da = 2a + 1 = 13, da/dx = 3
    b.backward()
    assert x.grad == pytest.approx(39.0)


def test_no_grad_records_no_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        y = x * 2
    assert not y.requires_grad and y.creator is None


@pytest.mark.task1_4
def test_detach_cuts_the_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    y = (x * 2).detach() * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


@pytest.mark.task1_2
def test_backward_on_non_scalar_needs_grad_argument():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="one-element"):
        (x * 2).backward()
    (x * 2).backward(np.ones(3))
    np.testing.assert_allclose(x.grad, 2.0)


@pytest.mark.task1_1
def test_backward_without_requires_grad_is_a_clear_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor(np.ones(1)) * 2).backward()


def test_tensor_facts_and_to_cpu():
    t = Tensor(np.zeros((2, 3), dtype=np.float32), requires_grad=True)
    assert t.shape == (2, 3) and t.ndim == 2 and t.device == "cpu"
    assert t.size() == (2, 3) and t.size(-1) == 3 and t.numel() == 6 and t.dim() == 2
    assert t.to("cpu") is t
    assert isinstance(t.detach().numpy(), np.ndarray) and t.detach().data is t.data
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\) instead"):
        t.numpy()


def test_manual_seed_makes_initialisation_reproducible():
    minigan.manual_seed(5)
    a = minigan.nn.Conv2d(2, 3, 3).weight.detach().numpy()
    minigan.manual_seed(5)
    b = minigan.nn.Conv2d(2, 3, 3).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)


@pytest.mark.task1_4
def test_changing_an_input_after_an_op_used_it_makes_backward_refuse():
    w = Tensor(np.ones(3), requires_grad=True)
    y = (w.exp() * 2).sum()
    w.data = w.data + 1
    with pytest.raises(RuntimeError, match=r"input 0 of Exp \(shape \(3,\)\) was changed after "
                                           r"Exp used it \(its data is at version 1, Exp saw "
                                           r"version 0: an in-place op"):
        y.backward()


@pytest.mark.task1_4
def test_changing_a_tensor_after_backward_is_fine():
    w = Tensor(np.ones(3), requires_grad=True)
    (w * w).sum().backward()
    w.data = w.data - 0.1 * w.grad.data     # what an optimizer step does
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad, 2 * 0.8 * np.ones(3))


def test_only_floating_tensors_can_require_grad():
    for dtype in (np.int64, np.int32, np.bool_):
        with pytest.raises(RuntimeError, match="only floating-point tensors can require gradients"):
            Tensor(np.zeros(2, dtype), requires_grad=True)
        t = Tensor(np.zeros(2, dtype))
        with pytest.raises(RuntimeError, match=f"dtype {np.dtype(dtype)}"):
            t.requires_grad = True


def test_an_integer_result_does_not_join_the_graph():
    x = Tensor(np.array([1.5, 2.5]), requires_grad=True)
    y = x.to(np.int64)
    assert y.dtype == np.int64 and not y.requires_grad and y.creator is None


def test_requires_grad_underscore_sets_the_flag_and_returns_the_tensor():
    t = Tensor(np.ones(2))
    assert t.requires_grad_() is t and t.requires_grad
    with pytest.raises(RuntimeError, match="detach"):
        (t * 2).requires_grad_(False)


def test_comparisons_are_tensors_and_hashing_is_by_identity():
    a, b = Tensor(np.array([1.0, 2.0])), Tensor(np.array([1.0, 3.0]))
    np.testing.assert_array_equal((a == b).numpy(), [True, False])
    assert a != None and not (a == None)  # noqa: E711 - PyTorch's rule for None
    assert len({a, b}) == 2 and a in {a: 0}


def test_bool_float_int_of_one_element_and_the_errors_beyond():
    assert bool(Tensor(np.array([2.0]))) and not bool(Tensor(np.array(0.0)))
    assert float(Tensor(np.array([[2.5]]))) == 2.5 and int(Tensor(np.array(7.9))) == 7
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(Tensor(np.ones(2)))
    with pytest.raises(ValueError, match="only one-element tensors"):
        float(Tensor(np.ones(2)))
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(Tensor(np.array(1.0)))


@pytest.mark.task1_4
def test_to_changes_dtype_and_device():
    x = Tensor(np.ones(2, np.float32), requires_grad=True)
    y = x.to(np.float64)
    assert y.dtype == np.float64 and x.to("float32") is x and x.to("cpu") is x
    assert x.cpu() is x and x.double().dtype == np.float64 and x.long().dtype == np.int64
    y.sum().backward()
    assert x.grad.dtype == np.float32
    with pytest.raises(ValueError, match="device must be one of"):
        x.to("tpu")


# --- the backward walk alone, on ops written here (homework task 1.1 needs none of minigan's) ---

class Scale(Function):
    """y = c x;  gx = c gy."""
    def __init__(self, c):
        self.c = c

    def forward(self, x):
        return self.c * x

    def backward(self, gy):
        self.calls = getattr(self, "calls", 0) + 1
        return self.c * gy


class Plus(Function):
    """y = a + b (one shape);  (ga, gb) = (gy, gy)."""
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


def diamond():
    """x -> a = 3x -> (b = 2a, c = 5a) -> d = b + c, so dd/dx = 3 (2 + 5) = 21."""
    x = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    a = Scale(3.0)(x)
    b, c = Scale(2.0)(a), Scale(5.0)(a)
    return x, a, Plus()(b, c)


@pytest.mark.task1_1
def test_topological_order_lists_each_tensor_once_after_its_inputs():
    x, a, d = diamond()
    constant = Tensor(np.ones(2))                  # needs no gradient: left out
    e = Plus()(d, constant)
    order = _topological_order(e)
    assert order[-1] is e and len(order) == 6 and len({id(t) for t in order}) == 6
    assert all(constant is not t for t in order)
    position = {id(t): i for i, t in enumerate(order)}
    for t in order:
        if t.creator is not None:
            assert all(position[id(i)] < position[id(t)]
                       for i in t.creator.inputs if i.requires_grad)


@pytest.mark.task1_1
def test_backward_runs_each_op_once_and_sums_the_gradients_of_a_shared_tensor():
    x, a, d = diamond()
    scale = a.creator
    d.backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [21.0, 210.0])
    assert scale.calls == 1


@pytest.mark.task1_1
def test_a_leaf_used_twice_gets_both_gradients_and_a_constant_none():
    x = Tensor(np.array(2.0), requires_grad=True)
    constant = Tensor(np.array(5.0))
    Plus()(Plus()(x, x), constant).backward()
    assert x.grad == 2.0 and constant.grad is None


@pytest.mark.task1_1
def test_backward_frees_the_graph_unless_asked_to_retain_it():
    x, _, d = diamond()
    d.backward(np.ones(2), retain_graph=True)
    d.backward(np.ones(2))                         # the graph was kept: the gradients add up
    np.testing.assert_allclose(x.grad, [42.0, 42.0])
    assert d.creator is None


@pytest.mark.task1_1
def test_a_chain_deeper_than_the_recursion_limit():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = Scale(1.0)(y)
    assert len(_topological_order(y)) == 10_001
    y.backward()
    assert x.grad == 1.0


@pytest.mark.task1_1
def test_a_grad_of_the_wrong_shape_and_a_wrong_gradient_are_named():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match=r"grad has shape \(2,\) but the tensor has shape \(3,\)"):
        Scale(2.0)(x).backward(np.ones(2))

    class Wrong(Function):
        def forward(self, x):
            return x.sum()

        def backward(self, gy):
            return gy      # shape () for an input of shape (3,)

    with pytest.raises(RuntimeError, match=r"Wrong.backward returned a gradient of shape \(\)"):
        Wrong()(x).backward()


def test_gradcheck_reports_a_wrong_gradient():
    class WrongSquare(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, g):
            return g * self.x  # should be 2 x

    with pytest.raises(GradcheckError, match="input 0 .* elements differ"):
        gradcheck(lambda x: WrongSquare()(x), [np.random.default_rng(0).standard_normal(3)])


def test_grad_is_a_tensor_that_accumulates_in_place():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    grad = x.grad
    assert isinstance(grad, Tensor) and not grad.requires_grad and grad.is_leaf
    (x * x).sum().backward()
    assert x.grad is grad
    np.testing.assert_array_equal(grad.numpy(), [5.0, 7.0])
    grad.zero_()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_a_gradient_is_never_an_array_another_leaf_or_the_caller_holds():
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    seed = np.ones(2)
    (a + b).backward(seed)                  # Add passes one array to both inputs
    a.grad.mul_(5)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])


def test_assigning_grad_takes_a_tensor_of_the_same_shape_dtype_and_device():
    w = Tensor(np.ones(3), requires_grad=True)
    w.grad = Tensor(np.full(3, 2.0))
    w.grad = None
    with pytest.raises(TypeError, match="got grad of type numpy.ndarray .*Tensor\\(array\\)"):
        w.grad = np.ones(3)
    with pytest.raises(RuntimeError, match="gradient of shape \\(2,\\) to a tensor of shape"):
        w.grad = Tensor(np.ones(2))
    with pytest.raises(RuntimeError, match="gradient of dtype float32 to a tensor of dtype "
                                           "float64"):
        w.grad = Tensor(np.ones(3, np.float32))


def test_numpy_asarray_follows_numpy_and_refuses_a_tensor_that_requires_grad():
    np.testing.assert_array_equal(np.asarray(Tensor(np.arange(3.0))), [0.0, 1.0, 2.0])
    assert isinstance(np.ones(2) + Tensor(np.ones(2)), Tensor)
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(Tensor(np.ones(2), requires_grad=True))
    assert Tensor(np.ones(2), requires_grad=True).sum().item() == 2.0   # item() is fine


def test_grad_fn_is_the_creator_and_requires_grad_is_fixed_on_a_tensor_in_the_graph():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x * 2
    assert y.grad_fn is y.creator and type(y.grad_fn).__name__ == "Mul" and x.grad_fn is None
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf"):
        y.requires_grad = False


def test_assigning_data_counts_up_the_version_and_takes_a_tensor():
    x = Tensor(np.ones(2))
    x.data = Tensor(np.zeros(2))
    assert isinstance(x.data, np.ndarray) and x._version == 1


def test_a_missing_pytorch_name_says_what_minigan_offers():
    t = Tensor(np.ones(2))
    with pytest.raises(AttributeError, match="minigan does not have PyTorch's expand; use "
                                             "t.broadcast_to"):
        t.expand(3, 2)
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'sahpe': "
                                             "minigan does not have it; did you mean 'shape'"):
        _ = t.sahpe
    with pytest.raises(AttributeError, match="minigan does not have it .*dir\\(\\)"):
        _ = t.no_such_thing
    assert not hasattr(t, "__no_such_dunder__") and getattr(t, "cumsum", None) is None
