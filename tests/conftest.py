"""Shared test set-up: the devices tests run on, and the one place where tests are skipped for
want of one.

* ``device``: every device an op runs on: ``cpu``, ``emulator`` (minigan's CPU emulator of the
  CUDA device: the kernels' path, everywhere g++ is), ``cuda`` (a real GPU, when usable);
* ``cuda_device``: the CUDA devices only (``emulator``, ``cuda``);
* ``xp``: the array module of ``cuda_device`` (``minigan.emulator`` or ``cupy``);
* ``strict_fp32``: float32 convolutions on a CUDA device in strict fp32 (TF32 tensor cores,
  on by default, only where a test asks for them: fp32's error bounds hold for the FMA kernels).

Tests on ``cuda`` carry the ``gpu`` marker, tests on the emulator the ``emulator`` marker
(``pytest -m gpu`` runs the GPU ones); each is skipped, with the reason, where its device
cannot run. The homework tasks' markers (``task2_1``, ...) are registered from the manifest
(``minigan.grading.manifest``); pytest runs with ``--strict-markers``, so a test cannot carry
a marker the manifest does not know. Tests compute on the CPU unless they ask for a device: the
default device is set to ``cpu`` before every test, whatever ``MINIGAN_DEVICE`` says.
"""
import pytest

from minigan import backend
from minigan.backend import precision
from minigan.grading.manifest import all_tasks

MARKS = {"cuda": pytest.mark.gpu, "emulator": pytest.mark.emulator}


def _params(devices):
    return [pytest.param(d, marks=[MARKS[d]] if d in MARKS else [], id=d) for d in devices]


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA device and CuPy (skipped without)")
    config.addinivalue_line("markers", "emulator: runs on minigan's CPU emulator of the CUDA "
                                       "device (skipped without g++)")
    for task in all_tasks():
        config.addinivalue_line("markers", f"{task.marker}: homework task {task.id}, "
                                           f"{task.title}")


def pytest_collection_modifyitems(config, items):
    reasons = {marker: backend.unavailable_reason(device)
               for device, marker in (("cuda", "gpu"), ("emulator", "emulator"))}
    for item in items:
        for marker, reason in reasons.items():
            # the marker itself: item.keywords also holds the names of the folders above the
            # test, so a checkout in a folder named "gpu" would skip every test
            if reason is not None and item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=f"no {marker} device here: {reason}"))


@pytest.fixture(autouse=True)
def _compute_on_the_cpu_by_default():
    """Each test starts with the CPU as the default device, whatever MINIGAN_DEVICE says and
    whatever a program run in-process before it chose with --device."""
    backend.set_default_device("cpu")


@pytest.fixture(params=_params(backend.DEVICES))
def device(request):
    return request.param


@pytest.fixture(params=_params(("emulator", "cuda")))
def cuda_device(request):
    return request.param


@pytest.fixture
def xp(cuda_device):
    return backend.xp_for(cuda_device)


@pytest.fixture
def strict_fp32():
    with precision.tf32(False):
        yield
