"""Step 1 - reverse-mode autograd by hand, then by minigan.

Teaches: the chain rule by hand = what the engine computes = central differences.
Opens: minigan/autograd/ (Tensor, backward, gradcheck).
Run: python tutorials/step01_autograd.py

For y = sum(tanh(w * x + b)) the chain rule gives, with z = w*x + b,

    dy/dz = 1 - tanh(z)^2,   dy/dw = sum(dy/dz * x),   dy/db = sum(dy/dz)

minigan records every op in a graph while it computes y; ``y.backward()`` then walks that
graph backwards and applies each op's local derivative - exactly the lines below.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks  # noqa: E402
from minigan import Tensor, gradcheck  # noqa: E402

check = Checks()
x = np.linspace(-1, 1, 5)
w, b = 0.7, -0.2

# By hand.
z = w * x + b
dy_dz = 1 - np.tanh(z) ** 2
by_hand = (dy_dz * x).sum(), dy_dz.sum()
print("by hand : dy/dw = %.6f, dy/db = %.6f" % by_hand)

# By the engine.
tw = Tensor(np.array(w), requires_grad=True)
tb = Tensor(np.array(b), requires_grad=True)
y = (tw * Tensor(x) + tb).tanh().sum()
y.backward()
print("minigan : dy/dw = %.6f, dy/db = %.6f" % (tw.grad, tb.grad))
check.close("dy/dw: engine vs by hand", tw.grad, by_hand[0], rtol=1e-12)
check.close("dy/db: engine vs by hand", tb.grad, by_hand[1], rtol=1e-12)

# And checked against central differences (f(w + eps) - f(w - eps)) / 2 eps; gradcheck raises
# when they disagree.
gradcheck(lambda w, b: (w * Tensor(x) + b).tanh().sum(), [np.array(w), np.array(b)])
check.true("gradcheck: engine vs central differences", True, "(it raises on a mismatch)")
check.finish()
