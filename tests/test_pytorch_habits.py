"""minigan as a PyTorch user writes it.

Every habit below is written once, as one writes it in PyTorch, against a library ``lib``
(``lib.tensor``, ``lib.F``, ``lib.nn``, ``lib.optim``, ``lib.no_grad``), and run on minigan.
Its result is checked against NumPy and against PyTorch: the same value, dtype and gradient.
PyTorch's side is live where torch imports and otherwise comes from the golden file that
``tests/golden/make_torch_golden.py`` recorded (``tests/torch_golden.py``), so CI, which has no
torch, compares every habit too. Where minigan deliberately does not do what PyTorch does (its
kernels are square; a plain list of layers), the test asserts the clear error it raises.
"""
import math
import types

import numpy as np
import pytest

import minigan
from minigan import Tensor
from torch_golden import GOLDEN, load_golden, torch_side

MINIGAN = types.SimpleNamespace(name="minigan", tensor=Tensor, F=minigan.functional,
                                nn=minigan.nn, optim=minigan.optim, no_grad=minigan.no_grad,
                                cat=minigan.functional.cat, stack=minigan.functional.stack,
                                manual_seed=minigan.manual_seed)


def torch_lib(torch):
    return types.SimpleNamespace(name="torch", tensor=torch.tensor, F=torch.nn.functional,
                                 nn=torch.nn, optim=torch.optim, no_grad=torch.no_grad,
                                 cat=torch.cat, stack=torch.stack, manual_seed=torch.manual_seed)


rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 4))       # the tensor every habit starts from
WEIGHT = rng.standard_normal((2, 2, 2, 2))
KERNEL = rng.standard_normal((2, 2, 3, 3))
TARGET = rng.uniform(0, 1, (2, 3, 4))    # probabilities, for the binary cross-entropy
LABELS = np.array([0, 3, 1, 2, 2, 0])    # classes of X.view(6, 4)


def in_place_arithmetic(t, lib):
    y = t * 1          # a tensor in the graph, not a leaf: += and friends join the graph
    y += 2
    y *= t
    y -= 1
    y /= 4
    return y


def in_place_methods(t, lib):
    y = t.clone()
    y.add_(t, alpha=2).sub_(t * t, alpha=0.5).mul_(3).div_(t.abs() + 1)
    return y + t.clone().clamp_(min=-0.5, max=0.5) + t.clone().relu_()


def assignment_by_index(t, lib):
    y = t.clone()
    y[0] = t[1] * 2
    y[:, 0] = 5.0
    y[y < -1] = 0.0
    return y * t


def copy_and_fill(t, lib):
    z = (t * 0).copy_(t[0] * 3)      # broadcast from (3, 4) into (2, 3, 4)
    return z + (t * 2).fill_(0.5) + (t * 2).fill_(lib.tensor(1.5)) + t.clone().zero_()


def under_no_grad(t, lib):
    """No graph: the changes land in the tensor's memory, seen through its views."""
    y = t.detach().clone()
    row, alias = y[1], y.detach()
    with lib.no_grad():
        y -= 0.5
        y.mul_(2)
        y[0, 0] = 7.0
        row.fill_(3.0)               # a view: y changes too
        alias[0, 1] += 1.0           # detach() shares memory: y changes too
    return y


def residual_block(t, lib):
    """torchvision's ResNet: out = conv(x); out += identity; relu(out) in place."""
    x = t.view(1, 2, 3, 4)
    conv = lib.nn.Conv2d(2, 2, kernel_size=3, padding=1, bias=False).double()
    with lib.no_grad():
        conv.weight.copy_(lib.tensor(KERNEL))
    out = conv(x)
    out += x
    return lib.nn.ReLU(inplace=True)(out) + lib.nn.LeakyReLU(0.1, inplace=True)(x * 1)


def padded_convolutions(t, lib):
    out = 0
    for mode in ("zeros", "reflect", "replicate"):
        conv = lib.nn.Conv2d(2, 2, kernel_size=3, padding=1, padding_mode=mode).double()
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(KERNEL))
            conv.bias.fill_(0.25)
        out = out + conv(t.view(1, 2, 3, 4))
    return out


def dropout_in_eval(t, lib):
    layer = lib.nn.Dropout(p=0.3)
    layer.eval()
    return layer(t) + lib.F.dropout(t, p=0.9, training=False)


