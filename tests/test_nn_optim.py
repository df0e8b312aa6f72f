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
    assert np.abs(conv.weight.detach().numpy()).max() <= bound
    assert np.abs(conv.weight.detach().numpy()).max() > 0.9 * bound


@pytest.mark.task3_1
def test_state_dict_roundtrip_through_npz(tmp_path):
    a, b = small_cnn(np.random.default_rng(0)), small_cnn(np.random.default_rng(1))
    a.save(tmp_path / "model.npz")
    b.load(tmp_path / "model.npz")
    for (_, pa), (_, pb) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(pa.detach().numpy(), pb.detach().numpy())


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
    np.testing.assert_array_equal(model[0].weight.detach().numpy(),
                                  other[0].weight.detach().numpy())
    assert not np.array_equal(model[0].bias.detach().numpy(), other[0].bias.detach().numpy())


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
    with pytest.raises(TypeError, match="parameter 0 of group 0 is a ndarray, not a Tensor"):
        optim.SGD([np.ones(3)], lr=0.1)


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
        p.grad = Tensor(g)
        opt.step()
    np.testing.assert_allclose(p.detach().numpy(),
                               sgd_reference(p0, grads, 0.1, 0.9, 0.01, nesterov))


@pytest.mark.task3_3
def test_adam_matches_formula():
    rng = np.random.default_rng(0)
    p0, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(3)]
    p = nn.Parameter(p0.copy())
    opt = optim.Adam([p], lr=0.01)
    m = v = np.zeros(5)
    expected = p0.copy()
    for t, g in enumerate(grads, 1):
        p.grad = Tensor(g)
        opt.step()
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        expected -= 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p.detach().numpy(), expected)


@pytest.mark.task3_3
def test_adam_adds_weight_decay_to_the_gradient():
    rng = np.random.default_rng(1)
    p0, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(3)]
    p = nn.Parameter(p0.copy())
    opt = optim.Adam([p], lr=0.1, betas=(0.8, 0.9), weight_decay=0.5)
    m = v = np.zeros(5)
    expected = p0.copy()
    for t, g in enumerate(grads, 1):
        p.grad = Tensor(g)
        opt.step()
        g = g + 0.5 * expected
        m, v = 0.8 * m + 0.2 * g, 0.9 * v + 0.1 * g * g
        expected -= 0.1 * (m / (1 - 0.8 ** t)) / (np.sqrt(v / (1 - 0.9 ** t)) + 1e-8)
    np.testing.assert_allclose(p.detach().numpy(), expected)


@pytest.mark.parametrize("make", [
    pytest.param(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), marks=pytest.mark.task3_2),
    pytest.param(lambda ps: optim.Adam(ps, lr=0.1), marks=pytest.mark.task3_3)])
def test_optimizer_state_roundtrip_resumes_exactly(make):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(4) for _ in range(4)]
    straight = nn.Parameter(np.ones(4))
    opt = make([straight])
    for g in grads:
        straight.grad = Tensor(g)
        opt.step()
    resumed = nn.Parameter(np.ones(4))
    first = make([resumed])
    for g in grads[:2]:
        resumed.grad = Tensor(g)
        first.step()
    second = make([resumed])
    second.load_state_dict(first.state_dict())
    for g in grads[2:]:
        resumed.grad = Tensor(g)
        second.step()
    np.testing.assert_array_equal(straight.detach().numpy(), resumed.detach().numpy())


def test_optimizer_state_with_wrong_keys_is_rejected():
    opt = optim.SGD([nn.Parameter(np.ones(3))], lr=0.1, momentum=0.5)
    with pytest.raises(KeyError, match="missing keys"):
        opt.load_state_dict({"step": np.asarray(1)})


def test_bad_optimizer_settings():
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.SGD([nn.Parameter(np.ones(1))], lr=-1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])


def test_param_groups_have_their_own_lr_and_the_defaults_fill_the_rest():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
    opt = optim.SGD([{"params": [a], "lr": 1.0}, {"params": b}], lr=0.1, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [1.0, 0.1]
    assert opt.param_groups[1]["momentum"] == 0.5 and opt.defaults["lr"] == 0.1
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(3))
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.0, 0.0])
    np.testing.assert_allclose(b.detach().numpy(), [0.9] * 3)
    opt.param_groups[0]["lr"] = 0.0               # what a scheduler does
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.0, 0.0])
    c = nn.Parameter(np.ones(1))
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2] == {"params": [c], "momentum": 0.0, "lr": 0.1,
                                   "weight_decay": 0.0, "nesterov": False}


def test_bad_param_groups_are_refused():
    a = nn.Parameter(np.ones(2))
    with pytest.raises(ValueError, match="unknown option\\(s\\) \\['betas'\\]"):
        optim.SGD([{"params": [a], "betas": (0.9, 0.9)}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [a]}, {"params": [a]}], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.Adam([{"params": [a], "lr": -1.0}])
    with pytest.raises(ValueError, match="betas must be two numbers"):
        optim.AdamW([a], betas=(0.9, 1.0))


