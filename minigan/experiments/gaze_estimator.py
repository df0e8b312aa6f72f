"""The paper's gaze estimation CNN (section 3.1, "Implementation Details"), built from minigan.nn.

    x (N, 1, 35, 55)
    -> conv3x3 32 -> conv3x3 32 -> conv3x3 64 -> maxpool3x3 s2      (ReLU after every conv)
    -> conv3x3 80 -> conv3x3 192 -> maxpool2x2 s2
    -> flatten (9600) -> FC 1000 -> FC 3                            (ReLU after FC 1000)
    -> gaze (N, 3), trained with the Euclidean (L2) loss against unit gaze vectors

Paddings: every conv is 'valid' (padding 0). Then the sizes run 35x55 -> 33x53 -> 31x51 ->
29x49 -> 14x24 -> 12x22 -> 10x20 -> 5x10, and the flattened feature vector has
192 * 5 * 10 = 9600 entries: exactly the paper's "FC9600", which we therefore read as the
width of the flattened layer that feeds FC 1000 (a 9600 -> 9600 matrix, 92M weights, would be
an odd design for a 35x55 input). ``padding=1`` keeps the convs' sizes instead (feature
vector 192 * 8 * 13); it is there to compare, not the default.

``width`` scales every conv's channel count and ``hidden`` replaces the 1000 of FC 1000, for
the small versions (``ESTIMATOR_PRESETS``). Predictions need not have unit length: compare
directions with ``metrics.angular_error``, which normalises.
"""
import numpy as np

from minigan import functional as F
from minigan import nn, optim
from minigan.autograd import Tensor, no_grad
from minigan.backend import to_numpy
from minigan.cpu.threads import blas_held
from minigan.reference.geometry import conv2d_output_size

PAPER_CHANNELS = (32, 32, 64, 80, 192)
EYE_SHAPE = (35, 55)  # (H, W)
ESTIMATOR_PRESETS = {
    "paper": {"width": 1.0, "hidden": 1000},
    "small": {"width": 0.25, "hidden": 256},
    "tiny": {"width": 0.125, "hidden": 32},
}


def feature_shape(channels=PAPER_CHANNELS, padding=0, image_shape=EYE_SHAPE):
    """(C, H, W) of the feature map that gets flattened; (192, 5, 10) for the paper's net."""
    h, w = image_shape
    for layer in ("conv", "conv", "conv", "pool3", "conv", "conv", "pool2"):
        if layer == "conv":
            h, w = (conv2d_output_size(s, 3, 1, padding) for s in (h, w))
        else:
            k = 3 if layer == "pool3" else 2
            h, w = (conv2d_output_size(s, k, 2, 0) for s in (h, w))
    if h < 1 or w < 1:
        raise ValueError(f"GazeEstimator: a {image_shape} image is too small for the network")
    return channels[-1], h, w


class GazeEstimator(nn.Module):
    """Eye image ``(N, 1, 35, 55)`` -> gaze vector ``(N, 3)``; see the module docstring.

    ``width``: multiplies (32, 32, 64, 80, 192), each rounded, at least 1. ``hidden``: size of
    the first FC layer (paper: 1000). ``padding``: of every 3x3 conv (paper sizes need 0).
    ``rng``: numpy Generator for the initial weights (default: minigan's global one).
    """

    def __init__(self, width=1.0, hidden=1000, padding=0, image_shape=EYE_SHAPE, rng=None,
                 device=None):
        super().__init__()
        if width <= 0 or int(hidden) != hidden or hidden < 1:
            raise ValueError(f"GazeEstimator: width must be > 0 and hidden a positive integer; "
                             f"got width={width}, hidden={hidden}")
        self.channels = tuple(max(1, int(round(c * width))) for c in PAPER_CHANNELS)
        self.image_shape = tuple(image_shape)
        c1, c2, c3, c4, c5 = self.channels
        conv = lambda cin, cout: nn.Conv2d(cin, cout, 3, padding=padding, rng=rng,  # noqa: E731
                                           device=device)
        self.features = nn.Sequential(
            conv(1, c1), nn.ReLU(), conv(c1, c2), nn.ReLU(), conv(c2, c3), nn.ReLU(),
            nn.MaxPool2d(3, stride=2),
            conv(c3, c4), nn.ReLU(), conv(c4, c5), nn.ReLU(),
            nn.MaxPool2d(2, stride=2),
            nn.Flatten())
        self.feature_size = int(np.prod(feature_shape(self.channels, padding, image_shape)))
        self.head = nn.Sequential(
            nn.Linear(self.feature_size, int(hidden), rng=rng, device=device), nn.ReLU(),
            nn.Linear(int(hidden), 3, rng=rng, device=device))

    def forward(self, x):
        if x.ndim != 4 or tuple(x.shape[1:]) != (1,) + self.image_shape:
            raise ValueError(f"GazeEstimator expects images (N, 1, {self.image_shape[0]}, "
                             f"{self.image_shape[1]}), got shape {tuple(x.shape)}")
        return self.head(self.features(x))

    def extra_repr(self):
        return f"channels={self.channels}, features={self.feature_size}"


