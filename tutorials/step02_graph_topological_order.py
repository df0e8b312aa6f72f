"""Step 2 - the graph, and the order in which backward() walks it.

Teaches: an op is a ``Function``; calling it runs ``forward`` on arrays and links the output to
the op (``y.creator``) and the op to its inputs (``y.creator.inputs``): that is the graph.
``backward()`` visits the tensors in reverse *topological order* - each one after every op
that used it - so a tensor's gradient is complete (summed over its uses) before its own op
passes it on. ``no_grad()`` records no graph, ``detach()`` cuts it, and backward frees it.
Opens: minigan/autograd/function.py, minigan/autograd/tensor.py. Homework task 1.1.
Run: python tutorials/step02_graph_topological_order.py

The ops here are written in this file (forward and backward on arrays), so the step needs only
the engine: the graph walk of task 1.1.
"""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

from lesson import Checks  # noqa: E402
from minigan import Tensor, no_grad  # noqa: E402
from minigan.autograd import Function  # noqa: E402
from minigan.autograd.tensor import _topological_order  # noqa: E402


class Square(Function):
    """y = x^2;  gx = 2 x gy."""
    calls = 0

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        Square.calls += 1
        return 2 * self.x * gy


class Plus(Function):
    """y = a + b;  (ga, gb) = (gy, gy)."""
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        return gy, gy


check = Checks()

# 1. A diamond: a is used twice, so dL/da is the sum of two paths.
#    a = x^2,  y = a^2 + a,  dy/dx = (2a + 1) * 2x
x = Tensor(np.array([1.5, -2.0]), requires_grad=True)
a = Square()(x)
y = Plus()(Square()(a), a)
print("y.creator:", type(y.creator).__name__, " its inputs were made by:",
      [type(t.creator).__name__ for t in y.creator.inputs])
order = _topological_order(y)
position = {id(t): i for i, t in enumerate(order)}
print("topological order:", [type(t.creator).__name__ if t.creator else "leaf" for t in order])
check.true("each tensor once, y last", len(order) == 4 and order[-1] is y)
check.true("every tensor after the inputs of its op", all(
    position[id(i)] < position[id(t)] for t in order if t.creator for i in t.creator.inputs))


# 2. The walk, written out: what Tensor.backward does, without its checks.
def backward_by_hand(root, gy):
    grads, leaves = {id(root): gy}, {}
    for t in reversed(_topological_order(root)):
        g = grads.pop(id(t))
        if t.creator is None:
            leaves[id(t)] = g
            continue
        gxs = t.creator.backward(g)
        for inp, gx in zip(t.creator.inputs, gxs if isinstance(gxs, tuple) else (gxs,)):
            if inp.requires_grad:
                grads[id(inp)] = grads.get(id(inp), 0) + gx
    return leaves


by_formula = (2 * x.data ** 2 + 1) * 2 * x.data
check.close("the walk by hand vs the formula", backward_by_hand(y, np.ones(2))[id(x)], by_formula,
            rtol=1e-12)
Square.calls = 0
y.backward(np.ones(2))
check.close("engine: x.grad vs the formula", x.grad, by_formula, rtol=1e-12)
check.true("each op's backward ran once (the shared a too)", Square.calls == 2, f"{Square.calls}")
check.true("backward freed the graph", y.creator is None)

# 3. Gradients accumulate: a second backward adds to .grad (retain_graph keeps the graph).
x.grad = None
y = Plus()(Square()(x), x)
y.backward(np.ones(2), retain_graph=True)
y.backward(np.ones(2))
check.close("two backwards add up", x.grad, 2 * (2 * x.data + 1), rtol=1e-12)

# 4. No graph under no_grad(); detach() makes a leaf that no gradient reaches.
with no_grad():
    z = Square()(x)
check.true("no_grad: no creator, no requires_grad", z.creator is None and not z.requires_grad)
x.grad = None
Plus()(Square()(x).detach(), x).backward(np.ones(2))
check.close("detach: only the direct path counts", x.grad, np.ones(2))
check.finish()
