import numpy as np
import pytest

from minigan import backend
from minigan.backend import devices


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


def test_unknown_device_name_is_rejected():
    with pytest.raises(ValueError, match="device must be one of"):
        backend.resolve_device("tpu")


def test_environment_variable_sets_default(monkeypatch):
    monkeypatch.setattr(devices, "_default_device", None)
    monkeypatch.setenv("MINIGAN_DEVICE", "cpu")
    assert backend.get_default_device() == "cpu"


def test_numpy_arrays_are_on_the_cpu():
    a = np.zeros(3)
    assert backend.device_of(a) == "cpu"
    assert backend.get_array_module(a) is np
    assert backend.to_device(a, "cpu") is a
