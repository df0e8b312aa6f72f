import importlib.util
from pathlib import Path

import numpy as np
import pytest

from minigan import Tensor, nn, optim

TUTORIALS = Path(__file__).resolve().parent.parent / "tutorials"


def small_cnn(rng):
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, stride=1, padding=1, rng=rng), nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, rng=rng), nn.ReLU(),
        nn.Flatten(), nn.Linear(8 * 3 * 3, 2, rng=rng))


def step10():
    """tutorials/step10_train_a_cnn.py as a module: its functions (it trains only when run)."""
    spec = importlib.util.spec_from_file_location("step10_train_a_cnn",
                                                  TUTORIALS / "step10_train_a_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.task3_4
def test_small_cnn_learns_a_toy_image_task(monkeypatch):
    """Step 10's CNN, trained by its train_step and measured by its accuracy (homework 3.4)."""
    monkeypatch.syspath_prepend(str(TUTORIALS))   # the step imports tutorials/lesson.py
    _, held_out, losses = step10().train()
    assert held_out >= 0.95
    assert losses[-1] < losses[0]


@pytest.mark.task3_1
def test_parameters_are_registered_by_name():
    model = small_cnn(np.random.default_rng(0))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"]


def test_default_init_is_kaiming_uniform_bound():
    conv = nn.Conv2d(4, 16, 3, rng=np.random.default_rng(0))
    bound = 1 / np.sqrt(4 * 9)
    assert np.abs(conv.weight.numpy()).max() <= bound
    assert np.abs(conv.weight.numpy()).max() > 0.9 * bound


@pytest.mark.task3_1
def test_state_dict_roundtrip_through_npz(tmp_path):
    a, b = small_cnn(np.random.default_rng(0)), small_cnn(np.random.default_rng(1))
    a.save(tmp_path / "model.npz")
    b.load(tmp_path / "model.npz")
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())


@pytest.mark.task3_1
def test_load_state_dict_names_missing_and_extra_keys():
    model = small_cnn(np.random.default_rng(0))
    state = model.state_dict()
    state.pop("0.bias")
    state["bogus"] = np.zeros(1)
    with pytest.raises(RuntimeError, match=r"(?s)Unexpected key\(s\) in state_dict: 'bogus'.*"
                                           r"Missing key\(s\) in state_dict: '0.bias'"):
        model.load_state_dict(state)


@pytest.mark.task3_1
def test_load_state_dict_names_wrong_shape():
    model = small_cnn(np.random.default_rng(0))
    state = model.state_dict()
    state["3.weight"] = np.zeros((1, 2, 3, 3))
    with pytest.raises(RuntimeError, match=r"size mismatch for 3.weight: shape \(1, 2, 3, 3\)"):
        model.load_state_dict(state)


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="broken.npz is not a readable .npz"):
        small_cnn(np.random.default_rng(0)).load(path)
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        small_cnn(np.random.default_rng(0)).load(tmp_path / "missing.npz")


@pytest.mark.task3_1
def test_load_state_dict_without_strict_loads_what_matches():
    model, other = small_cnn(np.random.default_rng(0)), small_cnn(np.random.default_rng(1))
    state = other.state_dict()
    state.pop("0.bias")
    state["bogus"] = np.zeros(1)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert (missing, unexpected) == (["0.bias"], ["bogus"])
    np.testing.assert_array_equal(model[0].weight.numpy(), other[0].weight.numpy())
    assert not np.array_equal(model[0].bias.numpy(), other[0].bias.numpy())


@pytest.mark.task3_1
def test_module_list_registers_its_modules():
    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2)])
            self.blocks.append(nn.Linear(2, 1))

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    tower = Tower()
    assert [n for n, _ in tower.named_parameters()] == [
        f"blocks.{i}.{p}" for i in range(3) for p in ("weight", "bias")]
    assert len(tower.blocks) == 3 and isinstance(tower.blocks[1:], nn.ModuleList)
    assert tower(Tensor(np.ones((4, 2), np.float32))).shape == (4, 1)
    with pytest.raises(NotImplementedError, match="ModuleList has no forward"):
        tower.blocks(Tensor(np.ones((4, 2))))
    with pytest.raises(TypeError, match="element 3 is a int, not a Module"):
        tower.blocks.append(3)


