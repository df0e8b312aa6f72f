"""The implementations of the kernel-backed ops stand in for each other: minigan.reference (NumPy,
the specification), minigan.reference.cpu (the CPU backend: the fast convolution beside the
reference's pooling and loss) and minigan.cuda (the kernels) expose the same ops, with the same
parameters, and an op picks the CPU backend or the kernels by the device of its arrays."""
import inspect

import numpy as np
import pytest

from minigan import cuda, reference
from minigan.backend import to_device
from minigan.functional.dispatch import implementation
from minigan.reference import cpu


def test_reference_and_cuda_expose_the_same_ops():
    assert reference.OPS == cuda.OPS
    for name in reference.OPS:
        assert hasattr(reference, name) and hasattr(cuda, name), name


@pytest.mark.parametrize("name", reference.OPS)
def test_each_op_has_the_same_parameters_in_both(name):
    ours = inspect.signature(getattr(reference, name)).parameters
    theirs = inspect.signature(getattr(cuda, name)).parameters
    positional = [p for p in theirs.values() if p.kind != inspect.Parameter.KEYWORD_ONLY]
    assert list(ours) == [p.name for p in positional], name


@pytest.mark.parametrize("name", reference.OPS)
def test_the_cpu_backend_has_each_op_with_the_references_parameters(name):
    ours = inspect.signature(getattr(reference, name)).parameters
    assert list(inspect.signature(getattr(cpu, name)).parameters) == list(ours), name


def test_an_op_dispatches_by_the_device_of_its_arrays(device):
    x = to_device(np.zeros((1, 1, 3, 3), np.float32), device)
    expected = cpu if device == "cpu" else cuda
    assert implementation(x) is expected
