"""The CPU backend's split of a batch over the cores (``minigan.cpu.threads``); that the
fast convolution gives the same numbers split or not is in tests/test_op_conv2d.py."""
import pytest

from minigan.cpu import threads


@pytest.mark.parametrize("n", [1, 2, 5, 33])
def test_over_images_covers_every_image_once_in_order(n, monkeypatch):
    monkeypatch.setattr(threads, "cores", lambda: 4)
    ranges = threads.over_images(n, lambda lo, hi: (lo, hi))
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(ranges, ranges[1:]))
    assert len(ranges) == min(n, 4) or threads.ThreadpoolController is None


def test_without_threadpoolctl_everything_runs_in_the_calling_thread(monkeypatch):
    monkeypatch.setattr(threads, "ThreadpoolController", None)
    assert threads.over_images(7, lambda lo, hi: (lo, hi)) == [(0, 7)]


def test_blas_held_runs_blas_on_one_thread_and_gives_back_the_setting():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
              if pool["user_api"] == "blas"]
    with threads.blas_held():
        inside = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
                  if pool["user_api"] == "blas"]
    after = [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
             if pool["user_api"] == "blas"]
    assert inside and set(inside) == {1}
    assert after == before
