"""The engine on a CUDA device (the emulator; a GPU when usable) gives what it gives on the CPU."""
import numpy as np
import pytest

from minigan import F, Tensor, gradcheck, nn, optim
from minigan.backend import precision, to_device, to_numpy

rng = np.random.default_rng(0)


def small_model(device):
    model = nn.Sequential(nn.Conv2d(1, 24, 3, padding=1, rng=np.random.default_rng(0)),
                          nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                          nn.Conv2d(24, 2, 1, rng=np.random.default_rng(1)))
    return model.to(device)


def small_model_loss(model, device):
    x = Tensor(np.random.default_rng(2).standard_normal((3, 1, 35, 55)).astype(np.float32),
               device=device)
    return F.patch_cross_entropy(model(x), 1, "sum") + F.l1_loss(x, x * 0.5)


def run_small_model(device):
    model = small_model(device)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    for _ in range(2):
        loss = small_model_loss(model, device)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item(), [p.numpy() for p in model.parameters()]


def test_small_model_trains_the_same_on_the_device_and_the_cpu(cuda_device):
    cpu_loss, cpu_params = run_small_model("cpu")
    with precision.tf32(False):   # strict fp32: the device must follow the CPU closely
        gpu_loss, gpu_params = run_small_model(cuda_device)
    assert gpu_loss == pytest.approx(cpu_loss, rel=1e-4)
    for a, b in zip(cpu_params, gpu_params):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_small_model_gradients_with_tf32_are_those_of_tf32_operands(cuda_device):
    """TF32 (the default for float32 convolutions) moves every gradient by a relative L2 error
    of order 1e-4 to 1e-3 (each conv operand rounded to 10 mantissa bits), not more."""
    grads = {}
    for device, tf32 in (("cpu", False), (cuda_device, True)):
        model = small_model(device)
        with precision.tf32(tf32):
            small_model_loss(model, device).backward()
        grads[device] = [to_numpy(p.grad) for p in model.parameters()]
    for cpu, gpu in zip(grads["cpu"], grads[cuda_device]):
        error = np.linalg.norm(gpu - cpu) / np.linalg.norm(cpu)
        assert error < 3e-3, error


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


def test_patch_loss_checks_host_labels_and_leaves_device_labels_to_the_kernel(cuda_device):
    """A label given from the host is range-checked for free; one already on the device is not
    read back (no wait for the GPU in a training step): its patch's loss is NaN instead."""
    logits = Tensor(np.zeros((1, 2, 2, 3), np.float32), device=cuda_device)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        F.patch_cross_entropy(logits, 2)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        F.cross_entropy(Tensor(np.zeros((2, 2), np.float32), device=cuda_device), [0, 5])
    labels = to_device(np.array([[[0, 1, 7], [1, 0, 1]]], np.int32), cuda_device)
    loss = to_numpy(F.patch_cross_entropy(logits, labels, "none").data)
    assert np.isnan(loss[0, 0, 2]) and np.isfinite(np.delete(loss.ravel(), 2)).all()