def gaze_loss(predicted, gaze):
    """Euclidean loss: mean over the batch of ||predicted - gaze||^2, both ``(N, 3)``."""
    return F.mse_loss(predicted, gaze, reduction="sum") / predicted.shape[0]


def predict_gaze(model, images, batch_size=256):
    """Run ``model`` on ``(N, 1, H, W)`` NumPy images without a graph -> ``(N, 3)`` NumPy."""
    was_training = model.training
    model.eval()
    out = []
    with no_grad(), blas_held():
        for start in range(0, len(images), batch_size):
            x = Tensor(np.asarray(images[start:start + batch_size], dtype=np.float32),
                       device=model.device)
            out.append(to_numpy(model(x).data))
    model.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 3), np.float32)


def train_gaze_estimator(images, gaze, steps, batch_size=512, lr=0.001, preset="paper", seed=0,
                         device=None, log=None, log_every=100):
    """Train a fresh ``GazeEstimator`` on ``images`` ``(N, 1, 35, 55)`` and unit ``gaze``
    ``(N, 3)``; returns ``(model, losses)`` with one loss per step.

    The paper: "constant 0.001 learning rate and 512 batch size, until the validation error
    converges". It names no optimizer; we use Adam at that rate (plain SGD at 0.001 moves far
    too little in a CPU-sized run) and a fixed number of ``steps``, so that no held-out data,
    least of all the test set, decides when to stop. Batches are drawn with ``seed``; the
    initial weights come from ``seed`` too, so every training set starts from the same net.
    BLAS runs one thread per call meanwhile, as in SimGAN training (``cpu.threads``).
    """
    images = np.asarray(images, np.float32)
    gaze = np.asarray(gaze, np.float32)
    if len(images) != len(gaze) or gaze.ndim != 2 or gaze.shape[1] != 3:
        raise ValueError(f"train_gaze_estimator: need N images and (N, 3) gaze; got "
                         f"{images.shape} and {gaze.shape}")
    if preset not in ESTIMATOR_PRESETS:
        raise ValueError(f"train_gaze_estimator: preset must be one of "
                         f"{sorted(ESTIMATOR_PRESETS)}, got {preset!r}")
    model = GazeEstimator(**ESTIMATOR_PRESETS[preset], image_shape=images.shape[2:],
                          rng=np.random.default_rng(seed)).to(device)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    batch_rng = np.random.default_rng([seed, 1])
    losses = []
    with blas_held():
        for step in range(steps):
            pick = batch_rng.integers(0, len(images), size=min(batch_size, len(images)))
            x = Tensor(images[pick], device=model.device)
            loss = gaze_loss(model(x), Tensor(gaze[pick], device=model.device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.item()))
            if log is not None and ((step + 1) % log_every == 0 or step + 1 == steps):
                log(f"  step {step + 1}/{steps}: loss {np.mean(losses[-log_every:]):.4f}")
    return model.eval(), losses