def bce_with_logits(t, lib):
    target = lib.tensor(TARGET)
    return (lib.F.binary_cross_entropy_with_logits(t, target)
            + lib.F.binary_cross_entropy_with_logits(t, target, reduction="sum")
            + lib.F.binary_cross_entropy_with_logits(t, target, weight=lib.tensor(TARGET[0]),
                                                     pos_weight=lib.tensor(X[0, 0] + 2)).sum()
            + lib.nn.BCEWithLogitsLoss(reduction="none")(t, target).mean())


def loss_modules(t, lib):
    target = lib.tensor(TARGET)
    return (lib.nn.MSELoss()(t, target) + lib.nn.L1Loss(reduction="sum")(t, target)
            + lib.nn.CrossEntropyLoss()(t.view(6, 4), lib.tensor(LABELS))
            + lib.nn.CrossEntropyLoss(reduction="sum")(t.view(6, 4), lib.tensor(LABELS)))


# (habit, code written as in PyTorch, what NumPy says it gives; None where NumPy has no word)
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
    ("contiguous() of a transpose", lambda t, lib: t.transpose(0, 2).contiguous() * 2,
     lambda a: a.swapaxes(0, 2) * 2),
    ("is_contiguous()", lambda t, lib: (t.is_contiguous(), t.transpose(0, 1).is_contiguous()),
     lambda a: (True, False)),
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
    ("var() is unbiased", lambda t, lib: t.var(), lambda a: a.var(ddof=1)),
    ("var(dim=1)", lambda t, lib: t.var(dim=1), lambda a: a.var(axis=1, ddof=1)),
    ("var(1, unbiased=False)", lambda t, lib: t.var(1, unbiased=False), lambda a: a.var(axis=1)),
    ("var(dim=(0, 2), correction=0, keepdim=True)",
     lambda t, lib: t.var(dim=(0, 2), correction=0, keepdim=True),
     lambda a: a.var(axis=(0, 2), keepdims=True)),
    ("var(False)", lambda t, lib: t.var(False), lambda a: a.var()),
    ("std()", lambda t, lib: t.std(), lambda a: a.std(ddof=1)),
    ("std(dim=-1, keepdim=True)", lambda t, lib: t.std(dim=-1, keepdim=True),
     lambda a: a.std(axis=-1, ddof=1, keepdims=True)),
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
    ("add(alpha), sub, mul, div, pow, neg as methods",
     lambda t, lib: t.add(t, alpha=2).sub(1).mul(t).div(3).pow(2).neg(),
     lambda a: -(((a + 2 * a - 1) * a / 3) ** 2)),
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
    ("F.linear(x, w, b)", lambda t, lib: lib.F.linear(t, t[0, :2], t[1, 0, :2]),
     lambda a: a @ a[0, :2].T + a[1, 0, :2]),
    ("F.binary_cross_entropy_with_logits, weight, pos_weight, BCEWithLogitsLoss",
     bce_with_logits, None),
    ("nn.MSELoss, nn.L1Loss(reduction='sum'), nn.CrossEntropyLoss", loss_modules, None),
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
    ("+=, *=, -=, /= on a tensor in the graph", in_place_arithmetic,
     lambda a: ((a + 2) * a - 1) / 4),
    ("add_(alpha), sub_(alpha), mul_, div_, clamp_, relu_", in_place_methods,
     lambda a: (a + 2 * a - 0.5 * a * a) * 3 / (np.abs(a) + 1) + a.clip(-0.5, 0.5)
     + np.maximum(a, 0)),
    ("t[i] = v, t[:, 0] = number, t[mask] = number", assignment_by_index, None),
    ("copy_ with broadcasting, fill_, zero_", copy_and_fill, None),
    ("-=, mul_, t[i] = v, fill_ of a view, += of a detached alias under no_grad",
     under_no_grad, None),
    ("out += identity, ReLU(inplace=True), LeakyReLU(inplace=True)", residual_block, None),
    ("nn.Dropout and F.dropout in eval mode are the identity", dropout_in_eval,
     lambda a: a * 2),
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
    ("nn.Conv2d(padding_mode='zeros' | 'reflect' | 'replicate')", padded_convolutions, None),
    *[(f"F.pad(mode={mode!r})", lambda t, lib, mode=mode: lib.F.pad(t.view(1, 2, 3, 4),
                                                                    (1, 2, 2, 1), mode=mode),
       None) for mode in ("constant", "reflect", "replicate")],
    ("tolist()", lambda t, lib: t[0, :2].tolist(), lambda a: a[0, :2].tolist()),
    ("float(one element)", lambda t, lib: float(t.detach()[1, 2, 3]), lambda a: float(a[1, 2, 3])),
    ("int(one element)", lambda t, lib: int(t.detach()[1, 2, 3] * 10),
     lambda a: int(a[1, 2, 3] * 10)),
    ("item()", lambda t, lib: t.sum().item(), lambda a: a.sum().item()),
    ("bool(one element)", lambda t, lib: bool(t[0, 0, 0] > 0), lambda a: bool(a[0, 0, 0] > 0)),
    ("size(), size(1), dim(), numel()", lambda t, lib: (tuple(t.size()), t.size(1), t.dim(),
                                                       t.numel()),
     lambda a: (a.shape, a.shape[1], a.ndim, a.size)),
    ("shape, len", lambda t, lib: (tuple(t.shape), len(t)), lambda a: (a.shape, len(a))),
    ("cpu(), to('cpu')", lambda t, lib: t.cpu().to("cpu") * 1, lambda a: a),
    ("grad_fn and is_leaf", lambda t, lib: ((t * 2).grad_fn is not None, t.grad_fn is None,
                                            t.is_leaf, (t * 2).is_leaf), lambda a: (True,) * 3
     + (False,)),
    ("detach().numpy() and .grad of a leaf", lambda t, lib: (t.detach().numpy(), t.grad),
     lambda a: (a, None)),
]