@pytest.mark.task3_1
@pytest.mark.parametrize("holder", [list, tuple, lambda layers: dict(enumerate(layers))])
def test_a_plain_container_of_modules_is_refused(holder):
    model = nn.Module()
    with pytest.raises(TypeError, match="would not be registered .* use nn.ModuleList"):
        model.layers = holder([nn.Linear(2, 2)])


@pytest.mark.task3_1
def test_buffers_are_saved_and_moved_but_not_trained():
    model = nn.Module()
    model.register_buffer("count", Tensor(np.zeros(2, np.float32)))
    model.scale = nn.Parameter(np.ones(1, np.float32))
    assert list(model.state_dict()) == ["scale", "count"]
    assert model.parameters() == [model.scale] and model.buffers() == [model.count]
    model.count = Tensor(np.ones(2, np.float32))     # assigning a buffer replaces it
    assert model.buffers() == [model.count]
    with pytest.raises(TypeError, match="count is a buffer: assign a Tensor or None"):
        model.count = np.ones(2)
    with pytest.raises(TypeError, match="must be a Tensor or None"):
        model.register_buffer("other", np.ones(2))


def test_optimizers_refuse_what_is_not_a_tensor():
    with pytest.raises(TypeError, match="parameter 0 is a dict, not a Tensor"):
        optim.SGD([{"params": []}], lr=0.1)


def test_train_and_eval_flags_propagate():
    model = small_cnn(np.random.default_rng(0)).eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def sgd_reference(p, grads, lr, momentum, weight_decay, nesterov):
    buf = None
    for g in grads:
        g = g + weight_decay * p
        buf = g if buf is None else momentum * buf + g
        p = p - lr * ((g + momentum * buf) if nesterov else buf)
    return p


@pytest.mark.task3_2
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_matches_formula(nesterov):
    rng = np.random.default_rng(0)
    p0, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(3)]
    p = nn.Parameter(p0.copy())
    opt = optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=nesterov)
    for g in grads:
        p.grad = g
        opt.step()
    np.testing.assert_allclose(p.numpy(), sgd_reference(p0, grads, 0.1, 0.9, 0.01, nesterov))


@pytest.mark.task3_3
def test_adam_matches_formula():
    rng = np.random.default_rng(0)
    p0, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(3)]
    p = nn.Parameter(p0.copy())
    opt = optim.Adam([p], lr=0.01)
    m = v = np.zeros(5)
    expected = p0.copy()
    for t, g in enumerate(grads, 1):
        p.grad = g
        opt.step()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        expected -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p.numpy(), expected)


@pytest.mark.task3_3
def test_adam_adds_weight_decay_to_the_gradient():
    rng = np.random.default_rng(1)
    p0, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(3)]
    p = nn.Parameter(p0.copy())
    opt = optim.Adam([p], lr=0.1, betas=(0.8, 0.9), weight_decay=0.5)
    m = v = np.zeros(5)
    expected = p0.copy()
    for t, g in enumerate(grads, 1):
        p.grad = g
        opt.step()
        g = g + 0.5 * expected
        m, v = 0.8 * m + 0.2 * g, 0.9 * v + 0.1 * g * g
        expected -= 0.1 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.9 ** t)) + 1e-8)
    np.testing.assert_allclose(p.numpy(), expected)


@pytest.mark.parametrize("make", [
    pytest.param(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), marks=pytest.mark.task3_2),
    pytest.param(lambda ps: optim.Adam(ps, lr=0.1), marks=pytest.mark.task3_3)])
def test_optimizer_state_roundtrip_resumes_exactly(make):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(4) for _ in range(4)]
    straight = nn.Parameter(np.ones(4))
    opt = make([straight])
    for g in grads:
        straight.grad = g
        opt.step()
    resumed = nn.Parameter(np.ones(4))
    first = make([resumed])
    for g in grads[:2]:
        resumed.grad = g
        first.step()
    second = make([resumed])
    second.load_state_dict(first.state_dict())
    for g in grads[2:]:
        resumed.grad = g
        second.step()
    np.testing.assert_array_equal(straight.numpy(), resumed.numpy())


def test_optimizer_state_with_wrong_keys_is_rejected():
    opt = optim.SGD([nn.Parameter(np.ones(3))], lr=0.1, momentum=0.5)
    with pytest.raises(KeyError, match="missing keys"):
        opt.load_state_dict({"step": np.asarray(1)})


def test_bad_optimizer_settings():
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.SGD([nn.Parameter(np.ones(1))], lr=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
