"""Shared test set-up: the `gpu` marker, a skip for it where no CUDA device is usable, and each
test's own default device (a program run in-process makes its --device the default)."""
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


try:
    SESSION_DEVICE = backend.get_default_device()
except (ValueError, RuntimeError):  # a MINIGAN_DEVICE the tests of it will report
    SESSION_DEVICE = None


@pytest.fixture(autouse=True)
def _session_default_device():
    """Each test starts on the session's default device, whatever a program run before it in
    this process chose with --device."""
    if SESSION_DEVICE is not None:
        backend.set_default_device(SESSION_DEVICE)
