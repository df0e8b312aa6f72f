"""minigan as a PyTorch user writes it.

Every habit below is written once, as one writes it in PyTorch, against a library ``lib``
(``lib.tensor``, ``lib.F``, ``lib.nn``, ``lib.optim``, ``lib.no_grad``), and run on minigan.
Its result is checked against NumPy always and, where PyTorch imports, against PyTorch: the
same value, dtype and gradient. Where minigan deliberately does not do what PyTorch does (its
kernels are square; a plain list of layers), the test asserts the clear error it raises.
"""
import types

import numpy as np
import pytest

import minigan
from minigan import Tensor

MINIGAN = types.SimpleNamespace(name="minigan", tensor=Tensor, F=minigan.functional,
                                nn=minigan.nn, optim=minigan.optim, no_grad=minigan.no_grad,
                                cat=minigan.functional.cat, stack=minigan.functional.stack)

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 4))       # the tensor every habit starts from
WEIGHT = rng.standard_normal((2, 2, 2, 2))


@pytest.fixture(scope="module")
def torch_lib():
    torch = pytest.importorskip("torch")
    return types.SimpleNamespace(name="torch", tensor=torch.tensor, F=torch.nn.functional,
                                 nn=torch.nn, optim=torch.optim, no_grad=torch.no_grad,
                                 cat=torch.cat, stack=torch.stack)


