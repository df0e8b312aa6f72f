"""The engine on a CUDA device (the emulator; a GPU when usable) gives what it gives on the CPU."""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck, nn, optim

rng = np.random.default_rng(0)


def run_small_model(device):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=np.random.default_rng(0)), nn.ReLU(),
                          nn.MaxPool2d(3, 2, 1), nn.Conv2d(4, 2, 1, rng=np.random.default_rng(1)))
    model.to(device)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = Tensor(np.random.default_rng(2).standard_normal((3, 1, 35, 55)).astype(np.float32), device=device)
    for _ in range(2):
        loss = F.patch_cross_entropy(model(x), 1, "sum") + F.l1_loss(x, x * 0.5)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item(), [p.numpy() for p in model.parameters()]


def test_small_model_trains_the_same_on_the_device_and_the_cpu(cuda_device):
    cpu_loss, cpu_params = run_small_model("cpu")
    gpu_loss, gpu_params = run_small_model(cuda_device)
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-4)
    for a, b in zip(cpu_params, gpu_params):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", [F.exp, F.tanh, F.sigmoid, F.relu, lambda x: F.sum(x, dim=1),
                                lambda x: F.max(x, dim=0).values, lambda x: x[1:, ::2]])
def test_elementwise_and_reductions_gradcheck_on_the_device(op, cuda_device):
    gradcheck(op, [rng.standard_normal((3, 4))], device=cuda_device)


def test_conv_pool_xent_gradcheck_through_the_kernels(cuda_device):
    gradcheck(lambda x, w, b: F.conv2d(x, w, b, 2, 1),
              [rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)],
              device=cuda_device)
    gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1),
              [rng.permutation(2 * 3 * 7 * 9).reshape(2, 3, 7, 9) / 10.0], device=cuda_device)
    labels = rng.integers(0, 2, (2, 4, 5))
    gradcheck(lambda z: F.patch_cross_entropy(z, labels, "mean"), [rng.standard_normal((2, 2, 4, 5))],
              device=cuda_device)


def test_state_dict_from_the_device_loads_on_cpu(tmp_path, cuda_device):
    model = nn.Conv2d(2, 3, 3).to(cuda_device)
    model.save(tmp_path / "m.npz")
    cpu = nn.Conv2d(2, 3, 3).load(tmp_path / "m.npz")
    np.testing.assert_array_equal(cpu.weight.numpy(), model.weight.numpy())
