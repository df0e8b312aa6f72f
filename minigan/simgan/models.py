"""The two networks of SimGAN (section 3.1 of the paper): the refiner R and the discriminator D.

Refiner R (x -> refined x~, same shape, no striding or pooling so every pixel keeps its place):

    x (N, 1, H, W) -> conv3x3 1->C, ReLU -> `blocks` x ResnetBlock(C) -> conv1x1 C->1 -> tanh
    ResnetBlock: y = relu(x + conv3x3(relu(conv3x3(x))))          (padding 1 everywhere)

    The paper: C = 64, 4 blocks. tanh keeps x~ in [-1, 1], the range of the input images.

Local discriminator D (image -> map of patch logits, ReLU between the layers):

    conv3x3 s2 96 -> conv3x3 s2 64 -> maxpool3x3 s1 -> conv3x3 s1 32 -> conv1x1 32 -> conv1x1 2

    Every 3x3 layer pads by 1 (pool pads with -inf), so every pixel, eye corners included, lies
    inside some patch. Sizes: H -> ceil(H/2) -> ceil(H/4) -> same -> same. For a 35 x 55 eye:
    35x55 -> 18x28 -> 9x14 -> 9x14, i.e. a (N, 2, 9, 14) map of 126 patches, each with a
    23 x 23 pixel receptive field (the refiner's is 19 x 19: "similar", as the paper asks).
    The softmax of the paper's layer (7) is left to the loss (``F.patch_cross_entropy``):
    channel 1 is "refined", channel 0 is "real".

Global discriminator (the ablation of section 3.3): the same convolutions, then a fully
connected layer over the whole feature map -> (N, 2, 1, 1), one logit pair per image.

``width`` scales the discriminator's channel counts (96, 64, 32, 32 -> round(width * ...)), and
``channels`` / ``blocks`` size the refiner, so tutorials can train small versions.
"""
import numpy as np

from minigan import nn
from minigan.autograd import Tensor, no_grad
from minigan.backend import to_numpy
from minigan.functional.fused import fused_conv2d
from minigan.reference.geometry import conv2d_output_size

DISCRIMINATOR_CHANNELS = (96, 64, 32, 32)  # the paper's feature maps of layers (1), (2), (4), (5)


def _check_positive_int(owner, name, value):
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


def conv_relu(conv, x, residual=None):
    """relu(conv(x) + residual) for an nn.Conv2d, as one fused op (one kernel on the GPU)."""
    x, padding = conv.padded(x)
    return fused_conv2d(x, conv.weight, conv.bias, conv.stride, padding, residual=residual,
                        activation="relu")


class ResnetBlock(nn.Module):
    """y = relu(x + conv2(relu(conv1(x)))), convs 3x3 C -> C, padding 1; x, y: (N, C, H, W)."""

    def __init__(self, channels, rng=None, padding_mode="zeros"):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode=padding_mode,
                               rng=rng)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, padding_mode=padding_mode,
                               rng=rng)

    def forward(self, x):
        return conv_relu(self.conv2, conv_relu(self.conv1, x), residual=x)


class Refiner(nn.Module):
    """R: (N, in_channels, H, W) in [-1, 1] -> refined (N, in_channels, H, W) in [-1, 1]."""

    def __init__(self, in_channels=1, channels=64, blocks=4, rng=None, padding_mode="zeros"):
        super().__init__()
        self.in_channels = _check_positive_int("Refiner", "in_channels", in_channels)
        self.channels = _check_positive_int("Refiner", "channels", channels)
        if isinstance(blocks, bool) or int(blocks) != blocks or blocks < 0:
            raise ValueError(f"Refiner: blocks must be an integer >= 0, got {blocks!r}")
        if padding_mode not in nn.Conv2d.PADDING_MODES:
            raise ValueError(f"Refiner: padding_mode must be one of {nn.Conv2d.PADDING_MODES}, "
                             f"got {padding_mode!r}")
        self.num_blocks = int(blocks)
        self.padding_mode = padding_mode
        self.stem = nn.Conv2d(in_channels, channels, 3, padding=1, padding_mode=padding_mode,
                              rng=rng)
        self.blocks = nn.Sequential(*[ResnetBlock(channels, rng, padding_mode)
                                      for _ in range(self.num_blocks)])
        self.head = nn.Conv2d(channels, in_channels, 1, rng=rng)

    def forward(self, x):
        return self.head(self.blocks(conv_relu(self.stem, x))).tanh()

    def architecture(self):
        """The constructor arguments, as stored in a checkpoint's metadata."""
        arch = {"in_channels": self.in_channels, "channels": self.channels,
                "blocks": self.num_blocks}
        if self.padding_mode != "zeros":   # checkpoints of zero-padded refiners stay as they were
            arch["padding_mode"] = self.padding_mode
        return arch

    def extra_repr(self):
        return (f"in_channels={self.in_channels}, channels={self.channels}, "
                f"blocks={self.num_blocks}, padding_mode={self.padding_mode!r}")


def _discriminator_channels(width):
    return tuple(max(1, int(round(width * c))) for c in DISCRIMINATOR_CHANNELS)


