"""Step 7 - max-pooling, and why the forward pass keeps an argmax.

Teaches: sliding K x K windows (a strided *view*, no copy); the maximum of each window and where
it was (u*K + v, stored as int8: K <= 11); the backward pass as a scatter of each output's
gradient to that one pixel; ties (the first in row-major order wins, as numpy.argmax) and NaN
(a NaN wins, so it propagates); padding counts as -inf and is never picked.
Opens: minigan/reference/pool_spec.py. Homework task 2.3.
Run: python tutorials/step07_maxpool_argmax.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks  # noqa: E402
from minigan.reference.pool_spec import max_pool2d_backward, max_pool2d_forward  # noqa: E402

check = Checks()
rng = np.random.default_rng(0)
k, s, p = 3, 2, 1
x = rng.permutation(2 * 3 * 7 * 9).reshape(2, 3, 7, 9) / 10.0   # distinct values: no ties
y, argmax = max_pool2d_forward(x, k, s, p)
print("x", x.shape, "-> y", y.shape, " argmax", argmax.dtype)

# The definition, one window at a time.
xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
loops, where = np.zeros(y.shape), np.zeros(y.shape, dtype=int)
for i in range(y.shape[2]):
    for j in range(y.shape[3]):
        window = xpad[:, :, s * i:s * i + k, s * j:s * j + k].reshape(2, 3, k * k)
        loops[:, :, i, j], where[:, :, i, j] = window.max(-1), window.argmax(-1)
check.close("max of each window vs loops", y, loops)
check.true("argmax = u*K + v of the max, int8", np.array_equal(argmax, where)
           and argmax.dtype == np.int8)

# Backward: y = x at the argmaxes, so dL/dx is dL/dy scattered there (summed when two windows
# pick the same pixel, as overlapping windows can).
r = rng.standard_normal(y.shape)
gx = max_pool2d_backward(r, argmax, x.shape, k, s, p)
eps, numeric = 1e-6, np.zeros_like(x)
for index in np.ndindex(x.shape):
    plus, minus = x.copy(), x.copy()
    plus[index] += eps
    minus[index] -= eps
    numeric[index] = (np.sum(r * max_pool2d_forward(plus, k, s, p)[0])
                      - np.sum(r * max_pool2d_forward(minus, k, s, p)[0])) / (2 * eps)
check.close("dL/dx vs central differences", gx, numeric, rtol=1e-6, atol=1e-8)
check.true("only argmax pixels get a gradient", np.count_nonzero(gx) <= y.size,
           f"{np.count_nonzero(gx)} of {x.size} pixels")

# Ties, NaN, padding.
_, tied = max_pool2d_forward(np.ones((1, 1, 4, 4)), 2, 2, 0)
check.true("ties: the first window element wins", (tied == 0).all())
with_nan = np.zeros((1, 1, 2, 2))
with_nan[0, 0, 1, 1] = np.nan
y_nan, a_nan = max_pool2d_forward(with_nan, 2, 2, 0)
check.true("a NaN wins (and propagates)", np.isnan(y_nan).all() and a_nan[0, 0, 0, 0] == 3)
negative = -1 - rng.random((1, 1, 3, 3))
check.true("padding (-inf) is never the maximum", (max_pool2d_forward(negative, 3, 1, 1)[0]
                                                   < -1).all())
check.finish()