def plain(value):
    """A minigan or torch result as NumPy / Python values, tuples kept."""
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, Tensor):
        return value.detach().numpy()
    if hasattr(value, "detach"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    return value


def assert_same(result, expected, message="", rtol=1e-6):
    if isinstance(expected, (tuple, list)):
        assert isinstance(result, type(expected)) and len(result) == len(expected), message
        for r, e in zip(result, expected):
            assert_same(r, e, message, rtol)
    elif isinstance(expected, dict):
        assert isinstance(result, dict) and list(result) == list(expected), message
        for name in expected:
            assert_same(result[name], expected[name], f"{message} [{name}]", rtol)
    elif isinstance(expected, np.ndarray):
        assert isinstance(result, np.ndarray) and result.dtype == expected.dtype, \
            (message, getattr(result, "dtype", type(result)), expected.dtype)
        np.testing.assert_allclose(result, expected, rtol=rtol, atol=1e-12, err_msg=message)
    elif isinstance(expected, float):
        assert type(result) is float and result == pytest.approx(expected, rel=rtol), \
            (message, result, expected)
    else:
        assert type(result) is type(expected) and result == expected, (message, result, expected)


def run(habit, lib):
    """Run one habit on ``lib``; returns (result, d<w, result>/dX or None)."""
    x = lib.tensor(X.copy(), requires_grad=True)
    out = habit(x, lib)
    grad = None
    if getattr(out, "requires_grad", False):
        weights = np.random.default_rng(1).standard_normal(tuple(out.shape))
        (out * lib.tensor(weights)).sum().backward()
        grad = plain(x.grad)
    return plain(out), grad


CASES = {f"habit/{name}": (lambda lib, habit=habit: run(habit, lib))
         for name, habit, _ in HABITS}
HABIT_IDS = [name for name, _, _ in HABITS]


@pytest.fixture(scope="module")
def torch_results():
    return torch_side(CASES, torch_lib, assert_same)


@pytest.mark.parametrize("name,habit,numpy_says", [h for h in HABITS if h[2] is not None],
                         ids=[h[0] for h in HABITS if h[2] is not None])
def test_habit_gives_what_numpy_computes(name, habit, numpy_says):
    result, _ = run(habit, MINIGAN)
    expected = numpy_says(X.copy())
    if isinstance(expected, (np.ndarray, np.generic)):
        expected = np.asarray(expected)
    if isinstance(result, np.ndarray) and expected.dtype != result.dtype:
        expected = expected.astype(result.dtype)  # NumPy's own dtypes are checked vs PyTorch
    assert_same(result, plain(expected))


@pytest.mark.parametrize("name", HABIT_IDS)
def test_habit_gives_what_pytorch_computes(name, torch_results):
    habit = dict((n, h) for n, h, _ in HABITS)[name]
    result, grad = run(habit, MINIGAN)
    torch_result, torch_grad = torch_results(f"habit/{name}")
    assert_same(result, torch_result, name)
    assert (grad is None) == (torch_grad is None), name
    if grad is not None:
        np.testing.assert_allclose(grad, torch_grad, rtol=1e-6, atol=1e-12, err_msg=name)


# -- what raises in both, and what only minigan refuses ------------------------------------

def _leaf(lib):
    return lib.tensor(np.ones(3), requires_grad=True)


def _assign_grad(lib, grad):
    w = _leaf(lib)
    w.grad = grad(lib)


def _backward_after_zeroing_the_output(lib):
    y = _leaf(lib).exp()
    with lib.no_grad():
        y.zero_()
    y.sum().backward()


def _two_groups_share_a_parameter(lib):
    w = _leaf(lib)
    lib.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


# (name, code, the error, what minigan's message says)
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
    ("requires_grad = False on a tensor in the graph",
     lambda lib: setattr(_leaf(lib) * 2, "requires_grad", False), RuntimeError, "leaf"),
    ("max over a tuple of dims", lambda lib: lib.tensor(X).max(dim=(0, 1)), TypeError,
     "one int dim"),
    ("transpose with one dim", lambda lib: lib.tensor(X).transpose(0), TypeError, "dim1"),
    ("view of a transposed tensor", lambda lib: lib.tensor(X)[0].T.view(12), RuntimeError,
     r"use .reshape\(...\) instead"),
    ("var with both unbiased and correction",
     lambda lib: lib.tensor(X).var(0, unbiased=True, correction=1), TypeError,
     "unbiased or correction"),
    ("strict load_state_dict with a missing key",
     lambda lib: lib.nn.Linear(2, 3).load_state_dict({"weight": lib.tensor(np.zeros((3, 2)))}),
     RuntimeError, r"Missing key\(s\) in state_dict: .bias."),
    ("load_state_dict with a wrong shape",
     lambda lib: lib.nn.Linear(2, 3).load_state_dict(
         {"weight": lib.tensor(np.zeros((2, 2))), "bias": lib.tensor(np.zeros(3))}),
     RuntimeError, "size mismatch for weight"),
    ("+= on a leaf that requires grad", lambda lib: _leaf(lib).__iadd__(1), RuntimeError,
     "a leaf Variable that requires grad is being used in an in-place operation"),
    ("zero_() on a leaf that requires grad", lambda lib: _leaf(lib).zero_(), RuntimeError,
     "a leaf Variable that requires grad"),
    ("add_ on a view of a leaf that requires grad", lambda lib: _leaf(lib)[:2].add_(1),
     RuntimeError, "a view of a leaf Variable that requires grad"),
    ("numpy() of a tensor that requires grad", lambda lib: _leaf(lib).numpy(), RuntimeError,
     r"Use tensor.detach\(\).numpy\(\) instead"),
    ("np.asarray of a tensor that requires grad", lambda lib: np.asarray(_leaf(lib)),
     RuntimeError, r"detach\(\).numpy\(\)"),
    (".grad = an ndarray", lambda lib: _assign_grad(lib, lambda lib: np.ones(3)), TypeError,
     "assigned grad expected to be a Tensor or None but got grad of type numpy.ndarray"),
    (".grad of another shape", lambda lib: _assign_grad(lib, lambda lib: lib.tensor(np.ones(2))),
     RuntimeError, "gradient of shape"),
    ("backward() after the output changed in place", _backward_after_zeroing_the_output,
     RuntimeError, "the output of Exp .* was changed in place"),
    ("a float added in place to an integer tensor",
     lambda lib: lib.tensor(np.arange(3)).add_(1.5), RuntimeError, "can't be cast"),
    ("+= with a result of another shape",
     lambda lib: lib.tensor(np.ones(3)).__iadd__(lib.tensor(np.ones((2, 3)))), RuntimeError,
     "doesn't match the broadcast shape"),
    ("a parameter in two groups", _two_groups_share_a_parameter, ValueError,
     "more than one parameter group"),
    ("optimizer.lr", lambda lib: lib.optim.SGD([_leaf(lib)], lr=0.1).lr, AttributeError,
     r"param_groups\[0\]\['lr'\]"),
    ("dropout probability above 1", lambda lib: lib.nn.Dropout(p=1.5), ValueError,
     "between 0 and 1"),
]
# PyTorch names minigan does not have: the error says what to use instead
MISSING_NAMES = [
    ("Tensor.expand", lambda lib: lib.tensor(X).expand, AttributeError, "broadcast_to"),
    ("nn.Conv1d", lambda lib: lib.nn.Conv1d, AttributeError, "only nn.Conv2d"),
    ("optim.RMSprop", lambda lib: lib.optim.RMSprop, AttributeError, "optim.SGD"),
    ("F.gelu", lambda lib: lib.F.gelu, AttributeError, "F.relu"),
    ("Module.half()", lambda lib: lib.nn.Linear(2, 2).half(), AttributeError, "float16"),
    ("lr_scheduler.OneCycleLR", lambda lib: lib.optim.lr_scheduler.OneCycleLR, AttributeError,
     "StepLR"),
]


