"""Shared test set-up: the `gpu` marker, and a skip for it where no CUDA device is usable."""
import pytest

from minigan import backend


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device and CuPy (skipped without)")


def pytest_collection_modifyitems(config, items):
    if backend.cuda_available():
        return
    skip = pytest.mark.skip(reason=f"no usable CUDA device: {backend.cuda_unavailable_reason()}")
    for item in items:
        # The marker itself: item.keywords also holds the names of the folders above the test,
        # so a checkout in a folder named "gpu" would skip every test.
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)
