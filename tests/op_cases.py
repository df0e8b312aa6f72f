"""What the op test files (``tests/test_op_*.py``) share: input makers, the float error bound of
a kernel against its float64 reference, central differences, and the size of a gradient check
on each device.

Shapes of a convolution case are ``(N, C, H, W, F, K, stride, padding)``: x (N, C, H, W),
weight (F, C, K, K), y (N, F, Ho, Wo) with Ho = (H + 2 padding - K) // stride + 1.
"""
import numpy as np

from minigan.backend import to_numpy
from minigan.benchmarks.kernel_lab import error_bound

rng = np.random.default_rng(0)


def randn(*shape):
    return rng.standard_normal(shape)


def positive(*shape):
    """Values in [0.5, 2): safe for log, sqrt and division."""
    return rng.uniform(0.5, 2.0, shape)


def distinct(*shape):
    """Values with no ties and no two closer than 0.1 (so max, min and clamp are
    differentiable at them)."""
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 10.0 - 1.0


def f64(*arrays):
    return [a.astype(np.float64) for a in arrays]


def conv_id(shape):
    """A convolution case's test id: (2, 1, 35, 55, 64, 3, 1, 1) -> n2-c1-35x55-f64-k3-s1-p1."""
    n, c, h, w, f, k, s, p = shape
    return f"n{n}-c{c}-{h}x{w}-f{f}-k{k}-s{s}-p{p}"


def pool_id(shape):
    """A pooling case's test id: (N, C, H, W, K, stride, padding) -> n2-c64-9x14-k3-s1-p1."""
    n, c, h, w, k, s, p = shape
    return f"n{n}-c{c}-{h}x{w}-k{k}-s{s}-p{p}"


def logits_id(shape):
    """A (N, C, H, W) case's test id: n2-c2-9x14."""
    n, c, h, w = shape
    return f"n{n}-c{c}-{h}x{w}"


def shapes_id(shapes):
    """The test id of a tuple of operand shapes: ((3, 4), (4,), ()) -> 3x4_4_scalar."""
    return "_".join("x".join(map(str, shape)) or "scalar" for shape in shapes)


def output_size(size, kernel, stride, padding):
    """(size + 2 padding - kernel) // stride + 1, the length of a sliding window's output."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_inputs(shape, dtype, seed=0):
    """x, weight, bias and an output gradient gy of the convolution case ``shape``."""
    n, c, h, w, f, k, s, p = shape
    gen = np.random.default_rng(seed)
    x = gen.standard_normal((n, c, h, w)).astype(dtype)
    wt = gen.standard_normal((f, c, k, k)).astype(dtype)
    b = gen.standard_normal(f).astype(dtype)
    gy = gen.standard_normal((n, f, output_size(h, k, s, p), output_size(w, k, s, p)))
    return x, wt, b, gy.astype(dtype)


def assert_close(actual, expected, scale, reduction, dtype, what):
    """A kernel's result against its float64 reference, elementwise:

        |actual - expected| <= eps * (4 sqrt(L) + 4) * scale  (+ the smallest normal number)

    with eps of ``dtype``, L = ``reduction`` (the terms summed per output) and ``scale`` the
    same op applied to |inputs| (the sum of |terms|); the bound is ``kernel_lab.error_bound``.
    """
    actual = to_numpy(actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == dtype, f"{what}: dtype {actual.dtype} != {np.dtype(dtype)}"
    bound = error_bound(scale, reduction, dtype)
    error = np.abs(actual.astype(np.float64) - expected)
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert np.all(error <= bound), (f"{what}: error {error[worst]:.3g} > bound {bound[worst]:.3g} "
                                    f"at {worst}")


def central_differences(loss, array, eps, indices=None):
    """(loss() with array[i] + eps  -  loss() with array[i] - eps) / (2 eps) for each index i
    of ``indices`` (every element by default): ``loss`` reads ``array``, which is changed in
    place and restored. Returns an array of ``array``'s shape, zero where not evaluated."""
    grad = np.zeros_like(array)
    for i in (np.ndindex(array.shape) if indices is None else indices):
        saved = array[i]
        array[i] = saved + eps
        plus = loss()
        array[i] = saved - eps
        minus = loss()
        array[i] = saved
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def sampled_indices(shape, count, seed):
    """``count`` distinct indices of an array of ``shape`` (all when it has fewer), drawn with
    ``seed``."""
    size = int(np.prod(shape))
    flat = np.random.default_rng(seed).choice(size, size=min(count, size), replace=False)
    return [np.unravel_index(k, shape) for k in flat]


def per_device(device, cpu, cuda):
    """``cpu`` on the CPU, ``cuda`` on a CUDA device. A gradient check evaluates the op twice
    per input element; on the emulator each evaluation is a kernel launch of about a
    millisecond, so a kernel-backed op is checked there on a smaller case of the same
    configuration (the kernels themselves are held to the references on large shapes)."""
    return cpu if device == "cpu" else cuda