def raised(code, lib):
    """The name of the exception ``code(lib)`` raises, or "none"."""
    try:
        code(lib)
    except Exception as error:  # noqa: BLE001 - which one is the answer
        return type(error).__name__
    return "none"


CASES.update({f"error/{name}": (lambda lib, code=code: raised(code, lib))
              for name, code, _, _ in ERRORS_AS_IN_PYTORCH})


@pytest.mark.parametrize("name,code,error,message", ERRORS_AS_IN_PYTORCH + MISSING_NAMES,
                         ids=[e[0] for e in ERRORS_AS_IN_PYTORCH + MISSING_NAMES])
def test_minigan_raises_where_pytorch_raises(name, code, error, message):
    with pytest.raises(error, match=message):
        code(MINIGAN)


@pytest.mark.parametrize("name,error", [(e[0], e[2]) for e in ERRORS_AS_IN_PYTORCH],
                         ids=[e[0] for e in ERRORS_AS_IN_PYTORCH])
def test_pytorch_raises_there_too(name, error, torch_results):
    assert torch_results(f"error/{name}") == error.__name__


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


# -- every PyTorch name minigan lacks says so ------------------------------------------------

def _public_names(owner):
    return sorted(name for name in dir(owner) if not name.startswith("_"))


CASES.update({
    "names/Tensor": lambda lib: _public_names(type(lib.tensor(1.0))),
    "names/Module": lambda lib: _public_names(lib.nn.Module),
    "names/Optimizer": lambda lib: _public_names(lib.optim.Optimizer),
    "names/nn": lambda lib: _public_names(lib.nn),
    "names/optim": lambda lib: _public_names(lib.optim),
    "names/functional": lambda lib: _public_names(lib.F),
    "names/lr_scheduler": lambda lib: _public_names(lib.optim.lr_scheduler),
})


