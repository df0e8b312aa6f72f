"""max_pool2d: x (N, C, H, W) -> y (N, C, Ho, Wo), the maximum of each K x K window (padding
never wins), with its argmax (int8, ky K + kx; the first of tied elements, NaN wins).

The NumPy reference against loops, forward and backward; the op's float64 gradient check on
every device; the kernels against the reference on every CUDA device; the argument checks.
"""
import math

import numpy as np
import pytest

from minigan import F, cuda, gradcheck, reference
from minigan.backend import to_numpy
from minigan.cuda import checks
from minigan.reference import pool_spec as pool

from op_cases import (assert_close, central_differences, output_size, per_device, pool_id,
                      randn, sampled_indices)


def dot(a, b):
    return float(np.sum(a * b))


# --- the reference ------------------------------------------------------------------------------

@pytest.mark.task2_3
@pytest.mark.parametrize("shape,kernel,stride,padding", [
    ((2, 3, 9, 11), 3, 2, 1), ((2, 3, 9, 14), 3, 1, 1), ((1, 2, 7, 9), 2, 2, 0),
    ((1, 1, 35, 55), 3, 1, 1), ((2, 2, 8, 8), 5, 3, 2), ((1, 2, 5, 3), 1, 1, 0)])
def test_max_pool2d_matches_direct_loops_and_stores_argmax(shape, kernel, stride, padding):
    x = randn(*shape)
    x[0, 0, 1, :3] = 5.0              # a tie inside some windows: the first one wins
    x[-1, -1, 2, 1] = np.nan          # a NaN wins its windows, as in numpy.argmax
    y, argmax = reference.max_pool2d_forward(x, kernel, stride, padding)
    gy = randn(*y.shape)
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    gpad = np.zeros_like(xp)
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            window = xp[:, :, stride * i:stride * i + kernel, stride * j:stride * j + kernel]
            window = window.reshape(*shape[:2], kernel * kernel)
            np.testing.assert_array_equal(y[:, :, i, j], window.max(-1))
            np.testing.assert_array_equal(argmax[:, :, i, j], window.argmax(-1))
            for n, c in np.ndindex(*shape[:2]):
                u, v = divmod(window[n, c].argmax(), kernel)
                gpad[n, c, stride * i + u, stride * j + v] += gy[n, c, i, j]
    assert argmax.dtype == np.int8 and y.dtype == x.dtype
    np.testing.assert_allclose(reference.max_pool2d_backward(gy, argmax, shape, kernel, stride,
                                                             padding),
                               gpad[:, :, p:p + shape[2], p:p + shape[3]], atol=1e-12)


@pytest.mark.task2_3
@pytest.mark.parametrize("kernel,stride,padding", [(3, 1, 1), (3, 2, 1), (2, 2, 0), (3, 2, 0),
                                                   (2, 2, 1), (5, 1, 2)])
def test_max_pool2d_backward_sends_each_gradient_to_its_windows_argmax(kernel, stride, padding):
    x = randn(2, 3, 7, 9)
    y, argmax = pool.max_pool2d_forward(x, kernel, stride, padding)
    gy = randn(*y.shape)
    gpad = np.zeros((2, 3, 7 + 2 * padding, 9 + 2 * padding))
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            u, v = np.divmod(argmax[:, :, i, j].astype(int), kernel)
            for n in range(2):
                for c in range(3):
                    gpad[n, c, stride * i + u[n, c], stride * j + v[n, c]] += gy[n, c, i, j]
    gx = pool.max_pool2d_backward(gy, argmax, x.shape, kernel, stride, padding)
    np.testing.assert_allclose(gx, gpad[:, :, padding:padding + 7, padding:padding + 9],
                               rtol=1e-12, atol=1e-12)
    assert dot(y, gy) == pytest.approx(dot(x, gx), rel=1e-12)   # y is x at the argmaxes


@pytest.mark.task2_3
def test_max_pool2d_ties_pick_the_first_window_element_and_nan_wins():
    _, argmax = pool.max_pool2d_forward(np.ones((1, 1, 4, 4)), 2, 2, 0)
    np.testing.assert_array_equal(argmax, 0)
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 0] = np.nan
    y, argmax = pool.max_pool2d_forward(x, 2, 2, 0)
    assert np.isnan(y[0, 0, 0, 0]) and argmax[0, 0, 0, 0] == 2


