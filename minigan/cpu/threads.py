"""Run an op's independent pieces on all the CPU's cores at once.

``over_images(n, task)`` splits images 0..n-1 into one contiguous range per core, runs
task(lo, hi) for each range in a thread pool and returns the results in range order. Meanwhile
the BLAS library is held to one thread per call (threadpoolctl): NumPy releases the GIL in its
copies and matrix products, so the cores work side by side on different images, copies
included, and no product waits for BLAS helper threads to meet. One image after another with
BLAS's own threads is slower, and far slower on a busy machine, where threads that wait for
each other lose their time slices. Without threadpoolctl, or on one core, it is task(0, n) in
the calling thread.

``blas_held()`` applies the same policy to a whole computation (a training run, an
estimator's training): BLAS runs one thread per call there too, so the matrix products outside
the convolutions do not spawn helper threads that fight the cores for time slices.
"""
import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

try:
    from threadpoolctl import ThreadpoolController
except ImportError:   # then everything runs in the calling thread
    ThreadpoolController = None

_pool = None   # (executor, threadpool controller), made on first use


def cores():
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def blas_held():
    """A context in which BLAS runs one thread per call (nothing changes without threadpoolctl)."""
    if ThreadpoolController is None:
        return contextlib.nullcontext()
    return _workers()[1].limit(limits=1, user_api="blas")


def _workers():
    global _pool
    if _pool is None:
        _pool = (ThreadPoolExecutor(cores(), thread_name_prefix="minigan-cpu"),
                 ThreadpoolController())
    return _pool


def over_images(n, task):
    """[task(lo, hi) for the ranges of a split of 0..n-1 into one range per core], in order."""
    parts = min(n, cores())
    if parts < 2 or ThreadpoolController is None:
        return [task(0, n)]
    bounds = [n * i // parts for i in range(parts + 1)]
    executor, controller = _workers()
    with controller.limit(limits=1, user_api="blas"):
        return list(executor.map(task, bounds[:-1], bounds[1:]))