OWNERS = {   # golden key -> (a maker of the minigan object, ADVICE kind); made in the test,
            # so that collecting this file runs no code a homework stubs
    "names/Tensor": (lambda: Tensor(X), "Tensor"),
    "names/Module": (lambda: minigan.nn.Linear(2, 2), "Module"),
    "names/Optimizer": (lambda: minigan.optim.SGD([Tensor(X, requires_grad=True)], lr=0.1),
                        "Optimizer"),
    "names/nn": (lambda: minigan.nn, "minigan.nn"),
    "names/optim": (lambda: minigan.optim, "minigan.optim"),
    "names/functional": (lambda: minigan.functional, "minigan.functional"),
    "names/lr_scheduler": (lambda: minigan.optim.lr_scheduler, "minigan.optim.lr_scheduler"),
}


@pytest.mark.parametrize("key", list(OWNERS))
def test_every_pytorch_name_minigan_lacks_raises_an_error_that_says_so(key):
    """PyTorch's public names (recorded from torch in the golden file): each one minigan lacks
    raises AttributeError saying minigan does not have it, with advice or the names near it."""
    owner = OWNERS[key][0]()
    names = load_golden()[key]
    missing = [name for name in names if not hasattr(owner, name)]
    assert missing, key
    for name in missing:
        with pytest.raises(AttributeError) as caught:
            getattr(owner, name)
        assert "minigan does not have" in str(caught.value), (name, str(caught.value))


def test_a_typo_of_a_real_name_gets_did_you_mean():
    with pytest.raises(AttributeError, match="did you mean 'shape'"):
        _ = Tensor(X).shpae
    with pytest.raises(AttributeError, match="did you mean 'parameters'"):
        minigan.nn.Linear(2, 2).paramters()
    with pytest.raises(AttributeError, match="did you mean 'Sequential'"):
        _ = minigan.nn.Sequental
    with pytest.raises(AttributeError, match=r"the out-of-place t = t.unsqueeze"):
        Tensor(X).unsqueeze_(0)


# -- training scripts, written once, run on both ----------------------------------------------

