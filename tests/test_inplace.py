"""In-place ops (``minigan.functional.inplace``): ``+=``, ``-=``, ``*=``, ``/=``, ``add_``,
``sub_``, ``mul_``, ``div_``, ``clamp_``, ``relu_``, ``copy_``, ``fill_``, ``zero_`` and
``t[index] = value``.

Recorded in the graph, each is checked against NumPy and by the float64 gradient check on every
device; without a graph, each writes into the tensor's memory (its views see it) and counts up
its version, so a stale backward raises. A leaf that requires grad, or a view of one, refuses.
"""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck, nn, no_grad

from op_cases import positive, randn

IN_PLACE = {   # name: (the op on a tensor in the graph, what NumPy says, input makers)
    "+=": (lambda y, o: y.__iadd__(o), lambda y, o: y + o, (randn, randn)),
    "-=": (lambda y, o: y.__isub__(o), lambda y, o: y - o, (randn, randn)),
    "*=": (lambda y, o: y.__imul__(o), lambda y, o: y * o, (randn, randn)),
    "/=": (lambda y, o: y.__itruediv__(o), lambda y, o: y / o, (randn, positive)),
    "add_(alpha=2)": (lambda y, o: y.add_(o, alpha=2), lambda y, o: y + 2 * o, (randn, randn)),
    "sub_(alpha=0.5)": (lambda y, o: y.sub_(o, alpha=0.5), lambda y, o: y - 0.5 * o,
                        (randn, randn)),
    "mul_": (lambda y, o: y.mul_(o), lambda y, o: y * o, (randn, randn)),
    "div_": (lambda y, o: y.div_(o), lambda y, o: y / o, (randn, positive)),
    "copy_": (lambda y, o: y.copy_(o), lambda y, o: y * 0 + o, (randn, randn)),
    "t[1:, ::2] = o[:2, :2]": (lambda y, o: _assign(y, o), lambda y, o: _assign(y.copy(), o),
                               (randn, randn)),
}


def _assign(y, o):
    y[1:, ::2] = o[:2, :2]
    return y


def _in_graph(op):
    """``op`` on y = x * 1 (a tensor in the graph, not a leaf); returns y."""
    def run(x, other):
        y = x * 1
        result = op(y, other)
        assert result is y
        return y
    return run


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_op_in_the_graph_is_its_formula(name, device):
    op, formula, (make_x, make_other) = IN_PLACE[name]
    x, other = make_x(3, 4), make_other(3, 4)
    y = _in_graph(op)(Tensor(x, device=device), Tensor(other, device=device))
    np.testing.assert_allclose(y.numpy(), formula(x, other), rtol=1e-12)


@pytest.mark.parametrize("name", IN_PLACE)
def test_in_place_op_in_the_graph_gradcheck(name, device):
    op, _, (make_x, make_other) = IN_PLACE[name]
    gradcheck(_in_graph(op), [make_x(3, 4), make_other(3, 4)], device=device)


@pytest.mark.parametrize("name", IN_PLACE)
def test_without_a_graph_the_op_writes_into_the_tensor_s_memory(name, device):
    op, formula, (make_x, make_other) = IN_PLACE[name]
    x, other = make_x(3, 4), make_other(3, 4)
    t = Tensor(x, device=device)
    memory, version = t.data, t._version
    assert op(t, Tensor(other, device=device)) is t
    assert t.data is memory and t._version == version + 1
    np.testing.assert_allclose(t.numpy(), formula(x, other), rtol=1e-12)


def test_broadcast_scalar_and_tensor_operands():
    y = Tensor(np.ones((2, 3)))
    y += Tensor(np.arange(3.0))
    y *= 2
    y -= np.ones(3)
    y /= 4
    np.testing.assert_allclose(y.numpy(), (np.ones((2, 3)) + np.arange(3.0)) * 2 / 4 - 0.25)


def test_fill_zero_clamp_relu_and_copy_across_dtypes(device):
    t = Tensor(randn(3, 4), device=device)
    assert t.fill_(2.5) is t and (t.numpy() == 2.5).all()
    assert not t.zero_().numpy().any()
    t.copy_(Tensor(np.arange(4, dtype=np.float32), device=device))   # cast and broadcast
    np.testing.assert_array_equal(t.numpy(), np.tile(np.arange(4.0), (3, 1)))
    t.clamp_(min=1, max=2)
    np.testing.assert_array_equal(t.numpy()[0], [1, 1, 2, 2])
    u = Tensor(np.array([-1.0, 2.0]), device=device).relu_()
    np.testing.assert_array_equal(u.numpy(), [0, 2])
    i = Tensor(np.arange(3), device=device)
    i.fill_(Tensor(np.array([7.9])))                                # truncated, as in PyTorch
    np.testing.assert_array_equal(i.numpy(), [7, 7, 7])


def test_gradcheck_of_fill_clamp_relu_and_assignment_by_mask():
    def ops(x, v):
        y = x * 1
        y[y > 0.5] = 0.0
        y[0] = v[1]
        z = (x * 2).clamp_(min=-0.5, max=0.5) + (x * 3).relu_() + (x * 1).fill_(v[0, 0])
        return y * z
    gradcheck(ops, [randn(3, 4) / 3 + 0.05, randn(3, 4)])


