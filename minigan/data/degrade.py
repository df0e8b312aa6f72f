"""A hand-made degradation augmentation: what one would try on synthetic eyes without SimGAN.

    degraded = degrade(images, seed=0)       # (N, 1, H, W) in [-1, 1] -> the same shape

Each image, independently, with strengths drawn uniformly per image:

1. gaussian blur of sigma ~ U(0, ``max_blur``) px (defocus, soft webcam optics);
2. additive gaussian noise of standard deviation ~ U(0, ``max_noise``) (sensor noise), clipped
   to [-1, 1];
3. 8-bit quantization and a JPEG round trip through Pillow at quality ~ U{``jpeg_quality``}.

The ranges are guesses about webcams, fixed before any evaluation and not fitted to any real
or photo-style image: the control row asks how far generic degradations go, not how well a
copy of the stand-in's own camera would do (``eye_camera`` has a different chain: blur,
downsampling, signal-dependent noise, a response curve, its own JPEG at low resolution,
equalization).
"""
import io
from typing import Tuple

import numpy as np
from scipy import ndimage

from minigan.io.png import from_uint8, pil_image, to_uint8


def degrade(images: np.ndarray, seed: int = 0, max_blur: float = 1.5, max_noise: float = 0.1,
            jpeg_quality: Tuple[int, int] = (20, 90)) -> np.ndarray:
    """Blur, noise and JPEG at random per-image strengths (see the module docstring).

    ``images``: ``(N, 1, H, W)`` float in [-1, 1]; returns float32 of that shape. The same
    seed gives the same images.
    """
    x = np.asarray(images, dtype=np.float32)
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(f"degrade: images must be (N, 1, H, W), got shape {x.shape}")
    low, high = jpeg_quality
    if not (max_blur >= 0 and max_noise >= 0 and 1 <= low <= high <= 95):
        raise ValueError(f"degrade: need max_blur >= 0, max_noise >= 0 and 1 <= quality <= 95; "
                         f"got {max_blur}, {max_noise}, {jpeg_quality}")
    rng = np.random.default_rng(seed)
    n = len(x)
    sigmas = rng.uniform(0.0, max_blur, n)
    noise = rng.uniform(0.0, max_noise, n)[:, None, None] * rng.standard_normal((n,) + x.shape[2:])
    qualities = rng.integers(low, high + 1, n)
    blurred = np.stack([ndimage.gaussian_filter(image, sigma, mode="nearest")
                        for image, sigma in zip(x[:, 0], sigmas)])
    noisy = to_uint8(np.clip(blurred + noise, -1.0, 1.0))
    Image = pil_image()
    out = np.empty_like(noisy)
    for index, (image, quality) in enumerate(zip(noisy, qualities)):
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=int(quality))
        buffer.seek(0)
        with Image.open(buffer) as decoded:
            out[index] = np.asarray(decoded.convert("L"))
    return from_uint8(out)