def make_net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.nn.ModuleList([
                # no bias: batch norm removes it, leaving it a gradient of rounding noise
                # that Adam would scale up to lr-sized steps, different in each library
                lib.nn.Conv2d(1, 4, kernel_size=3, padding=1, bias=False), lib.nn.BatchNorm2d(4),
                lib.nn.LeakyReLU(negative_slope=0.2), lib.nn.MaxPool2d(kernel_size=2)])
            self.head = lib.nn.Sequential(lib.nn.Flatten(), lib.nn.Dropout(p=0.0),
                                          lib.nn.Linear(4 * 3 * 4, 3))

        def forward(self, x):
            for layer in self.features:
                x = layer(x)
            return self.head(x)
    return Net()


def state(net):
    return {name: plain(value) for name, value in net.state_dict().items()}


def _optimizers(lib, net):
    conv, rest = net.features[0], [p for n, p in net.named_parameters() if "features.0" not in n]
    return {
        "SGD momentum": (lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9), None),
        "SGD nesterov, weight decay": (lib.optim.SGD(net.parameters(), lr=0.05, momentum=0.8,
                                                     nesterov=True, weight_decay=0.01), None),
        "Adam": (lib.optim.Adam(net.parameters(), lr=0.01), None),
        "AdamW": (lib.optim.AdamW(net.parameters(), lr=0.01, weight_decay=0.1), None),
        "param_groups with their own lr": (lib.optim.SGD(
            [{"params": conv.parameters(), "lr": 0.3}, {"params": rest}], lr=0.05,
            momentum=0.5), None),
        "Adam with StepLR": (lib.optim.Adam(net.parameters(), lr=0.02),
                             lambda opt: lib.optim.lr_scheduler.StepLR(opt, step_size=2,
                                                                       gamma=0.5)),
        "SGD with CosineAnnealingLR": (lib.optim.SGD(net.parameters(), lr=0.1, momentum=0.9),
                                       lambda opt: lib.optim.lr_scheduler.CosineAnnealingLR(
                                           opt, T_max=3, eta_min=0.01)),
    }


def train(lib, which, initial, steps=4, set_to_none=True):
    """A few optimizer steps as in any PyTorch tutorial, from the ``initial`` state dict;
    returns the losses, the learning rates, eval logits, accuracy and the final state."""
    net = make_net(lib)
    net.load_state_dict({name: lib.tensor(value) for name, value in initial.items()})
    data = np.random.default_rng(2)
    images = data.standard_normal((8, 1, 6, 8)).astype(np.float32)
    labels = data.integers(0, 3, 8)
    opt, make_scheduler = _optimizers(lib, net)[which]
    scheduler = make_scheduler(opt) if make_scheduler else None
    net.train()
    losses, lrs = [], []
    for _ in range(steps):
        loss = lib.F.cross_entropy(net(lib.tensor(images)), lib.tensor(labels))
        opt.zero_grad(set_to_none=set_to_none)
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
        lrs.append(tuple(group["lr"] for group in opt.param_groups))
    net.eval()
    with lib.no_grad():
        logits = net(lib.tensor(images))
        predicted = logits.argmax(dim=1)
        accuracy = (predicted == lib.tensor(labels)).float().mean().item()
    return {"losses": losses, "lrs": [list(lr) for lr in lrs], "logits": plain(logits),
            "accuracy": accuracy, "state": state(net)}


def torch_initial_state(lib):
    lib.manual_seed(0)
    return state(make_net(lib))


TRAININGS = ["SGD momentum", "SGD nesterov, weight decay", "Adam", "AdamW",
             "param_groups with their own lr", "Adam with StepLR", "SGD with CosineAnnealingLR"]
CASES["train/initial state"] = torch_initial_state
CASES.update({f"train/{which}": (lambda lib, which=which: train(lib, which,
                                                                torch_initial_state(lib)))
              for which in TRAININGS})


def test_training_script_runs_and_saves_its_batch_norm_statistics():
    minigan.manual_seed(0)
    result = train(MINIGAN, "SGD momentum", state(make_net(MINIGAN)))
    assert result["losses"][-1] < result["losses"][0] and 0.0 <= result["accuracy"] <= 1.0
    assert list(result["state"]) == [
        "features.0.weight", "features.1.weight", "features.1.bias",
        "features.1.running_mean", "features.1.running_var", "features.1.num_batches_tracked",
        "head.2.weight", "head.2.bias"]
    assert int(result["state"]["features.1.num_batches_tracked"]) == 4