def test_a_leaf_that_requires_grad_or_a_view_of_one_refuses():
    w = Tensor(np.ones(3), requires_grad=True)
    for change in (lambda: w.__iadd__(1), lambda: w.mul_(2), lambda: w.zero_(),
                   lambda: w.__setitem__(0, 5.0), lambda: w.copy_(np.zeros(3))):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being "
                                               "used in an in-place operation"):
            change()
    with pytest.raises(RuntimeError, match="a view of a leaf Variable"):
        w[1:].add_(1)
    np.testing.assert_array_equal(w.detach().numpy(), np.ones(3))   # nothing changed


def test_under_no_grad_a_leaf_is_updated_in_place_and_stale_uses_refuse_backward():
    w = Tensor(np.ones(3), requires_grad=True)
    loss = (w * w).sum()
    with no_grad():
        w -= 0.5
    assert w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w.detach().numpy(), [0.5] * 3)
    with pytest.raises(RuntimeError, match=r"input 0 of Mul .* was changed after Mul used it "
                                           r"\(its data is at version 1, Mul saw version 0: an "
                                           r"in-place op"):
        loss.backward()


def test_an_output_changed_in_place_refuses_backward():
    w = Tensor(np.ones(3), requires_grad=True)
    y = w.exp()
    with no_grad():
        y.zero_()
    with pytest.raises(RuntimeError, match="the output of Exp .* was changed in place"):
        y.sum().backward()


def test_an_op_that_used_a_tensor_before_it_changed_in_place_refuses_backward():
    w = Tensor(np.ones(3), requires_grad=True)
    y = w * 2
    z = y * y            # uses y before the change
    y += 1
    with pytest.raises(RuntimeError, match="input 0 of Mul .* was changed"):
        (z + y).sum().backward()


def test_in_place_in_the_graph_keeps_the_old_values_for_the_ops_that_saved_them():
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = w.exp()          # Exp keeps its output for backward
    y *= 3               # y gets new memory: Exp's output stays as it was
    y.sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 3 * np.exp([1.0, 2.0]))


def test_views_share_memory_and_version_without_a_graph():
    t = Tensor(np.zeros((2, 3)))
    row, flat, alias = t[1], t.view(6), t.detach()
    with no_grad():
        row.fill_(1.0)
        flat[0] = 5.0
        alias[0, 2] += 2.0
    np.testing.assert_array_equal(t.numpy(), [[5, 0, 2], [1, 1, 1]])
    assert t._version == row._version == flat._version == alias._version >= 3


def test_a_view_of_a_tensor_changed_in_the_graph_becomes_stale():
    w = Tensor(np.ones(3), requires_grad=True)
    y = w * 2
    head = y[:2]
    y += w               # recorded: y gets new memory, head still shows the old one
    with pytest.raises(RuntimeError, match="shared memory with another .* changed since"):
        head.sum()
    with pytest.raises(RuntimeError, match="shared memory"):
        head.numpy()
    y.sum().backward()   # y itself is fine
    np.testing.assert_array_equal(w.grad.numpy(), [3, 3, 3])


def test_in_place_on_a_view_in_the_graph_leaves_its_base_stale():
    x = Tensor(np.ones(3), requires_grad=True) * 1
    x[:2].mul_(2)
    with pytest.raises(RuntimeError, match="shared memory"):
        x.sum()


def test_results_of_the_wrong_shape_or_kind_are_refused():
    with pytest.raises(RuntimeError, match=r"output with shape \(3,\) doesn't match the "
                                           r"broadcast shape \(2, 3\)"):
        Tensor(np.ones(3)).add_(Tensor(np.ones((2, 3))))
    with pytest.raises(RuntimeError, match="result type float64 can't be cast to the desired "
                                           "output type int64"):
        Tensor(np.arange(3)).mul_(1.5)
    with pytest.raises(ValueError, match="copy_: src of shape"):
        Tensor(np.ones(3)).copy_(Tensor(np.ones(4)))
    with pytest.raises(RuntimeError, match="fill_ only supports a one-element value"):
        Tensor(np.ones(3)).fill_(Tensor(np.ones(2)))


def test_the_constructor_copies_so_in_place_ops_never_change_the_caller_s_array():
    values = np.zeros(3)
    t = Tensor(values)
    t += 1
    assert not values.any()


def test_in_place_activations_and_dropout_of_the_layers():
    x = Tensor(randn(4, 5), requires_grad=True)
    h = x * 1
    assert nn.ReLU(inplace=True)(h) is h and nn.LeakyReLU(0.1, inplace=True)(h) is h
    d = x * 1
    assert nn.Dropout(0.5, inplace=True, rng=np.random.default_rng(0))(d) is d
    (h + d).sum().backward()
    expected = np.where(x.detach().numpy() > 0, 1.0, 0.0)
    mask = d.detach().numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), expected + 2.0 * mask)
    assert "inplace=True" in repr(nn.ReLU(inplace=True))


def test_functional_relu_and_leaky_relu_in_place():
    t = Tensor(np.array([-2.0, 3.0]))
    assert F.relu(t, inplace=True) is t and F.leaky_relu(t, 0.5, inplace=True) is t
    np.testing.assert_array_equal(t.numpy(), [0.0, 3.0])
