"""The NumPy references against plain, loop-based formulas (the specification in code)."""
import numpy as np
import pytest

from minigan import F, Tensor
from minigan.reference import conv2d_forward, max_pool2d_forward, patch_cross_entropy_forward

rng = np.random.default_rng(1)


def direct_conv2d(x, w, b, stride, padding):
    n, _, h, wd = x.shape
    f, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    ho, wo = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    y = np.zeros((n, f, ho, wo))
    for i in range(ho):
        for j in range(wo):
            window = xp[:, :, stride * i:stride * i + k, stride * j:stride * j + k]
            y[:, :, i, j] = np.einsum("ncuv,fcuv->nf", window, w) + b
    return y


@pytest.mark.task2_1
@pytest.mark.parametrize("kernel,stride,padding", [(1, 1, 0), (3, 1, 1), (3, 2, 1), (5, 2, 0), (7, 1, 3)])
def test_conv2d_matches_direct_loops(kernel, stride, padding):
    x, w, b = rng.standard_normal((2, 3, 35, 55)), rng.standard_normal((4, 3, kernel, kernel)), rng.standard_normal(4)
    np.testing.assert_allclose(conv2d_forward(x, w, b, stride, padding),
                               direct_conv2d(x, w, b, stride, padding), atol=1e-10)


@pytest.mark.task2_3
def test_max_pool2d_matches_direct_loops_and_stores_argmax():
    x = rng.standard_normal((2, 3, 9, 11))
    y, argmax = max_pool2d_forward(x, 3, 2, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            window = xp[:, :, 2 * i:2 * i + 3, 2 * j:2 * j + 3].reshape(2, 3, 9)
            np.testing.assert_array_equal(y[:, :, i, j], window.max(-1))
            np.testing.assert_array_equal(argmax[:, :, i, j], window.argmax(-1))
    assert argmax.dtype == np.int8


@pytest.mark.task2_4
def test_patch_cross_entropy_matches_log_softmax_formula():
    logits = rng.standard_normal((3, 2, 4, 5)) * 5
    labels = rng.integers(0, 2, (3, 4, 5))
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -np.take_along_axis(log_softmax, labels[:, None], axis=1)[:, 0]
    loss, dlogits = patch_cross_entropy_forward(logits, labels.astype(np.int32))
    np.testing.assert_allclose(loss, expected, rtol=1e-7, atol=1e-12)
    onehot = np.eye(2)[labels].transpose(0, 3, 1, 2)
    np.testing.assert_allclose(dlogits, np.exp(log_softmax) - onehot, atol=1e-12)
    assert F.patch_cross_entropy(Tensor(logits), labels, "sum").item() == pytest.approx(expected.sum())
    assert F.patch_cross_entropy(Tensor(logits), labels, "mean").item() == pytest.approx(expected.mean())


@pytest.mark.task2_4
def test_patch_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[[1000.0]], [[-1000.0]]]], dtype=np.float32)
    loss, dlogits = patch_cross_entropy_forward(logits, np.ones((1, 1, 1), np.int32))
    assert np.isfinite(loss).all() and loss[0, 0, 0] == pytest.approx(2000.0)
    assert np.isfinite(dlogits).all()


def test_patch_labels_accept_int_and_per_image_labels():
    logits = Tensor(rng.standard_normal((2, 2, 3, 3)))
    a = F.patch_cross_entropy(logits, 1).item()
    b = F.patch_cross_entropy(logits, np.array([1, 1])).item()
    c = F.patch_cross_entropy(logits, np.ones((2, 3, 3), dtype=np.int64)).item()
    assert a == pytest.approx(b) == pytest.approx(c)


@pytest.mark.parametrize("labels,error,match", [
    (np.full((2, 3, 3), 2), ValueError, r"labels must lie in \[0, 2\)"),
    (np.full((2, 3, 3), -1), ValueError, r"labels must lie in \[0, 2\)"),
    (np.zeros((2, 4, 3), dtype=int), ValueError, "labels must be an int, shape"),
    (np.zeros((2, 3, 3)), TypeError, "labels must be integers"),
])
def test_bad_patch_labels_are_clear_errors(labels, error, match):
    with pytest.raises(error, match=match):
        F.patch_cross_entropy(Tensor(np.zeros((2, 2, 3, 3))), labels)


@pytest.mark.parametrize("x_shape,w_shape,b_shape,match", [
    ((2, 3, 8, 8), (4, 2, 3, 3), (4,), "input has 3 channels but the weight expects 2"),
    ((3, 8, 8), (4, 3, 3, 3), (4,), r"input must be \(N, C, H, W\)"),
    ((2, 3, 8, 8), (4, 3, 3, 2), (4,), "square kernel"),
    ((2, 3, 8, 8), (4, 3, 3, 3), (5,), r"bias must have shape \(4,\)"),
    ((2, 3, 2, 2), (4, 3, 5, 5), (4,), "smaller than the 5x5 window"),
])
def test_bad_conv2d_shapes_are_clear_errors(x_shape, w_shape, b_shape, match):
    with pytest.raises(ValueError, match=match):
        F.conv2d(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32),
                 np.zeros(b_shape, np.float32), 1, 0)


def test_conv2d_dtype_mismatch_is_a_clear_error():
    with pytest.raises(TypeError, match="input float32, weight float64"):
        F.conv2d(np.zeros((1, 1, 5, 5), np.float32), np.zeros((1, 1, 3, 3), np.float64))


def test_max_pool2d_bad_arguments():
    with pytest.raises(ValueError, match=r"padding must be at most kernel_size // 2 = 1"):
        F.max_pool2d(np.zeros((1, 1, 5, 5)), 3, 1, 2)
    with pytest.raises(ValueError, match=r"input must be \(N, C, H, W\)"):
        F.max_pool2d(np.zeros((5, 5)), 3)
