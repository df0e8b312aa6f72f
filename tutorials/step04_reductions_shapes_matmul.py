"""Step 4 - reductions, shape ops and the matrix product, backwards.

Teaches: a reduction's backward spreads gy back over what it reduced (sum: to every element;
mean: divided by the count; max: to the maximum - shared equally between ties for the whole
max, to the one returned index for max along a dim). A shape op moves no value, so its
backward only moves gy back to where each element came from (reshape, transpose; indexing
scatters and *adds* where an index repeats). The matrix product y = a @ b has
ga = gy @ b^T and gb = a^T @ gy, summed over the batch axes that b was broadcast along.
Opens: minigan/functional/reduce.py, shape.py, linalg.py. Homework tasks 1.4 and 1.5.
Run: python tutorials/step04_reductions_shapes_matmul.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks  # noqa: E402
from minigan import F, Tensor  # noqa: E402

check = Checks()
rng = np.random.default_rng(0)


def grad_of(op, x, gy):
    """dL/dx for L = <gy, op(x)>: the engine's backward with dL/dy = gy."""
    x = Tensor(x, requires_grad=True)
    op(x).backward(gy)
    return x.grad


# 1. Reductions. x (2, 3, 4) summed over dim 1 -> (2, 4): every x[i, j, k] gets gy[i, k].
x = rng.standard_normal((2, 3, 4))
gy = rng.standard_normal((2, 4))
spread = np.repeat(gy[:, None, :], 3, axis=1)
check.close("sum(dim=1): gy copied to the 3 summed rows", grad_of(lambda t: t.sum(dim=1), x, gy),
            spread)
check.close("mean(dim=1): the same, divided by 3", grad_of(lambda t: t.mean(dim=1), x, gy),
            spread / 3)
ties = np.array([1.0, 3.0, 3.0, 2.0])
check.close("max(x): ties share the gradient", grad_of(F.max, ties, np.array(1.0)),
            [0, 0.5, 0.5, 0])
check.close("max(x, dim=0).values: the first maximum takes it",
            grad_of(lambda t: t.max(dim=0).values, ties, np.array(1.0)), [0, 1, 0, 0])

# 2. Shapes. y = x.permute(dims) puts x's dimension dims[i] at i; backward puts it back.
gy = rng.standard_normal((4, 2, 3))
check.close("permute(2, 0, 1) backward = the inverse permutation",
            grad_of(lambda t: t.permute(2, 0, 1), x, gy), gy.transpose(1, 2, 0))
check.close("reshape backward = reshape back", grad_of(lambda t: t.reshape(6, 4), x,
                                                         gy.reshape(6, 4)), gy.reshape(x.shape))
rows = np.array([0, 2, 2, 1])           # row 2 is picked twice: its gradient is the sum
m = rng.standard_normal((3, 5))
gy = rng.standard_normal((4, 5))
by_loops = np.zeros((3, 5))
for i, row in enumerate(rows):
    by_loops[row] += gy[i]
check.close("x[rows] backward scatters and adds", grad_of(lambda t: t[rows], m, gy), by_loops)

# 3. The matrix product, with a batch of a and one b shared by the batch.
a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
gy = rng.standard_normal((2, 3, 5))
ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
(ta @ tb).backward(gy)
check.close("ga = gy @ b^T", ta.grad, gy @ b.T, rtol=1e-12)
gb_loops = np.zeros((4, 5))
for n in range(2):                      # b was used by both batch entries: add both
    for i in range(3):
        gb_loops += np.outer(a[n, i], gy[n, i])
check.close("gb = sum over the batch of a^T @ gy", tb.grad, gb_loops, rtol=1e-12)
eps, numeric = 1e-6, np.zeros_like(b)
for index in np.ndindex(b.shape):
    plus, minus = b.copy(), b.copy()
    plus[index] += eps
    minus[index] -= eps
    numeric[index] = (np.sum(gy * (a @ plus)) - np.sum(gy * (a @ minus))) / (2 * eps)
check.close("gb vs central differences", tb.grad, numeric, rtol=1e-6, atol=1e-8)
check.finish()
