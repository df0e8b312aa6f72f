"""The implementations of the kernel-backed ops stand in for each other: minigan.reference (the
NumPy specification), minigan.cpu (the CPU backend: the same with the cache-blocked
convolution) and minigan.cuda (the kernels) expose the same ops, with the same parameters; an
op picks the CPU backend or the kernels by the device of its arrays, and MINIGAN_CPU=reference
makes the CPU path run the specification."""
import inspect

import numpy as np
import pytest

from minigan import F, Tensor, cpu, cuda, reference
from minigan.backend import to_device
from minigan.reference import conv_spec
from minigan.functional.dispatch import implementation


def test_reference_cpu_backend_and_cuda_expose_the_same_ops():
    assert reference.OPS == cuda.OPS
    for name in reference.OPS:
        assert all(hasattr(module, name) for module in (reference, cpu, cuda)), name


@pytest.mark.parametrize("module", [cpu, cuda], ids=["cpu backend", "cuda"])
@pytest.mark.parametrize("name", reference.OPS)
def test_each_op_has_the_reference_parameters(name, module):
    ours = inspect.signature(getattr(reference, name)).parameters
    theirs = inspect.signature(getattr(module, name)).parameters
    positional = [p for p in theirs.values() if p.kind != inspect.Parameter.KEYWORD_ONLY]
    assert list(ours) == [p.name for p in positional], name


def test_an_op_dispatches_by_the_device_of_its_arrays(device):
    x = to_device(np.zeros((1, 1, 3, 3), np.float32), device)
    expected = cpu if device == "cpu" else cuda
    assert implementation(x) is expected


def test_minigan_cpu_reference_runs_the_specification(monkeypatch):
    calls = []
    real = conv_spec.im2col
    monkeypatch.setattr(conv_spec, "im2col", lambda *a: calls.append(a) or real(*a))
    x = Tensor(np.ones((1, 1, 4, 4), np.float32))
    w = Tensor(np.ones((1, 1, 3, 3), np.float32))
    F.conv2d(x, w, padding=1)
    assert not calls                       # the default CPU path is the blocked convolution
    monkeypatch.setenv("MINIGAN_CPU", "reference")
    assert implementation(np.zeros(1)) is reference
    y = F.conv2d(x, w, padding=1)
    assert calls and float(y.numpy()[0, 0, 1, 1]) == 9.0


def test_an_unknown_minigan_cpu_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("MINIGAN_CPU", "blas")
    with pytest.raises(ValueError, match="MINIGAN_CPU must be one of"):
        implementation(np.zeros(1))