# (habit, code written as in PyTorch, what NumPy says it gives)
HABITS = [
    ("transpose(0, 1) of 2-D", lambda t, lib: t[0].transpose(0, 1), lambda a: a[0].T),
    ("transpose(0, 2)", lambda t, lib: t.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
    (".T", lambda t, lib: t[1].T, lambda a: a[1].T),
    ("permute", lambda t, lib: t.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    ("view", lambda t, lib: t.view(6, 4), lambda a: a.reshape(6, 4)),
    ("view(-1, n)", lambda t, lib: t.view(-1, 2), lambda a: a.reshape(-1, 2)),
    ("reshape(tuple)", lambda t, lib: t.reshape((4, 6)), lambda a: a.reshape(4, 6)),
    ("flatten()", lambda t, lib: t.flatten(), lambda a: a.reshape(-1)),
    ("flatten(1)", lambda t, lib: t.flatten(1), lambda a: a.reshape(2, 12)),
    ("flatten(start_dim=0, end_dim=1)", lambda t, lib: t.flatten(start_dim=0, end_dim=1),
     lambda a: a.reshape(6, 4)),
    ("unsqueeze(1)", lambda t, lib: t.unsqueeze(1), lambda a: a[:, None]),
    ("unsqueeze(-1).squeeze()", lambda t, lib: t.unsqueeze(-1).squeeze(), lambda a: a),
    ("squeeze(0) of size 2 keeps it", lambda t, lib: t.squeeze(0), lambda a: a),
    ("clone", lambda t, lib: t.clone() * 2, lambda a: a * 2),
    ("indexing", lambda t, lib: t[:, 1:, ::2], lambda a: a[:, 1:, ::2]),
    ("boolean mask t[t > 0]", lambda t, lib: t[t > 0], lambda a: a[a > 0]),
    ("sum()", lambda t, lib: t.sum(), lambda a: a.sum()),
    ("sum(dim=1)", lambda t, lib: t.sum(dim=1), lambda a: a.sum(axis=1)),
    ("sum(1, keepdim=True)", lambda t, lib: t.sum(1, keepdim=True),
     lambda a: a.sum(axis=1, keepdims=True)),
    ("sum(dim=(0, 2))", lambda t, lib: t.sum(dim=(0, 2)), lambda a: a.sum(axis=(0, 2))),
    ("sum(axis=1) alias", lambda t, lib: t.sum(axis=1), lambda a: a.sum(axis=1)),
    ("mean(dim=-1, keepdim=True)", lambda t, lib: t.mean(dim=-1, keepdim=True),
     lambda a: a.mean(axis=-1, keepdims=True)),
    ("max()", lambda t, lib: t.max(), lambda a: a.max()),
    ("min()", lambda t, lib: t.min(), lambda a: a.min()),
    ("max(dim=1) values", lambda t, lib: t.max(dim=1).values, lambda a: a.max(axis=1)),
    ("max(dim=1) indices", lambda t, lib: t.max(dim=1).indices, lambda a: a.argmax(axis=1)),
    ("values, indices = max(1)", lambda t, lib: t.max(1)[0] + t.max(1)[1],
     lambda a: a.max(axis=1) + a.argmax(axis=1)),
    ("min(dim=0, keepdim=True)", lambda t, lib: t.min(dim=0, keepdim=True).values,
     lambda a: a.min(axis=0, keepdims=True)),
    ("argmax()", lambda t, lib: t.argmax(), lambda a: np.argmax(a)),
    ("argmax(dim=2)", lambda t, lib: t.argmax(dim=2), lambda a: a.argmax(axis=2)),
    ("abs().sqrt()", lambda t, lib: t.abs().sqrt(), lambda a: np.sqrt(np.abs(a))),
    ("clamp(min, max)", lambda t, lib: t.clamp(min=-0.5, max=0.5), lambda a: a.clip(-0.5, 0.5)),
    ("clamp(min=0)", lambda t, lib: t.clamp(min=0), lambda a: a.clip(0)),
    ("relu", lambda t, lib: t.relu(), lambda a: np.maximum(a, 0)),
    ("exp, tanh, sigmoid", lambda t, lib: t.exp() + t.tanh() + t.sigmoid(),
     lambda a: np.exp(a) + np.tanh(a) + 1 / (1 + np.exp(-a))),
    ("F.leaky_relu(negative_slope)", lambda t, lib: lib.F.leaky_relu(t, negative_slope=0.2),
     lambda a: np.where(a > 0, a, 0.2 * a)),
    ("nn.LeakyReLU(negative_slope)", lambda t, lib: lib.nn.LeakyReLU(negative_slope=0.2)(t),
     lambda a: np.where(a > 0, a, 0.2 * a)),
    ("F.softmax(dim=1)", lambda t, lib: lib.F.softmax(t, dim=1),
     lambda a: np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)),
    ("F.log_softmax(dim=-1)", lambda t, lib: lib.F.log_softmax(t, dim=-1),
     lambda a: a - np.log(np.exp(a).sum(axis=-1, keepdims=True))),
    ("cat(dim=1)", lambda t, lib: lib.cat([t, t * 2], dim=1),
     lambda a: np.concatenate([a, a * 2], axis=1)),
    ("stack(dim=0)", lambda t, lib: lib.stack([t, t + 1], dim=0), lambda a: np.stack([a, a + 1])),
    ("t > 0", lambda t, lib: t > 0, lambda a: a > 0),
    ("t == t.max()", lambda t, lib: t == t.max(), lambda a: a == a.max()),
    ("t != t[0]", lambda t, lib: t != t[0], lambda a: a != a[0]),
    ("(t <= 0).float().mean()", lambda t, lib: (t <= 0).float().mean(),
     lambda a: (a <= 0).astype(np.float32).mean(dtype=np.float32)),
    ("0 < t", lambda t, lib: 0 < t, lambda a: 0 < a),
    ("t.double(), t.float()", lambda t, lib: t.float().double(),
     lambda a: a.astype(np.float32).astype(np.float64)),
    ("F.max_pool2d(x, kernel_size)", lambda t, lib: lib.F.max_pool2d(t.view(1, 2, 3, 4), 2),
     lambda a: a[None, :, :2].reshape(1, 2, 1, 2, 2, 2).max(axis=(3, 5))),
    ("nn.MaxPool2d(kernel_size=3, stride=1, padding=1)",
     lambda t, lib: lib.nn.MaxPool2d(kernel_size=3, stride=1, padding=1)(t.view(1, 2, 3, 4)),
     lambda a: np.array([[[[np.pad(c, 1, constant_values=-np.inf)[i:i + 3, j:j + 3].max()
                            for j in range(4)] for i in range(3)] for c in a]])),
    ("F.conv2d(x, w, stride=(1, 1), padding=(1, 1))",
     lambda t, lib: lib.F.conv2d(t.view(1, 2, 3, 4), lib.tensor(WEIGHT), stride=(1, 1),
                                 padding=(1, 1))[..., :2, :2],
     lambda a: np.array([[[[(np.pad(a, ((0, 0), (1, 1), (1, 1)))[:, i:i + 2, j:j + 2]
                             * WEIGHT[f]).sum() for j in range(2)] for i in range(2)]
                          for f in range(2)]])),
    ("tolist()", lambda t, lib: t[0, :2].tolist(), lambda a: a[0, :2].tolist()),
    ("float(one element)", lambda t, lib: float(t.detach()[1, 2, 3]), lambda a: float(a[1, 2, 3])),
    ("int(one element)", lambda t, lib: int(t.detach()[1, 2, 3] * 10), lambda a: int(a[1, 2, 3] * 10)),
    ("item()", lambda t, lib: t.sum().item(), lambda a: a.sum().item()),
    ("bool(one element)", lambda t, lib: bool(t[0, 0, 0] > 0), lambda a: bool(a[0, 0, 0] > 0)),
    ("size(), size(1), dim(), numel()", lambda t, lib: (tuple(t.size()), t.size(1), t.dim(),
                                                       t.numel()),
     lambda a: (a.shape, a.shape[1], a.ndim, a.size)),
    ("shape, len", lambda t, lib: (tuple(t.shape), len(t)), lambda a: (a.shape, len(a))),
    ("cpu(), to('cpu')", lambda t, lib: t.cpu().to("cpu") * 1, lambda a: a),
]


def plain(value):
    """A minigan or torch result as NumPy / Python values, tuples kept."""
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "detach"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    return value


def assert_same(result, expected):
    if isinstance(expected, (tuple, list)):
        assert isinstance(result, type(expected)) and len(result) == len(expected)
        for r, e in zip(result, expected):
            assert_same(r, e)
    elif isinstance(expected, np.ndarray):
        assert isinstance(result, np.ndarray) and result.dtype == expected.dtype, \
            (getattr(result, "dtype", type(result)), expected.dtype)
        np.testing.assert_allclose(result, expected, rtol=1e-6, atol=1e-12)
    else:
        assert type(result) is type(expected) and result == pytest.approx(expected), \
            (result, expected)


def run(habit, lib):
    """Run one habit on ``lib``; returns (result, d<w, result>/dX or None)."""
    x = lib.tensor(X.copy(), requires_grad=True)
    out = habit(x, lib)
    grad = None
    if getattr(out, "requires_grad", False):
        weights = np.random.default_rng(1).standard_normal(tuple(out.shape))
        (out * lib.tensor(weights)).sum().backward()
        grad = plain(x.grad) if lib.name == "torch" else x.grad
    return plain(out), grad


HABIT_IDS = [name for name, _, _ in HABITS]


@pytest.mark.parametrize("name,habit,numpy_says", HABITS, ids=HABIT_IDS)
def test_habit_gives_what_numpy_computes(name, habit, numpy_says):
    result, _ = run(habit, MINIGAN)
    expected = numpy_says(X.copy())
    if isinstance(expected, (np.ndarray, np.generic)):
        expected = np.asarray(expected)
    if isinstance(result, np.ndarray) and expected.dtype != result.dtype:
        expected = expected.astype(result.dtype)  # NumPy's own dtypes are checked vs PyTorch
    assert_same(result, expected)


@pytest.mark.parametrize("name,habit,numpy_says", HABITS, ids=HABIT_IDS)
def test_habit_gives_what_pytorch_computes(name, habit, numpy_says, torch_lib):
    result, grad = run(habit, MINIGAN)
    torch_result, torch_grad = run(habit, torch_lib)
    assert_same(result, torch_result)
    assert (grad is None) == (torch_grad is None)
    if grad is not None:
        np.testing.assert_allclose(grad, torch_grad, rtol=1e-6, atol=1e-12)


# -- what raises in both, and what only minigan refuses ------------------------------------

ERRORS_AS_IN_PYTORCH = [
    ("bool() of several elements", lambda lib: bool(lib.tensor(X) > 0), RuntimeError,
     "ambiguous"),
    ("bool() of no element", lambda lib: bool(lib.tensor(X[:0]) > 0), RuntimeError, "ambiguous"),
    ("float() of several elements", lambda lib: float(lib.tensor(X)), ValueError,
     "only one.element tensors"),
    ("integer tensor requiring grad",
     lambda lib: lib.tensor(np.arange(3), requires_grad=True), RuntimeError,
     "floating.point"),
    ("requires_grad_() on integers", lambda lib: lib.tensor(np.arange(3)).requires_grad_(),
     RuntimeError, "floating.point"),
    ("max over a tuple of dims", lambda lib: lib.tensor(X).max(dim=(0, 1)), TypeError,
     "one int dim"),
    ("transpose with one dim", lambda lib: lib.tensor(X).transpose(0), TypeError, "dim1"),
    ("strict load_state_dict with a missing key",
     lambda lib: lib.nn.Linear(2, 3).load_state_dict({"weight": lib.tensor(np.zeros((3, 2)))}),
     RuntimeError, r"Missing key\(s\) in state_dict: .bias."),
    ("load_state_dict with a wrong shape",
     lambda lib: lib.nn.Linear(2, 3).load_state_dict(
         {"weight": lib.tensor(np.zeros((2, 2))), "bias": lib.tensor(np.zeros(3))}),
     RuntimeError, "size mismatch for weight"),
]


@pytest.mark.parametrize("name,code,error,message", ERRORS_AS_IN_PYTORCH,
                         ids=[e[0] for e in ERRORS_AS_IN_PYTORCH])
def test_minigan_raises_where_pytorch_raises(name, code, error, message):
    with pytest.raises(error, match=message):
        code(MINIGAN)


@pytest.mark.parametrize("name,code,error,message", ERRORS_AS_IN_PYTORCH,
                         ids=[e[0] for e in ERRORS_AS_IN_PYTORCH])
def test_pytorch_raises_there_too(name, code, error, message, torch_lib):
    with pytest.raises(error):
        code(torch_lib)


@pytest.mark.parametrize("code,message", [
    (lambda: minigan.nn.Conv2d(1, 2, kernel_size=(3, 5)), "square kernels"),
    (lambda: minigan.nn.Conv2d(1, 2, 3, stride=(1, 2)), "one stride for both axes"),
    (lambda: minigan.nn.Conv2d(1, 2, 3, padding=(0, 1)), "one padding for both axes"),
    (lambda: minigan.F.max_pool2d(Tensor(np.ones((1, 1, 4, 4))), kernel_size=(2, 3)),
     "square kernels"),
    (lambda: minigan.F.conv2d(Tensor(np.ones((1, 1, 4, 4))), Tensor(np.ones((1, 1, 3, 3))),
                              padding="same"), "padding must be an int or a pair of ints"),
], ids=["conv kernel 3x5", "conv stride (1, 2)", "conv padding (0, 1)", "pool kernel 2x3",
        "padding='same'"])
def test_rectangular_windows_are_refused_with_a_clear_error(code, message):
    """PyTorch takes (kH, kW) pairs of two values; minigan's kernels are square (same pair: ok)."""
    with pytest.raises((ValueError, TypeError), match=message):
        code()


def test_a_pair_of_equal_values_is_accepted_everywhere():
    conv = minigan.nn.Conv2d(1, 2, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    assert conv.kernel_size == (3, 3) and conv.stride == (2, 2) and conv.padding == (1, 1)
    assert conv(Tensor(np.ones((1, 1, 5, 5), np.float32))).shape == (1, 2, 3, 3)


def test_a_plain_list_of_layers_is_refused_where_pytorch_would_drop_it():
    """PyTorch silently leaves such layers out of parameters() and state_dict() (their weights
    never train); minigan raises and names nn.ModuleList."""
    class Net(minigan.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [minigan.nn.Linear(2, 2), minigan.nn.Linear(2, 2)]

    with pytest.raises(TypeError, match="ModuleList"):
        Net()


def test_plain_lists_of_other_things_are_fine():
    class Net(minigan.nn.Module):
        def __init__(self):
            super().__init__()
            self.sizes = [1, 2, 3]
            self.layers = minigan.nn.ModuleList([minigan.nn.Linear(2, 2)])

    assert Net().sizes == [1, 2, 3] and len(Net().parameters()) == 2


def test_changing_data_that_backward_needs_is_a_clear_error():
    w = Tensor(np.ones(3), requires_grad=True)
    loss = (w * Tensor(np.arange(3.0))).sum()
    w.data = w.data * 2                          # e.g. an optimizer step before backward()
    with pytest.raises(RuntimeError, match="input 0 of Mul .* was changed after Mul used it"):
        loss.backward()


def test_tensors_hash_by_identity_so_sets_and_dicts_work():
    a, b = Tensor(np.ones(2)), Tensor(np.ones(2))
    assert len({a, b}) == 2 and {a: 1}[a] == 1 and a in [a] and (a == None) is False  # noqa: E711


def test_cuda_without_a_gpu_is_a_clear_error():
    if minigan.backend.cuda_available():
        pytest.skip("a GPU is usable here")
    with pytest.raises(RuntimeError, match="cuda"):
        Tensor(X).cuda()


# -- a training script, written once, run on both -------------------------------------------

def make_net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.nn.ModuleList([
                lib.nn.Conv2d(1, 4, kernel_size=3, padding=1), lib.nn.BatchNorm2d(4),
                lib.nn.LeakyReLU(negative_slope=0.2), lib.nn.MaxPool2d(kernel_size=2)])
            self.head = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Linear(4 * 3 * 4, 3))

        def forward(self, x):
            for layer in self.features:
                x = layer(x)
            return self.head(x)
    return Net()


def train(lib, net, steps=3):
    """A few SGD steps as in any PyTorch tutorial; returns the losses and eval predictions."""
    data = np.random.default_rng(2)
    images = data.standard_normal((8, 1, 6, 8)).astype(np.float32)
    labels = data.integers(0, 3, 8)
    opt = lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net.train()
    losses = []
    for _ in range(steps):
        loss = lib.F.cross_entropy(net(lib.tensor(images)), lib.tensor(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    net.eval()
    with lib.no_grad():
        logits = net(lib.tensor(images))
        predicted = logits.argmax(dim=1)
        accuracy = (predicted == lib.tensor(labels)).float().mean().item()
    return losses, plain(logits), accuracy


def test_training_script_runs_and_saves_its_batch_norm_statistics():
    minigan.manual_seed(0)
    net = make_net(MINIGAN)
    losses, _, accuracy = train(MINIGAN, net)
    assert losses[-1] < losses[0] and 0.0 <= accuracy <= 1.0
    assert list(net.state_dict()) == [
        "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias",
        "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
        "head.1.weight", "head.1.bias"]
    assert int(net.state_dict()["features.1.num_batches_tracked"]) == 3


def test_training_script_matches_pytorch_step_for_step(torch_lib):
    torch_net = make_net(torch_lib)
    net = make_net(MINIGAN)
    net.load_state_dict(torch_net.state_dict())          # same names, same shapes
    losses, logits, accuracy = train(MINIGAN, net)
    torch_losses, torch_logits, torch_accuracy = train(torch_lib, torch_net)
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-5)
    np.testing.assert_allclose(logits, torch_logits, rtol=1e-4, atol=1e-5)
    assert accuracy == pytest.approx(torch_accuracy)
    theirs = torch_net.state_dict()
    for name, value in net.state_dict().items():
        np.testing.assert_allclose(value, theirs[name].numpy(), rtol=1e-4, atol=1e-6,
                                   err_msg=name)


def test_load_state_dict_strict_false_reports_keys_as_pytorch(torch_lib):
    def load(lib):
        model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))
        state = {"0.weight": lib.tensor(np.ones((3, 2), np.float32)),
                 "extra": lib.tensor(np.zeros(1, np.float32))}
        keys = model.load_state_dict(state, strict=False)
        return sorted(keys.missing_keys), sorted(keys.unexpected_keys), plain(model[0].weight)
    assert_same(load(MINIGAN), load(torch_lib))