@pytest.mark.task2_3
def test_max_pool2d_never_picks_the_padding():
    x = -np.abs(randn(1, 2, 5, 6)) - 1   # all negative: padding must not win
    y, argmax = pool.max_pool2d_forward(x, 3, 2, 1)
    assert (y < -1).all() and argmax.dtype == np.int8


# --- the op: float64 gradient check on every device ---------------------------------------------

@pytest.mark.task2_5
@pytest.mark.parametrize("kernel,stride,padding", [(3, 1, 1), (3, 2, 1), (2, 2, 0), (3, 1, 0),
                                                   (3, 2, 0)])
def test_max_pool2d_gradcheck(kernel, stride, padding, device):
    shape = per_device(device, cpu=(2, 3, 7, 9), cuda=(1, 2, 5, 6))
    x = np.random.default_rng(0).permutation(math.prod(shape)).reshape(shape) / 10.0  # no ties
    gradcheck(lambda x: F.max_pool2d(x, kernel, stride, padding), [x], device=device)


# --- the kernels against the reference, on every CUDA device ------------------------------------

DTYPES = [np.float32, np.float64]

# (N, C, H, W, K, stride, padding)
KERNEL_SHAPES = [
    (2, 64, 9, 14, 3, 1, 1),         # discriminator: maxpool 3x3 s1 p1
    (2, 3, 35, 55, 3, 2, 0),         # 3x3 s2
    (2, 3, 35, 55, 3, 2, 1),         # 3x3 s2 with padding
    (1, 2, 7, 9, 2, 2, 0),           # 2x2 s2
    (1, 2, 7, 9, 2, 2, 1),           # 2x2 s2 with padding
    (3, 1, 5, 5, 5, 1, 2),           # window as large as the image
    (1, 1, 1, 1, 1, 1, 0),
    (1, 2, 12, 13, 11, 3, 5),        # K = 11, the largest an int8 argmax holds
]


def pool_inputs(shape, dtype, seed=0):
    """x and an output gradient gy of the pooling case ``shape``."""
    n, c, h, w, k, s, p = shape
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((n, c, h, w)).astype(dtype)
    gy = gen.standard_normal((n, c, output_size(h, k, s, p), output_size(w, k, s, p)))
    return x, gy.astype(dtype)


@pytest.mark.task4_3
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES, ids=pool_id)
def test_max_pool2d_forward_kernel_matches_the_reference(shape, dtype, xp):
    x, _ = pool_inputs(shape, dtype)
    k, s, p = shape[4:]
    y, argmax = cuda.max_pool2d_forward(xp.asarray(x), k, s, p)
    y_ref, argmax_ref = reference.max_pool2d_forward(x, k, s, p)
    assert argmax.dtype == np.int8 and y.dtype == dtype
    np.testing.assert_array_equal(to_numpy(y), y_ref)
    np.testing.assert_array_equal(to_numpy(argmax), argmax_ref)


@pytest.mark.task4_3
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", KERNEL_SHAPES, ids=pool_id)
def test_max_pool2d_backward_kernel_matches_the_reference(shape, dtype, xp):
    x, gy = pool_inputs(shape, dtype)
    k, s, p = shape[4:]
    _, argmax = reference.max_pool2d_forward(x, k, s, p)
    gx = cuda.max_pool2d_backward(xp.asarray(gy), xp.asarray(argmax), x.shape, k, s, p)
    expected = reference.max_pool2d_backward(gy.astype(np.float64), argmax, x.shape, k, s, p)
    scale = reference.max_pool2d_backward(np.abs(gy).astype(np.float64), argmax, x.shape, k, s, p)
    assert_close(gx, expected, scale, math.ceil(k / s) ** 2, dtype, "max_pool2d_backward")


@pytest.mark.task4_3
@pytest.mark.parametrize("padding", [0, 1])
def test_max_pool2d_kernel_ties_pick_the_first_window_element(padding, xp):
    x = np.ones((1, 2, 6, 7), dtype=np.float32)
    y, argmax = cuda.max_pool2d_forward(xp.asarray(x), 3, 2, padding)
    _, argmax_ref = reference.max_pool2d_forward(x, 3, 2, padding)
    np.testing.assert_array_equal(to_numpy(argmax), argmax_ref)


