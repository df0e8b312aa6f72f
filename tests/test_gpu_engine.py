"""The engine on a CUDA device (the emulator; a GPU when usable) gives what it gives on the CPU:
a small model trains the same, SimGAN's gradients match, state dicts move between devices.
Each op's own tests on the devices are in tests/test_op_*.py."""
import numpy as np
import pytest

from minigan import F, Tensor, nn, optim
from minigan.backend import precision, to_numpy


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
    return loss.item(), [p.detach().numpy() for p in model.parameters()]


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


def test_state_dict_from_the_device_loads_on_cpu(tmp_path, cuda_device):
    model = nn.Conv2d(2, 3, 3).to(cuda_device)
    model.save(tmp_path / "m.npz")
    cpu = nn.Conv2d(2, 3, 3).load(tmp_path / "m.npz")
    np.testing.assert_array_equal(cpu.weight.detach().numpy(), model.weight.detach().numpy())


@pytest.mark.usefixtures("strict_fp32")
def test_simgan_gradients_on_the_device_match_the_cpu(cuda_device):
    """Dispatch end to end: R and D on device arrays run the kernels through minigan's ops, and
    every parameter gradient of the refiner and discriminator losses matches the NumPy path."""
    from minigan.simgan import losses, models

    images = np.random.default_rng(0).uniform(-1, 1, (2, 3, 1, 12, 16)).astype(np.float32)
    grads = {}
    for device in ("cpu", cuda_device):
        refiner = models.Refiner(channels=8, blocks=1, rng=np.random.default_rng(1)).to(device)
        discriminator = models.Discriminator(width=0.25, rng=np.random.default_rng(2)).to(device)
        synthetic, real = Tensor(images[0], device=device), Tensor(images[1], device=device)
        refined = refiner(synthetic)
        loss = (losses.realism_loss(discriminator(refined))
                + losses.self_regularization(refined, synthetic, 0.5)
                + losses.discriminator_loss(discriminator(refined), discriminator(real)))
        loss.backward()
        grads[device] = [to_numpy(p.grad)
                         for p in list(refiner.parameters()) + list(discriminator.parameters())]
    for cpu_grad, gpu_grad in zip(grads["cpu"], grads[cuda_device]):
        np.testing.assert_allclose(gpu_grad, cpu_grad, rtol=1e-3,
                                   atol=1e-4 * float(np.abs(cpu_grad).max()))