@pytest.mark.parametrize("which", TRAININGS)
def test_training_script_matches_pytorch_step_for_step(which, torch_results):
    """Same names and shapes: minigan's net starts from PyTorch's initial weights."""
    ours = train(MINIGAN, which, torch_results("train/initial state"))
    theirs = torch_results(f"train/{which}")
    np.testing.assert_allclose(ours["losses"], theirs["losses"], rtol=1e-5)
    np.testing.assert_allclose(ours["lrs"], theirs["lrs"], rtol=1e-12)
    np.testing.assert_allclose(ours["logits"], theirs["logits"], rtol=1e-4, atol=1e-5)
    assert ours["accuracy"] == pytest.approx(theirs["accuracy"])
    assert list(ours["state"]) == list(theirs["state"])
    for name, value in ours["state"].items():
        np.testing.assert_allclose(value, theirs["state"][name], rtol=1e-4, atol=1e-6,
                                   err_msg=name)


def test_zero_grad_set_to_none_false_trains_alike_and_keeps_zero_gradients():
    initial = state(make_net(MINIGAN))
    a = train(MINIGAN, "SGD momentum", initial)
    b = train(MINIGAN, "SGD momentum", initial, set_to_none=False)
    assert a["losses"] == b["losses"]
    net = make_net(MINIGAN)
    net(Tensor(np.ones((2, 1, 6, 8), np.float32))).sum().backward()
    grads = [p.grad for p in net.parameters()]
    net.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.numpy().any() for p, g in zip(net.parameters(), grads))
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def manual_sgd(lib, steps=5, lr=0.1):
    """The loop a student writes first: p -= lr * p.grad under no_grad, grads cleared by hand."""
    net = make_net(lib)
    net.load_state_dict(initial_state_from_numpy(lib))
    images, labels = np.random.default_rng(3).standard_normal((8, 1, 6, 8)).astype(np.float32), \
        np.arange(8) % 3
    losses = []
    for _ in range(steps):
        loss = lib.F.cross_entropy(net(lib.tensor(images)), lib.tensor(labels))
        for p in net.parameters():
            p.grad = None
        loss.backward()
        with lib.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
        losses.append(loss.item())
    return losses, state(net)


def initial_state_from_numpy(lib):
    generator = np.random.default_rng(4)
    shapes = {"features.0.weight": (4, 1, 3, 3), "features.1.weight": (4,),
              "features.1.bias": (4,), "head.2.weight": (3, 48), "head.2.bias": (3,)}
    values = {name: generator.uniform(-0.3, 0.3, shape).astype(np.float32)
              for name, shape in shapes.items()}
    values.update({"features.1.running_mean": np.zeros(4, np.float32),
                   "features.1.running_var": np.ones(4, np.float32),
                   "features.1.num_batches_tracked": np.array(0)})
    order = list(state(make_net(MINIGAN)))
    return {name: lib.tensor(values[name]) for name in order}


CASES["train/manual SGD loop"] = manual_sgd


def test_the_manual_sgd_loop_is_optim_sgd_bit_for_bit():
    """``p -= lr * p.grad`` under no_grad changes the parameters in place: it trains exactly as
    optim.SGD (no momentum) does."""
    losses, manual = manual_sgd(MINIGAN)
    net = make_net(MINIGAN)
    net.load_state_dict(initial_state_from_numpy(MINIGAN))
    opt = MINIGAN.optim.SGD(net.parameters(), lr=0.1)
    images, labels = np.random.default_rng(3).standard_normal((8, 1, 6, 8)).astype(np.float32), \
        np.arange(8) % 3
    sgd_losses = []
    for _ in range(5):
        loss = MINIGAN.F.cross_entropy(net(Tensor(images)), Tensor(labels))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sgd_losses.append(loss.item())
    assert losses == sgd_losses and losses[-1] < losses[0]
    for name, value in state(net).items():
        np.testing.assert_array_equal(manual[name], value, err_msg=name)


def test_the_manual_sgd_loop_matches_pytorch(torch_results):
    losses, final = manual_sgd(MINIGAN)
    torch_losses, torch_final = torch_results("train/manual SGD loop")
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-5)
    for name, value in final.items():
        np.testing.assert_allclose(value, torch_final[name], rtol=1e-4, atol=1e-6, err_msg=name)


def schedules(lib):
    """Learning rates over 25 epochs of StepLR and of CosineAnnealingLR (two half-periods)."""
    out = {}
    for name, make in (("StepLR", lambda opt: lib.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)),
                       ("CosineAnnealingLR", lambda opt: lib.optim.lr_scheduler.CosineAnnealingLR(
                           opt, T_max=10, eta_min=0.001))):
        opt = lib.optim.SGD([lib.tensor(np.ones(2), requires_grad=True)], lr=0.1)
        scheduler = make(opt)
        rates = [scheduler.get_last_lr()[0]]
        for _ in range(25):
            opt.step()
            scheduler.step()
            rates.append(scheduler.get_last_lr()[0])
        out[name] = rates
    return out


