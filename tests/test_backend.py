"""Devices: names, MINIGAN_DEVICE, the default device of new tensors and layers, moving arrays.

The CUDA device's behaviour is checked on the emulator (a device of its own that takes the same
path); a real GPU's availability is faked where a test needs one.
"""
import numpy as np
import pytest

from minigan import Tensor, backend, nn
from minigan.backend import devices


@pytest.fixture
def default_device(monkeypatch):
    """Forget the session's default device, so that MINIGAN_DEVICE is read again."""
    monkeypatch.setattr(devices, "_default_device", None)
    yield
    backend.set_default_device("cpu")


def test_cpu_device_uses_numpy():
    assert backend.xp_for("cpu") is np
    assert backend.resolve_device("cpu") == "cpu"


def test_auto_falls_back_to_cpu_without_gpu(monkeypatch):
    monkeypatch.setattr(devices, "cuda_unavailable_reason", lambda: "no GPU in this test")
    assert backend.resolve_device("auto") == "cpu"


def test_cuda_without_gpu_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(devices, "cuda_unavailable_reason", lambda: "no GPU in this test")
    with pytest.raises(RuntimeError, match="'cuda' was requested but cannot be used: no GPU"):
        backend.resolve_device("cuda")


def test_unknown_device_name_is_rejected_naming_the_allowed_ones():
    with pytest.raises(ValueError, match="device must be one of auto, cpu, cuda, emulator; "
                                         "got 'tpu'"):
        backend.resolve_device("tpu")


def test_environment_variable_sets_the_default(monkeypatch, default_device):
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    assert backend.get_default_device() == "cpu"


def test_cpu_means_the_cpu_even_where_a_gpu_is_usable(monkeypatch, default_device):
    monkeypatch.setattr(devices, "cuda_unavailable_reason", lambda: None)
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    assert backend.get_default_device() == "cpu"
    assert Tensor(np.ones(2)).device == "cpu"
    monkeypatch.setenv("MINIGAN_DEVICE", "auto")
    monkeypatch.setattr(devices, "_default_device", None)
    assert backend.get_default_device() == "cuda"


@pytest.mark.parametrize("value, error, message", [
    ("tpu", ValueError, "MINIGAN_DEVICE must be one of auto, cpu, cuda, emulator; got 'tpu'"),
    ("cuda", RuntimeError, "MINIGAN_DEVICE 'cuda' was requested but cannot be used: no GPU"),
])
def test_a_bad_environment_variable_is_one_clear_error(monkeypatch, default_device, value, error,
                                                       message):
    monkeypatch.setattr(devices, "cuda_unavailable_reason", lambda: "no GPU in this test")
    monkeypatch.setenv("MINIGAN_DEVICE", value)
    with pytest.raises(error, match=message):
        backend.get_default_device()


@pytest.mark.emulator
def test_new_tensors_and_layers_go_to_the_default_device(monkeypatch, default_device):
    monkeypatch.setenv("MINIGAN_DEVICE", "emulator")
    assert Tensor([1.0, 2.0]).device == "emulator"
    assert Tensor(np.zeros(3)).device == "emulator"
    layer = nn.Conv2d(1, 2, 3)
    assert layer.weight.device == "emulator" and layer.bias.device == "emulator"
    assert Tensor(np.zeros(3), device="cpu").device == "cpu"
    cpu = Tensor(np.ones(3), device="cpu")
    assert (cpu * 2).device == "cpu"   # an op's result stays where its inputs are


@pytest.mark.emulator
def test_the_trainer_follows_the_default_device(monkeypatch, default_device, tmp_path):
    from minigan.data.eyes import render_eyes
    from minigan.simgan import TrainConfig, train

    monkeypatch.setenv("MINIGAN_DEVICE", "emulator")
    config = TrainConfig.cpu_preset(steps=1, pretrain_refiner_steps=1,
                                    pretrain_discriminator_steps=0, batch_size=2, history_batches=1,
                                    refiner_channels=2, refiner_blocks=0,
                                    discriminator_width=0.125, n_synthetic=4, n_real=4)
    assert config.device is None
    train(config, render_eyes(4, "synthetic", seed=1), render_eyes(4, "photo", seed=2),
          tmp_path / "run", progress=False)
    import json
    assert json.loads((tmp_path / "run" / "config.json").read_text())["device_used"] == "emulator"


def test_numpy_arrays_are_on_the_cpu():
    a = np.zeros(3)
    assert backend.device_of(a) == "cpu"
    assert backend.get_array_module(a) is np
    assert backend.to_device(a, "cpu") is a
