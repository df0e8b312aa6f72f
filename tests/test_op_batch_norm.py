"""F.batch_norm and nn.BatchNorm2d: forward against the per-channel formula, the running
statistics, float64 gradient checks in training and eval mode, the state dict."""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck, nn

rng = np.random.default_rng(0)


def per_channel_formula(x, mean, var, weight, bias, eps):
    """y[n, c, ...] = weight[c] (x[n, c, ...] - mean[c]) / sqrt(var[c] + eps) + bias[c], by loop."""
    y = np.empty_like(x)
    for c in range(x.shape[1]):
        y[:, c] = weight[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + bias[c]
    return y


def channel_statistics(x):
    """Per channel: mean, biased variance, unbiased variance over every axis but 1."""
    values = np.moveaxis(x, 1, 0).reshape(x.shape[1], -1)
    return values.mean(axis=1), values.var(axis=1), values.var(axis=1, ddof=1)


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (2, 1, 35, 55), (5, 2)])
def test_training_forward_uses_batch_statistics_and_updates_running_ones(shape, device):
    x = rng.standard_normal(shape) * 3 + 1
    weight, bias = rng.uniform(0.5, 2, shape[1]), rng.standard_normal(shape[1])
    running_mean = Tensor(rng.standard_normal(shape[1]), device=device)
    running_var = Tensor(rng.uniform(0.5, 2, shape[1]), device=device)
    old_mean, old_var = running_mean.numpy().copy(), running_var.numpy().copy()
    y = F.batch_norm(Tensor(x, device=device), running_mean, running_var,
                     Tensor(weight, device=device), Tensor(bias, device=device),
                     training=True, momentum=0.25, eps=1e-3)
    mean, var, unbiased = channel_statistics(x)
    np.testing.assert_allclose(y.numpy(), per_channel_formula(x, mean, var, weight, bias, 1e-3),
                               rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(running_mean.numpy(), 0.75 * old_mean + 0.25 * mean, rtol=1e-12)
    np.testing.assert_allclose(running_var.numpy(), 0.75 * old_var + 0.25 * unbiased, rtol=1e-12)


def test_eval_forward_uses_running_statistics_and_leaves_them(device):
    x = rng.standard_normal((3, 2, 4, 4))
    mean, var = np.array([0.5, -1.0]), np.array([2.0, 0.25])
    running_mean, running_var = Tensor(mean, device=device), Tensor(var, device=device)
    y = F.batch_norm(Tensor(x, device=device), running_mean, running_var, training=False)
    expected = per_channel_formula(x, mean, var, np.ones(2), np.zeros(2), 1e-5)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(running_mean.numpy(), mean)
    np.testing.assert_array_equal(running_var.numpy(), var)


@pytest.mark.parametrize("shape", [(3, 2, 4, 5), (1, 3, 3, 2), (6, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_training_gradcheck(shape, affine, device):
    inputs = [rng.standard_normal(shape) * 2 + 0.5]
    if affine:
        inputs += [rng.uniform(0.5, 2, shape[1]), rng.standard_normal(shape[1])]

    def fn(x, *weight_bias):
        return F.batch_norm(x, None, None, *weight_bias, training=True)
    gradcheck(fn, inputs, device=device)


def test_eval_gradcheck(device):
    running_mean = Tensor(rng.standard_normal(3), device=device)
    running_var = Tensor(rng.uniform(0.5, 2, 3), device=device)
    gradcheck(lambda x, w, b: F.batch_norm(x, running_mean, running_var, w, b, training=False),
              [rng.standard_normal((2, 3, 4, 3)), rng.uniform(0.5, 2, 3), rng.standard_normal(3)],
              device=device)


def test_module_trains_then_evaluates_with_its_running_statistics(device):
    bn = nn.BatchNorm2d(2, momentum=0.5).to(device)
    x = rng.standard_normal((4, 2, 3, 3)).astype(np.float32) * 2 + 3
    bn(Tensor(x, device=device))
    mean, _, unbiased = channel_statistics(x)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.5 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.5 + 0.5 * unbiased, rtol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1
    bn.eval()
    y = bn(Tensor(x, device=device))
    expected = per_channel_formula(x, 0.5 * mean, 0.5 + 0.5 * unbiased, np.ones(2), np.zeros(2),
                                   1e-5)
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 1


def test_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm2d(1, momentum=None)
    batches = [rng.standard_normal((3, 1, 2, 2)).astype(np.float32) + k for k in range(3)]
    for x in batches:
        bn(Tensor(x))
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               [np.mean([x.mean() for x in batches])], rtol=1e-5)


def test_without_running_statistics_eval_uses_the_batch():
    bn = nn.BatchNorm2d(2, track_running_stats=False, affine=False).eval()
    x = rng.standard_normal((3, 2, 2, 2))
    mean, var, _ = channel_statistics(x)
    np.testing.assert_allclose(bn(Tensor(x)).numpy(),
                               per_channel_formula(x, mean, var, np.ones(2), np.zeros(2), 1e-5),
                               rtol=1e-6)
    assert bn.state_dict() == {}


def test_state_dict_holds_parameters_and_buffers_and_round_trips(tmp_path):
    bn = nn.BatchNorm2d(3)
    bn(Tensor(rng.standard_normal((4, 3, 2, 2)).astype(np.float32)))
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    bn.save(tmp_path / "bn.npz")
    again = nn.BatchNorm2d(3).load(tmp_path / "bn.npz")
    for name, value in bn.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[name], value)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"expected input \(N, C, H, W\)"):
        nn.BatchNorm2d(3)(Tensor(np.ones((2, 3), np.float32)))
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(Tensor(np.ones((2, 3))), Tensor(np.zeros(2)), Tensor(np.ones(2)))
    with pytest.raises(ValueError, match="more than one value per channel"):
        nn.BatchNorm2d(3)(Tensor(np.ones((1, 3, 1, 1), np.float32)))
    with pytest.raises(ValueError, match="eval mode"):
        F.batch_norm(Tensor(np.ones((2, 3))), None, None, training=False)