CASES["schedules"] = schedules


def test_lr_schedules_are_pytorch_s_to_the_last_bit(torch_results):
    ours, theirs = schedules(MINIGAN), torch_results("schedules")
    assert ours == theirs
    assert ours["StepLR"][:7] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    cosine = ours["CosineAnnealingLR"]
    assert cosine[10] == pytest.approx(0.001) and cosine[20] == pytest.approx(0.1)
    assert cosine[5] == pytest.approx(0.001 + 0.099 * (1 + math.cos(math.pi / 2)) / 2)


def module_tools(lib):
    """apply, children, named_modules, requires_grad_, double, float, clip_grad_norm_."""
    lib.manual_seed(0)
    net = make_net(lib)
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    names = [name for name, _ in net.named_modules()]
    children = [type(m).__name__ for m in net.children()]
    net.requires_grad_(False)
    frozen = [p.requires_grad for p in net.parameters()]
    net.requires_grad_()
    dtypes = (str(net.double().features[0].weight.dtype), str(net.float().head[2].bias.dtype),
              str(net.double().features[1].num_batches_tracked.dtype))
    return seen, names, children, frozen, dtypes


CASES["module tools"] = module_tools


def test_module_apply_children_requires_grad_double_float_as_pytorch(torch_results):
    seen, names, children, frozen, dtypes = module_tools(MINIGAN)
    torch_seen, torch_names, torch_children, torch_frozen, torch_dtypes = torch_results(
        "module tools")
    assert seen == torch_seen and names == torch_names and children == torch_children
    assert frozen == torch_frozen == [False] * 5
    assert [d.replace("torch.", "") for d in torch_dtypes] == list(dtypes)


def clipping(lib):
    w = lib.tensor(X.copy(), requires_grad=True)
    b = lib.tensor(X[0, 0].copy(), requires_grad=True)
    ((w * w).sum() * 3 + (b * b * b).sum()).backward()
    norm = lib.nn.utils.clip_grad_norm_([w, b], max_norm=2.0)
    clipped = (plain(w.grad), plain(b.grad))
    inf_norm = lib.nn.utils.clip_grad_norm_([w, b], max_norm=0.5, norm_type=math.inf)
    lib.nn.utils.clip_grad_value_([w, b], clip_value=0.01)
    return plain(norm), clipped, plain(inf_norm), (plain(w.grad), plain(b.grad))


CASES["clipping"] = clipping


def test_clip_grad_norm_and_value_as_pytorch(torch_results):
    assert_same(clipping(MINIGAN), torch_results("clipping"), rtol=1e-6)


def test_dropout_in_training_zeroes_a_share_p_and_scales_the_rest():
    minigan.manual_seed(5)
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    y = minigan.nn.Dropout(p=0.25)(x)
    values = y.detach().numpy()
    assert set(np.unique(values)) == {0.0, 1 / 0.75}
    assert abs((values == 0).mean() - 0.25) < 0.02
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)
    minigan.manual_seed(5)
    np.testing.assert_array_equal(minigan.nn.Dropout(p=0.25)(Tensor(np.ones((200, 50))))
                                  .numpy(), values)                     # seeded: reproducible
    assert not minigan.F.dropout(Tensor(np.ones(9)), p=1.0).numpy().any()


def test_load_state_dict_strict_false_reports_keys_as_pytorch(torch_results):
    assert_same(partial_load(MINIGAN), torch_results("partial load"))


def partial_load(lib):
    model = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.ReLU(), lib.nn.Linear(3, 1))
    state = {"0.weight": lib.tensor(np.ones((3, 2), np.float32)),
             "extra": lib.tensor(np.zeros(1, np.float32))}
    keys = model.load_state_dict(state, strict=False)
    return sorted(keys.missing_keys), sorted(keys.unexpected_keys), plain(model[0].weight)


CASES["partial load"] = partial_load


def test_the_golden_file_holds_every_case():
    """Each comparison above has torch's answer in tests/golden (where CI reads it)."""
    missing = [key for key in CASES if key not in load_golden()]
    assert not missing, f"{missing}: rerun {GOLDEN.parent}/make_torch_golden.py"