def test_optimizer_state_with_groups_round_trips_and_a_one_group_state_keeps_its_keys():
    rng = np.random.default_rng(0)

    def run(steps, state=None):
        a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(3))
        opt = optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
        if state is not None:
            a.data, b.data, _ = state[1], state[2], opt.load_state_dict(state[0])
        for g in steps:
            a.grad, b.grad = Tensor(g[:2]), Tensor(g[2:])
            opt.step()
        return opt.state_dict(), a.detach().numpy().copy(), b.detach().numpy().copy()
    grads = [rng.standard_normal(5) for _ in range(4)]
    straight, halfway = run(grads), run(grads[:2])
    resumed = run(grads[2:], halfway)
    np.testing.assert_array_equal(straight[1], resumed[1])
    np.testing.assert_array_equal(straight[2], resumed[2])
    assert straight[0]["group1.lr"] == 0.5 and "step.0" not in straight[0]
    single = optim.SGD([nn.Parameter(np.ones(2))], lr=0.1, momentum=0.9).state_dict()
    assert list(single) == ["step", "lr", "momentum", "weight_decay", "nesterov"]


def test_adam_counts_the_steps_of_each_parameter_as_pytorch_does():
    """A parameter without a gradient is skipped: its bias correction starts at its own
    first step, and the state dict keeps that count."""
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = Tensor(np.ones(2))
    opt.step()
    b.grad = Tensor(np.full(2, 3.0))
    opt.step()
    np.testing.assert_allclose(b.detach().numpy(), [0.9, 0.9])    # the first step: lr * sign
    state = opt.state_dict()
    assert int(state["step"]) == 2 and int(state["step.1"]) == 1 and "step.0" not in state
    again = optim.Adam([a, b], lr=0.1)
    again.load_state_dict(state)
    assert again.state[b]["step"] == 1 and again.state[a]["step"] == 2


def test_adamw_decays_the_weights_apart_from_the_gradient():
    rng = np.random.default_rng(2)
    p0, grads = rng.standard_normal(4), [rng.standard_normal(4) for _ in range(3)]
    p = nn.Parameter(p0.copy())
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.2)
    m = v = np.zeros(4)
    expected = p0.copy()
    for t, g in enumerate(grads, 1):
        p.grad = Tensor(g)
        opt.step()
        expected = expected * (1 - 0.1 * 0.2)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        expected -= 0.1 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p.detach().numpy(), expected)
    assert optim.AdamW([p]).defaults["weight_decay"] == 0.01


def test_the_step_writes_into_the_parameter_s_memory():
    p = nn.Parameter(np.ones(3))
    view = p.detach()
    opt = optim.SGD([p], lr=0.5)
    p.grad = Tensor(np.ones(3))
    opt.step()
    np.testing.assert_array_equal(view.numpy(), [0.5] * 3)


def test_zero_grad_of_module_and_optimizer_with_and_without_set_to_none():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(Tensor(np.ones((3, 2), np.float32))).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_schedulers_set_the_lr_of_every_group_and_resume_from_their_state():
    def make():
        opt = optim.SGD([{"params": [nn.Parameter(np.ones(1))], "lr": 1.0},
                         {"params": [nn.Parameter(np.ones(1))]}], lr=0.1)
        return opt, optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    opt, scheduler = make()
    for _ in range(3):
        opt.step()
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([0.1, 0.01])
    assert [g["lr"] for g in opt.param_groups] == scheduler.get_last_lr()
    other_opt, other = make()
    other_opt.load_state_dict(opt.state_dict())
    other.load_state_dict(scheduler.state_dict())
    for s in (scheduler, other):
        s.step()
    assert other.get_last_lr() == scheduler.get_last_lr() == pytest.approx([0.01, 0.001])
    with pytest.raises(TypeError, match="is not an Optimizer"):
        optim.lr_scheduler.CosineAnnealingLR([1], T_max=3)


def test_module_apply_children_named_modules_and_requires_grad_():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 1)))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]
    assert [n for n, _ in model.named_modules()] == ["", "0", "1", "2", "2.0"]
    assert [n for n, _ in model.named_children()] == ["0", "1", "2"]
    assert len(list(model.children())) == 3
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())


def test_module_double_float_and_to_convert_parameters_buffers_and_gradients():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    model(Tensor(np.ones((2, 1, 4, 4), np.float32))).sum().backward()
    assert model.double() is model
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64       # not floating: kept
    grad = model[0].weight.grad
    assert model.float().to("cpu") is model and model[0].weight.dtype == np.float32
    assert model[0].weight.grad is not grad and model[0].weight.grad.dtype == np.float32


def test_clip_grad_norm_scales_to_the_joint_norm_and_clip_grad_value_clamps():
    a, b = nn.Parameter(np.array([3.0, 0.0])), nn.Parameter(np.array([4.0]))
    a.grad, b.grad = Tensor(np.array([3.0, 0.0])), Tensor(np.array([4.0]))
    norm = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert norm.item() == 5.0
    np.testing.assert_allclose(np.concatenate([a.grad.numpy(), b.grad.numpy()]),
                               np.array([3.0, 0.0, 4.0]) / (5.0 + 1e-6))
    assert nn.utils.clip_grad_norm_(a, 10.0).item() == pytest.approx(0.6, rel=1e-5)
    nn.utils.clip_grad_value_([a, b], clip_value=0.5)
    assert b.grad.numpy().max() == 0.5


def test_the_readme_s_engine_in_ten_lines_runs():
    readme = (TUTORIALS.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The engine in ten lines", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace = {}
    exec(compile(code, "README.md (the engine in ten lines)", "exec"), namespace)  # noqa: S102
    assert 0.0 <= namespace["accuracy"] <= 1.0 and len(code.strip().splitlines()) <= 11
