"""Step 9 - modules and optimizers.

Teaches: a Module knows its parameters because assigning one as an attribute registers it
(``Module.__setattr__``), under its name, and those of its sub-modules under theirs
("body.0.weight"); the state dict maps those names to arrays, and an .npz file holds it. An
optimizer knows no model, only its parameter groups, and moves each parameter against its
gradient, in place: first the loop a student writes by hand (``p -= lr * p.grad`` under
``no_grad``), which is ``optim.SGD`` bit for bit; then SGD with momentum (and Nesterov's
variant) and Adam, each checked step by step against its formula, then both solving a
least-squares problem.
Opens: minigan/nn/module.py, minigan/optim/sgd.py, minigan/optim/adam.py. Homework tasks
3.1, 3.2 and 3.3.
Run: python tutorials/step09_modules_optimizers.py
"""
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))   # this clone's minigan

import numpy as np  # noqa: E402

import minigan  # noqa: E402
from lesson import Checks  # noqa: E402
from minigan import F, Tensor, nn, optim  # noqa: E402


class Regressor(nn.Module):
    """y = body(x) * scale: a sub-module, a parameter of its own and a buffer."""
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
        self.scale = nn.Parameter(np.ones(1, np.float32))
        self.register_buffer("seen", Tensor(np.zeros(1, np.float32)))   # state, not trained

    def forward(self, x):
        return self.body(x) * self.scale


check = Checks()
minigan.manual_seed(0)
model = Regressor()
names = [name for name, _ in model.named_parameters()]
print("parameters:", names)
check.true("own parameters first, then the sub-modules'", names == [
    "scale", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"])
check.true("the state dict adds the buffer", list(model.state_dict()) == [
    "scale", "seen", "body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"])
check.raises("a plain list of layers is refused", TypeError,
             lambda: setattr(model, "heads", [nn.Linear(4, 1)]), "would not be registered")

# The state dict through an .npz file: a second model (other weights) becomes the first.
x = Tensor(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
other = Regressor()
with tempfile.TemporaryDirectory() as folder:
    model.save(pathlib.Path(folder) / "model.npz")
    other.load(pathlib.Path(folder) / "model.npz")
check.close("after load: the same outputs", other(x).detach().numpy(), model(x).detach().numpy())

# The first training loop: p -= lr * p.grad changes the parameter in place (its .grad is a
# Tensor). Under no_grad() it is an update; outside, PyTorch and minigan refuse it, since the
# graph of the next backward() would start from values that are gone.
target = Tensor(np.random.default_rng(2).standard_normal((5, 1)).astype(np.float32))


def fit(make_step, steps=20):
    """Regressor's outputs after ``steps`` updates on mean((y - target)^2); ``make_step(model)``
    gives the update."""
    minigan.manual_seed(1)
    fitted = Regressor()
    step = make_step(fitted)
    for _ in range(steps):
        fitted.zero_grad()
        F.mse_loss(fitted(x), target).backward()
        step()
    return fitted(x).detach().numpy()


def by_hand(fitted, lr=0.1):
    def step():
        with minigan.no_grad():
            for p in fitted.parameters():
                p -= lr * p.grad
    return step


check.close("p -= lr * p.grad is optim.SGD, bit for bit", fit(by_hand),
            fit(lambda fitted: optim.SGD(fitted.parameters(), lr=0.1).step), rtol=0)
check.raises("outside no_grad() the update is refused", RuntimeError,
             lambda: model.scale.__isub__(0.1), "a leaf Variable that requires grad")

# SGD and Adam, three steps each, against their formulas written out.
rng = np.random.default_rng(1)
p0, grads = rng.standard_normal(4), [rng.standard_normal(4) for _ in range(3)]


def run(make, grads):
    """p0 after one optimizer step per gradient in ``grads``."""
    p = nn.Parameter(p0.copy())
    optimizer = make([p])
    for g in grads:
        p.grad = Tensor(g)
        optimizer.step()
    return p.detach().numpy()


for nesterov in (False, True):
    p, buf = p0.copy(), None
    for g in grads:
        buf = g if buf is None else 0.9 * buf + g
        p = p - 0.1 * (g + 0.9 * buf if nesterov else buf)
    check.close(f"SGD, momentum 0.9, nesterov={nesterov}: vs formula",
                run(lambda ps, n=nesterov: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=n), grads),
                p, rtol=1e-12)
p, m, v = p0.copy(), 0, 0
for t, g in enumerate(grads, 1):
    m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
    p = p - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
check.close("Adam: vs formula", run(lambda ps: optim.Adam(ps, lr=0.01), grads), p, rtol=1e-12)
check.close("Adam's first step is lr * sign(g), whatever |g|",
            run(lambda ps: optim.Adam(ps, lr=0.01), grads[:1]) - p0, -0.01 * np.sign(grads[0]),
            atol=1e-8)

# Both fit w in A w = t by least squares: minimize mean((A w - t)^2).
A, t = rng.standard_normal((20, 3)), rng.standard_normal(20)
best = np.linalg.lstsq(A, t, rcond=None)[0]
for name, make, steps in (("SGD", lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), 300),
                          ("Adam", lambda ps: optim.Adam(ps, lr=0.05), 1000)):
    w = nn.Parameter(np.zeros(3))
    optimizer = make([w])
    for _ in range(steps):
        loss = F.mse_loss(Tensor(A) @ w, Tensor(t))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    check.close(f"{name}: {steps} steps reach the least-squares w", w.detach().numpy(), best,
                atol=1e-4)
check.finish()
