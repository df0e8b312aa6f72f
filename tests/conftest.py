"""Shared test set-up: the `gpu` marker, a skip for it where no CUDA device is usable, and the
`device` fixture that runs a test once per backend."""
import pytest

from minigan import backend


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device and CuPy (skipped without)")


def pytest_collection_modifyitems(config, items):
    if backend.cuda_available():
        return
    skip = pytest.mark.skip(reason=f"no usable CUDA device: {backend.cuda_unavailable_reason()}")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request):
    """The device an op test runs on: 'cpu', and 'cuda' where a GPU is usable (else skipped)."""
    return request.param