def _discriminator_trunk(in_channels, width, rng, batch_norm=False):
    """Layers (1)-(5) of the paper's D, shared by both discriminators, each followed by ReLU;
    with ``batch_norm``, a BatchNorm2d between each conv but the first and its ReLU (as in
    DCGAN's discriminator: normalizing the raw input layer would discard its tone)."""
    c1, c2, c3, c4 = _discriminator_channels(width)

    def normalized(channels):
        return [nn.BatchNorm2d(channels)] if batch_norm else []

    return [nn.Conv2d(in_channels, c1, 3, stride=2, padding=1, rng=rng), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1, rng=rng), *normalized(c2), nn.ReLU(),
            nn.MaxPool2d(3, stride=1, padding=1),
            nn.Conv2d(c2, c3, 3, stride=1, padding=1, rng=rng), *normalized(c3), nn.ReLU(),
            nn.Conv2d(c3, c4, 1, rng=rng), *normalized(c4), nn.ReLU()]


def patch_map_size(height, width):
    """(h, w) of the local discriminator's logit map for an H x W image: two stride-2 convs."""
    for _ in range(2):
        height = conv2d_output_size(height, 3, 2, 1)
        width = conv2d_output_size(width, 3, 2, 1)
    return height, width


def _check_width(owner, width):
    if not np.isfinite(width) or width <= 0:
        raise ValueError(f"{owner}: width must be a positive number, got {width!r}")
    return float(width)


def _architecture(module, **more):
    arch = {"kind": module.kind, "in_channels": module.in_channels, "width": module.width, **more}
    if module.batch_norm:   # only when on, so older checkpoints read the same
        arch["batch_norm"] = True
    return arch


class Discriminator(nn.Module):
    """Local D: images (N, in_channels, H, W) -> patch logits (N, 2, h, w) (``patch_map_size``).

    ``batch_norm``: the authors' D had batch norm (their notes); in training mode each call
    normalizes with the statistics of the batch it is given (refined and real images go
    through D in separate calls).
    """

    kind = "local"

    def __init__(self, in_channels=1, width=1.0, rng=None, batch_norm=False):
        super().__init__()
        self.in_channels = _check_positive_int("Discriminator", "in_channels", in_channels)
        self.width = _check_width("Discriminator", width)
        self.batch_norm = bool(batch_norm)
        trunk = _discriminator_trunk(in_channels, self.width, rng, self.batch_norm)
        self.layers = nn.Sequential(*trunk, nn.Conv2d(_discriminator_channels(self.width)[3], 2, 1,
                                                      rng=rng))

    def forward(self, x):
        return self.layers(x)

    def architecture(self):
        return _architecture(self)

    def extra_repr(self):
        return f"in_channels={self.in_channels}, width={self.width}, batch_norm={self.batch_norm}"


class GlobalDiscriminator(nn.Module):
    """Global D: images (N, in_channels, H, W) -> logits (N, 2, 1, 1), one pair per image.

    Layers (1)-(5) as in the local D; then, in place of the 1x1 conv (6), the (N, c4, h, w)
    features are flattened and a fully connected layer c4*h*w -> 2 classifies the whole image.
    ``image_size = (H, W)`` fixes h, w at construction.
    """

    kind = "global"

    def __init__(self, in_channels=1, width=1.0, image_size=(35, 55), rng=None, batch_norm=False):
        super().__init__()
        self.in_channels = _check_positive_int("GlobalDiscriminator", "in_channels", in_channels)
        self.width = _check_width("GlobalDiscriminator", width)
        self.batch_norm = bool(batch_norm)
        self.image_size = tuple(int(s) for s in image_size)
        h, w = patch_map_size(*self.image_size)
        self.layers = nn.Sequential(*_discriminator_trunk(in_channels, self.width, rng,
                                                          self.batch_norm))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(_discriminator_channels(self.width)[3] * h * w, 2, rng=rng)

    def forward(self, x):
        if tuple(x.shape[2:]) != self.image_size:
            raise ValueError(f"GlobalDiscriminator was built for {self.image_size[0]}x"
                             f"{self.image_size[1]} images, got input of shape {tuple(x.shape)}")
        logits = self.fc(self.flatten(self.layers(x)))
        return logits.reshape(x.shape[0], 2, 1, 1)

    def architecture(self):
        return _architecture(self, image_size=list(self.image_size))

    def extra_repr(self):
        return (f"in_channels={self.in_channels}, width={self.width}, "
                f"image_size={self.image_size}, batch_norm={self.batch_norm}")


def build_discriminator(architecture, rng=None):
    """A Discriminator or GlobalDiscriminator from its ``architecture()`` dict."""
    arch = dict(architecture)
    kind = arch.pop("kind", "local")
    if kind == "local":
        return Discriminator(rng=rng, **arch)
    if kind == "global":
        return GlobalDiscriminator(rng=rng, **arch)
    raise ValueError(f"discriminator kind must be 'local' or 'global', got {kind!r}")


def refine_images(refiner, images, device=None):
    """R(images) for a NumPy (m, C, H, W) batch in [-1, 1]; returns NumPy on the host.

    ValueError when the output holds NaN or Inf (weights that overflow would give black or
    white images that look like a result).
    """
    device = device or refiner.device
    with no_grad(), np.errstate(over="ignore", invalid="ignore"):
        refined = to_numpy(refiner(Tensor(np.ascontiguousarray(images), device=device)).data)
    if not np.isfinite(refined).all():
        raise ValueError("the refiner's output holds NaN or infinite values: its weights "
                         "overflow")
    return refined
