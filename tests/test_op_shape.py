"""Shape ops: reshape/view, flatten, squeeze, unsqueeze, permute, transpose, broadcast_to, cat,
stack, indexing (basic and advanced), clone.

Forward against NumPy and the float64 gradient check on every device (the gradient of a shape
op moves gy back to where each element came from; indexing adds up repeated elements).
"""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck

from op_cases import randn

JOINS = {   # name: (op, the same on NumPy arrays, input shapes)
    "cat(dim=1)": (lambda a, b: F.cat([a, b], dim=1),
                   lambda a, b: np.concatenate([a, b], axis=1), [(2, 3), (2, 5)]),
    "stack(dim=0)": (lambda a, b: F.stack([a, b], dim=0),
                     lambda a, b: np.stack([a, b], axis=0), [(2, 3), (2, 3)]),
    "stack(dim=-1)": (lambda a, b: F.stack([a, b], dim=-1),
                      lambda a, b: np.stack([a, b], axis=-1), [(2, 3), (2, 3)]),
}

RESHAPES = {   # name: (op, the same on NumPy arrays, input shape)
    "reshape(6, -1) * 2": (lambda x: F.reshape(x, (6, -1)) * 2, lambda x: x.reshape(6, -1) * 2,
                           (2, 3, 4)),
    "permute(2, 0, 1)": (lambda x: F.permute(x, (2, 0, 1)), lambda x: x.transpose(2, 0, 1),
                         (2, 3, 4)),
    "transpose(0, 1)": (lambda x: F.transpose(x, 0, 1), lambda x: x.T, (2, 3)),
    "broadcast_to(4, 2, 3)": (lambda x: F.broadcast_to(x, (4, 2, 3)),
                              lambda x: np.broadcast_to(x, (4, 2, 3)), (2, 1)),
}

INDICES = {
    "[1:3]": (slice(1, 3),), "[..., 0]": (Ellipsis, 0), "[[0, 2, 2]]": (np.array([0, 2, 2]),),
    "[:, ::2]": (slice(None), slice(None, None, 2)), "[1:, ::2]": (slice(1, None),
                                                                  slice(None, None, 2)),
}


@pytest.mark.parametrize("name", list(RESHAPES) + list(JOINS))
def test_shape_op_forward_is_numpys(name, device):
    op, numpy_op, shapes = {**RESHAPES, **JOINS}[name]
    arrays = [randn(*shape) for shape in (shapes if name in JOINS else [shapes])]
    y = op(*[Tensor(a, device=device) for a in arrays])
    np.testing.assert_array_equal(y.numpy(), numpy_op(*arrays))


@pytest.mark.task1_4
@pytest.mark.parametrize("name", list(RESHAPES) + list(JOINS))
def test_shape_op_gradcheck(name, device):
    op, _, shapes = {**RESHAPES, **JOINS}[name]
    gradcheck(op, [randn(*shape) for shape in (shapes if name in JOINS else [shapes])],
              device=device)


@pytest.mark.parametrize("name", INDICES)
def test_indexing_forward_is_numpys(name, device):
    x = randn(4, 5)
    np.testing.assert_array_equal(Tensor(x, device=device)[INDICES[name]].numpy(),
                                  x[INDICES[name]])


@pytest.mark.task1_4
@pytest.mark.parametrize("name", INDICES)
def test_indexing_gradcheck(name, device):
    gradcheck(lambda x: x[INDICES[name]], [randn(4, 5)], device=device)


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


@pytest.mark.task1_4
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
