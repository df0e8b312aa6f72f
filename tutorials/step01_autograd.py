"""Step 1 - reverse-mode autograd by hand, then by minigan.

Run: python tutorials/step01_autograd.py

For y = sum(tanh(w * x + b)) the chain rule gives, with z = w*x + b,

    dy/dz = 1 - tanh(z)^2,   dy/dw = sum(dy/dz * x),   dy/db = sum(dy/dz)

minigan records every op in a graph while it computes y; ``y.backward()`` then walks that
graph backwards and applies each op's local derivative - exactly the lines below.
"""
import numpy as np

from minigan import Tensor, gradcheck

x = np.linspace(-1, 1, 5)
w, b = 0.7, -0.2

# By hand.
z = w * x + b
dy_dz = 1 - np.tanh(z) ** 2
print("by hand : dy/dw = %.6f, dy/db = %.6f" % ((dy_dz * x).sum(), dy_dz.sum()))

# By the engine.
tw = Tensor(np.array(w), requires_grad=True)
tb = Tensor(np.array(b), requires_grad=True)
y = (tw * Tensor(x) + tb).tanh().sum()
y.backward()
print("minigan : dy/dw = %.6f, dy/db = %.6f" % (tw.grad, tb.grad))

# And checked against central differences (f(w + eps) - f(w - eps)) / 2 eps.
gradcheck(lambda w, b: (w * Tensor(x) + b).tanh().sum(), [np.array(w), np.array(b)])
print("gradcheck: analytic and numerical gradients agree")
