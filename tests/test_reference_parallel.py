"""The CPU backend's split of a batch over the cores (``minigan.reference.parallel``)."""
import numpy as np
import pytest

from minigan.reference import conv, conv_fast, parallel


@pytest.mark.parametrize("n", [1, 2, 5, 33])
def test_over_images_covers_every_image_once_in_order(n, monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 4)
    ranges = parallel.over_images(n, lambda lo, hi: (lo, hi))
    assert ranges[0][0] == 0 and ranges[-1][1] == n
    assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(ranges, ranges[1:]))
    assert len(ranges) == min(n, 4) or parallel.ThreadpoolController is None


def test_without_threadpoolctl_everything_runs_in_the_calling_thread(monkeypatch):
    monkeypatch.setattr(parallel, "ThreadpoolController", None)
    assert parallel.over_images(7, lambda lo, hi: (lo, hi)) == [(0, 7)]


@pytest.mark.parametrize("split", [True, False], ids=["over-cores", "one-thread"])
def test_fast_conv2d_gives_the_same_numbers_split_or_not(split, monkeypatch):
    if not split:
        monkeypatch.setattr(parallel, "ThreadpoolController", None)
    monkeypatch.setattr(parallel, "cores", lambda: 3)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((5, 3, 9, 11)), rng.standard_normal((4, 3, 3, 3))
    b, gy = rng.standard_normal(4), rng.standard_normal((5, 4, 5, 6))
    for fast, plain in [(conv_fast.conv2d_forward(x, w, b, 2, 1),
                         conv.conv2d_forward(x, w, b, 2, 1)),
                        (conv_fast.conv2d_backward_weight(gy, x, w.shape, 2, 1),
                         conv.conv2d_backward_weight(gy, x, w.shape, 2, 1)),
                        (conv_fast.conv2d_backward_input(gy, w, x.shape, 2, 1),
                         conv.conv2d_backward_input(gy, w, x.shape, 2, 1))]:
        np.testing.assert_allclose(fast, plain, rtol=1e-12, atol=1e-11)
