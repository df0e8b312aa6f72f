"""Step 3 - broadcasting, and the backward passes of elementwise ops.

Teaches: a + b with a (4, 3) and b (3,) uses every b[j] four times (NumPy stretches b over the
rows), so dL/db[j] sums the gradients of those four copies: ``sum_to`` undoes broadcasting,
and it is the adjoint of it, <sum_to(g), v> = <g, broadcast(v)>. Then each elementwise op's
local derivative, against its formula and central differences: add, sub, mul, div, pow, exp,
log, tanh, sigmoid (whose forward pass must not overflow).
Opens: minigan/functional/elementwise.py. Homework tasks 1.2 and 1.3.
Run: python tutorials/step03_broadcasting_elementwise.py
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks  # noqa: E402
from minigan import F, Tensor  # noqa: E402
from minigan.functional.elementwise import sum_to  # noqa: E402

check = Checks()
rng = np.random.default_rng(0)

# 1. sum_to by loops: b (3,) and c (4, 1) were stretched to (4, 3).
g = rng.standard_normal((4, 3))
gb, gc = np.zeros(3), np.zeros((4, 1))
for i in range(4):
    for j in range(3):
        gb[j] += g[i, j]       # b[j] was copied to every row i
        gc[i, 0] += g[i, j]    # c[i, 0] was copied to every column j
check.close("sum_to(g, (3,)) vs loops", sum_to(g, (3,)), gb, rtol=1e-12)
check.close("sum_to(g, (4, 1)) vs loops", sum_to(g, (4, 1)), gc, rtol=1e-12)
v = rng.standard_normal((2, 1, 3))
big = rng.standard_normal((5, 2, 4, 3))
check.close("<sum_to(g), v> = <g, broadcast(v)>", np.sum(sum_to(big, v.shape) * v),
            np.sum(big * np.broadcast_to(v, big.shape)), rtol=1e-12)


# 2. Each op's gradient: the engine, the formula, and central differences. L = <w, f(a, b)>,
#    so dL/dy = w and backward(w) gives dL/da, dL/db.
def engine(op, *arrays):
    tensors = [Tensor(x, requires_grad=True) for x in arrays]
    op(*tensors).backward(w)
    return [t.grad for t in tensors]


def central(op, arrays, k, eps=1e-6):
    grad = np.zeros_like(arrays[k])
    for index in np.ndindex(grad.shape):
        plus, minus = [x.copy() for x in arrays], [x.copy() for x in arrays]
        plus[k][index] += eps
        minus[k][index] -= eps
        grad[index] = (np.sum(w * op(*map(Tensor, plus)).numpy())
                       - np.sum(w * op(*map(Tensor, minus)).numpy())) / (2 * eps)
    return grad


a, b = rng.standard_normal((4, 3)), rng.uniform(0.5, 2.0, 3)      # b > 0 for pow's log b
w = rng.standard_normal((4, 3))
binary = {"add": (F.add, w, w), "sub": (F.sub, w, -w), "mul": (F.mul, w * b, w * a),
          "div": (F.div, w / b, -w * a / b ** 2),
          "pow b ** a": (lambda a, b: b ** a, w * b ** a * np.log(b), w * a * b ** (a - 1))}
for name, (op, ga, gb) in binary.items():
    got_a, got_b = engine(op, a, b)
    check.close(f"{name}: da vs formula", got_a, ga, rtol=1e-10, atol=1e-12)
    check.close(f"{name}: db vs formula summed over rows", got_b, gb.sum(axis=0), rtol=1e-10)
    check.close(f"{name}: db vs central differences", got_b, central(op, [a, b], 1), rtol=1e-6)

x = rng.uniform(0.5, 2.0, (4, 3))
unary = {"exp": (F.exp, np.exp(x)), "log": (F.log, 1 / x),
         "tanh": (F.tanh, 1 - np.tanh(x) ** 2),
         "sigmoid": (F.sigmoid, np.exp(-x) / (1 + np.exp(-x)) ** 2)}
for name, (op, derivative) in unary.items():
    check.close(f"{name}: dx vs formula", engine(op, x)[0], w * derivative, rtol=1e-10)
    check.close(f"{name}: dx vs central differences", engine(op, x)[0], central(op, [x], 0),
                rtol=1e-6, atol=1e-9)

# 3. 1 / (1 + e^-x) overflows (e^1000) for x = -1000; minigan's sigmoid computes
#    (1 + tanh(x/2)) / 2, which cannot.
def naive_sigmoid(x):
    with np.errstate(over="raise"):
        return 1 / (1 + np.exp(-x))


far = np.array([-1000.0, 1000.0])
check.raises("1 / (1 + e^-x) overflows at x = -1000", FloatingPointError,
             lambda: naive_sigmoid(far))
with np.errstate(over="raise"):
    stable = F.sigmoid(Tensor(far)).numpy()
check.close("sigmoid(-1000) = 0, sigmoid(1000) = 1, no overflow", stable, [0.0, 1.0])
check.finish()
