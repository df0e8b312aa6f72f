"""One whole SimGAN iteration, in minigan and in PyTorch, for ``python -m minigan.bench``.

An iteration is what Algorithm 1 repeats (with K_g = K_d = 1), on batches of n 1 x H x W images:

    refiner step        refined = R(x);  loss = realism(D(refined)) + lambda * |refined - x|_1
                        backward through D (D's weights frozen) into R; SGD update of R
    discriminator step  refined = R(x) without a graph; loss = ce(D(refined), 1) + ce(D(y), 0)
                        backward through D; SGD update of D

Both versions use the same networks (``minigan.simgan.models``: the paper's R with 4 ResNet
blocks of 64 channels, the local D) and losses (sums over patches, means over images), fp32.
``minigan_iteration`` / ``torch_iteration`` return a zero-argument step function.
"""
import numpy as np

LAMBDA = 1e-4   # any value: it does not change the amount of work
LR = 1e-3


def _set_requires_grad(params, flag):
    for p in params:
        p.requires_grad = flag


def minigan_iteration(n, height, width, device):
    """A step() running one refiner and one discriminator step of minigan on ``device``."""
    from minigan import Tensor, no_grad, optim
    from minigan.simgan.losses import discriminator_loss, realism_loss, self_regularization
    from minigan.simgan.models import Discriminator, Refiner

    refiner = Refiner(rng=np.random.default_rng(1)).to(device)
    discriminator = Discriminator(rng=np.random.default_rng(2)).to(device)
    refiner_sgd = optim.SGD(refiner.parameters(), lr=LR)
    discriminator_sgd = optim.SGD(discriminator.parameters(), lr=LR)
    images = np.random.default_rng(3).uniform(-1, 1, (2, n, 1, height, width)).astype(np.float32)
    synthetic, real = Tensor(images[0], device=device), Tensor(images[1], device=device)

    def step():
        _set_requires_grad(discriminator.parameters(), False)
        refined = refiner(synthetic)
        loss = (realism_loss(discriminator(refined))
                + self_regularization(refined, synthetic, LAMBDA))
        refiner_sgd.zero_grad()
        loss.backward()
        refiner_sgd.step()
        _set_requires_grad(discriminator.parameters(), True)

        with no_grad():
            fresh = refiner(synthetic).data
        loss = discriminator_loss(discriminator(Tensor.wrap(fresh)), discriminator(real))
        discriminator_sgd.zero_grad()
        loss.backward()
        discriminator_sgd.step()
    return step


def torch_models(torch):
    """The same R and D as minigan.simgan.models, as torch.nn modules."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)

        def forward(self, x):
            return torch.relu(x + self.conv2(torch.relu(self.conv1(x))))

    refiner = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(),
                            *[Block(64) for _ in range(4)], nn.Conv2d(64, 1, 1), nn.Tanh())
    discriminator = nn.Sequential(
        nn.Conv2d(1, 96, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(96, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, stride=1, padding=1),
        nn.Conv2d(64, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, 1), nn.ReLU(),
        nn.Conv2d(32, 2, 1))
    return refiner, discriminator


def torch_iteration(torch, n, height, width, device):
    """A step() running the same iteration in PyTorch on ``device`` ('cpu' | 'cuda')."""
    functional = torch.nn.functional
    torch.manual_seed(0)
    refiner, discriminator = (m.to(device) for m in torch_models(torch))
    refiner_sgd = torch.optim.SGD(refiner.parameters(), lr=LR)
    discriminator_sgd = torch.optim.SGD(discriminator.parameters(), lr=LR)
    synthetic = torch.rand(n, 1, height, width, device=device) * 2 - 1
    real = torch.rand(n, 1, height, width, device=device) * 2 - 1

    def patch_loss(logits, label):
        labels = torch.full((logits.shape[0],) + tuple(logits.shape[2:]), label,
                            dtype=torch.long, device=logits.device)
        return functional.cross_entropy(logits, labels, reduction="sum") / logits.shape[0]

    def step():
        _set_requires_grad(discriminator.parameters(), False)
        refined = refiner(synthetic)
        loss = (patch_loss(discriminator(refined), 0)
                + LAMBDA * (refined - synthetic).abs().sum() / n)
        refiner_sgd.zero_grad()
        loss.backward()
        refiner_sgd.step()
        _set_requires_grad(discriminator.parameters(), True)

        with torch.no_grad():
            fresh = refiner(synthetic)
        loss = patch_loss(discriminator(fresh), 1) + patch_loss(discriminator(real), 0)
        discriminator_sgd.zero_grad()
        loss.backward()
        discriminator_sgd.step()
    return step


def profile_iteration(n, height, width, device, iterations, top=15):
    """Where one minigan iteration's time goes: a cProfile of ``iterations`` iterations (after
    one untimed warm-up), as a table of the ``top`` functions by their own time (time in the
    function itself, not in what it calls), with each one's share of the total."""
    import cProfile
    import pstats

    step = minigan_iteration(n, height, width, device)
    step()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(iterations):
        step()
    profiler.disable()
    # {(file, line, name): (calls, _, own s, cumulative s, _)}
    stats = pstats.Stats(profiler).stats
    total = sum(own for _, _, own, _, _ in stats.values())
    rows = sorted(stats.items(), key=lambda item: -item[1][2])[:top]
    lines = [f"where the time of {iterations} iteration(s) goes (batch {n}, {height}x{width}, "
             f"{device}): {total * 1000 / iterations:.0f} ms per iteration under the profiler",
             f"{'own ms/it':>10} {'share':>6} {'calls/it':>9}  function"]
    for (path, line, name), (calls, _, own, _, _) in rows:
        where = f"{path.split('minigan/', 1)[-1]}:{line} {_qualified(path, line, name)}" \
            if line else name
        lines.append(f"{own * 1000 / iterations:10.1f} {100 * own / total:5.1f}% "
                     f"{calls / iterations:9.0f}  {where}")
    return "\n".join(lines)


def _qualified(path, line, name):
    """``outer.name`` for a function defined in a class or another function (cProfile gives
    the bare name)."""
    import linecache

    text = linecache.getline(path, line)
    indent = len(text) - len(text.lstrip())
    for number in range(line - 1, 0, -1):
        above = linecache.getline(path, number)
        stripped = above.lstrip()
        if stripped and len(above) - len(stripped) < indent:
            if stripped.startswith(("def ", "class ")):
                outer = stripped.split(None, 1)[1].split("(")[0].strip().rstrip(":")
                return f"{outer}.{name}"
            indent = len(above) - len(stripped)   # an if/for/with: look further out
    return name
