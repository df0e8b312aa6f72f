"""Step 6 - the convolution backward pass: col2im is the adjoint of im2col.

Teaches: with cols = im2col(x) and Y = W @ cols, the three gradients of a loss L are
matrix products again (G = dL/dY laid out as (F, N*Ho*Wo)):

    dW = G @ cols^T          dcols = W^T @ G, then dx = col2im(dcols)          db = sum of G

col2im adds every window's gradient back to the pixels it was copied from. That is exactly the
*adjoint* (transpose) of im2col: <im2col(x), d> = <x, col2im(d)> for all x and d, the identity
that makes dx right. Each backward pass is checked against central differences of the forward.
Opens: minigan/reference/conv_spec.py (col2im, conv2d_backward_*). Homework task 2.2.
Run: python tutorials/step06_conv_backward.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks  # noqa: E402
from minigan.reference import conv_spec as conv  # noqa: E402

check = Checks()
rng = np.random.default_rng(0)
k, stride, padding = 3, 2, 1
x = rng.standard_normal((2, 3, 7, 6))
w = rng.standard_normal((4, 3, k, k))
b = rng.standard_normal(4)
y = conv.conv2d_forward(x, w, b, stride, padding)
r = rng.standard_normal(y.shape)            # L = sum(r * y), so dL/dy = r


def loss(x, w, b):
    return float(np.sum(r * conv.conv2d_forward(x, w, b, stride, padding)))


# 1. The adjoint identity: overlapping windows (stride 2 < K = 3) make col2im *add*.
cols, _ = conv.im2col(x, k, stride, padding)
d = rng.standard_normal(cols.shape)
check.close("<im2col(x), d> = <x, col2im(d)>", np.sum(cols * d),
            np.sum(x * conv.col2im(d, x.shape, k, stride, padding)), rtol=1e-12)

# 2. The three gradients, and central differences (f(v + e) - f(v - e)) / 2e of the loss.
gx = conv.conv2d_backward_input(r, w, x.shape, stride, padding)
gw = conv.conv2d_backward_weight(r, x, w.shape, stride, padding)
gb = conv.conv2d_backward_bias(r)
print("shapes: dx", gx.shape, " dw", gw.shape, " db", gb.shape)


def numeric(values, name, eps=1e-6):
    grad = np.zeros_like(values[name])
    for index in np.ndindex(grad.shape):
        plus = {key: v.copy() for key, v in values.items()}
        minus = {key: v.copy() for key, v in values.items()}
        plus[name][index] += eps
        minus[name][index] -= eps
        grad[index] = (loss(**plus) - loss(**minus)) / (2 * eps)
    return grad


values = {"x": x, "w": w, "b": b}
check.close("dL/dx = col2im(W^T @ G) vs central differences", gx, numeric(values, "x"),
            rtol=1e-6, atol=1e-7)
check.close("dL/dw = G @ cols^T vs central differences", gw, numeric(values, "w"),
            rtol=1e-6, atol=1e-7)
check.close("dL/db = sum of G vs central differences", gb, numeric(values, "b"),
            rtol=1e-6, atol=1e-7)

# 3. The matrix form, written out: G as (F, N*Ho*Wo).
G = r.transpose(1, 0, 2, 3).reshape(4, -1)
check.close("dW is G @ cols^T", gw.reshape(4, -1), G @ cols.T, rtol=1e-12, atol=1e-12)
check.close("dx is col2im(W^T @ G)", gx,
            conv.col2im(w.reshape(4, -1).T @ G, x.shape, k, stride, padding), rtol=1e-12)
check.finish()