@pytest.mark.task4_3
def test_max_pool2d_kernels_handle_more_planes_than_one_grid_column(xp):
    x, gy = pool_inputs((1, 70000, 2, 3, 2, 1, 0), np.float32)
    y, argmax = cuda.max_pool2d_forward(xp.asarray(x), 2, 1, 0)
    y_ref, argmax_ref = reference.max_pool2d_forward(x, 2, 1, 0)
    np.testing.assert_array_equal(to_numpy(y), y_ref)
    gx = cuda.max_pool2d_backward(xp.asarray(gy), argmax, x.shape, 2, 1, 0)
    np.testing.assert_allclose(to_numpy(gx),
                               reference.max_pool2d_backward(gy, argmax_ref, x.shape, 2, 1, 0),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.task4_3
def test_max_pool2d_backward_kernel_is_the_gradient_of_the_forward_kernel(xp):
    """float64 central differences of sum(r * max_pool2d(x)), all on the device, against the
    backward kernel at 20 sampled elements of x."""
    x, r = pool_inputs((2, 3, 7, 8, 3, 2, 1), np.float64, seed=5)
    _, argmax = cuda.max_pool2d_forward(xp.asarray(x), 3, 2, 1)
    analytic = to_numpy(cuda.max_pool2d_backward(xp.asarray(r), argmax, x.shape, 3, 2, 1))

    def loss():
        return float((cuda.max_pool2d_forward(xp.asarray(x), 3, 2, 1)[0] * xp.asarray(r)).sum())

    indices = sampled_indices(x.shape, 20, seed=6)
    numeric = central_differences(loss, x, 1e-7, indices)
    for index in indices:
        assert abs(numeric[index] - analytic[index]) <= 1e-6 * (1 + abs(numeric[index])), index


# --- argument checks --------------------------------------------------------------------------

def test_max_pool2d_padding_over_half_the_window_is_a_clear_error():
    with pytest.raises(ValueError, match=r"padding must be at most kernel_size // 2 = 1"):
        F.max_pool2d(np.zeros((1, 1, 5, 5)), 3, 1, 2)


def test_max_pool2d_of_a_wrong_rank_is_a_clear_error():
    with pytest.raises(ValueError, match=r"input must be \(N, C, H, W\)"):
        F.max_pool2d(np.zeros((5, 5)), 3)


@pytest.mark.parametrize("call", [
    lambda x: cuda.max_pool2d_forward(x, 3, 1, 1),
    lambda x: cuda.max_pool2d_backward(x, np.zeros(x.shape, np.int8), x.shape, 3, 1, 1),
], ids=["pool_forward", "pool_backward"])
def test_numpy_array_to_a_pool_kernel_wrapper_is_a_type_error(call):
    with pytest.raises(TypeError, match="must be an array on a CUDA device"):
        call(np.zeros((2, 3, 7, 9), np.float32))


def test_check_gives_the_geometry_of_the_discriminator_pool():
    g = checks.check_max_pool2d_forward(np.zeros((2, 64, 9, 14), np.float32), 3, 1, 1)
    assert (g.Ho, g.Wo) == (9, 14)


def test_check_refuses_a_kernel_too_large_for_an_int8_argmax():
    with pytest.raises(ValueError, match="kernel_size must be <= 11"):
        checks.check_max_pool2d_forward(np.zeros((1, 1, 20, 20), np.float32), 12, 1, 0)


def test_check_refuses_padding_over_half_the_window():
    with pytest.raises(ValueError, match=r"padding must be at most kernel_size // 2 = 1"):
        checks.check_max_pool2d_forward(np.zeros((1, 1, 9, 9), np.float32), 3, 1, 2)


def test_check_refuses_an_empty_batch():
    with pytest.raises(ValueError, match="empty batch"):
        checks.check_max_pool2d_forward(np.zeros((0, 1, 9, 9), np.float32), 3, 1, 1)


def test_backward_check_needs_an_int8_argmax():
    gy = np.zeros((1, 2, 9, 9), np.float32)
    with pytest.raises(TypeError, match="argmax must be int8"):
        checks.check_max_pool2d_backward(gy, np.zeros(gy.shape, np.int64), (1, 2, 9, 9), 3, 1, 1)


def test_backward_check_refuses_an_argmax_of_another_shape():
    gy = np.zeros((1, 2, 9, 9), np.float32)
    with pytest.raises(ValueError, match=r"argmax must have the pooled shape \(1, 2, 9, 9\)"):
        checks.check_max_pool2d_backward(gy, np.zeros((1, 2, 9, 8), np.int8), (1, 2, 9, 9),
                                         3, 1, 1)


def test_kernel_wrapper_refuses_an_empty_batch(xp):
    x = np.zeros((1, 3, 5, 5), np.float32)
    with pytest.raises(ValueError, match="empty batch"):
        cuda.max_pool2d_forward(xp.asarray(x[:0]), 3, 1, 1)
