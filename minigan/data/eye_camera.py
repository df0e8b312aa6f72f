"""The photo stand-in's capture: glasses, a low-resolution webcam, then histogram equalization.

``webcam(luminance, geometry, look, rng)`` takes the scene (``eye_shading.shade``, in [0, 1])
and does what MPIIGaze's recording and normalization did to a real eye:

1. glasses (on the images whose ``glasses`` number is under ``GLASSES_SHARE``): a frame band
   along an ellipse around the eye, dark plastic or bright metal; inside the lens a slight
   tint, a broad glare and sometimes a sharp reflection of the screen. The lens does not
   magnify (that would move the pupil away from its label);
2. defocus / motion blur: a per-image mix of two gaussian blurs (sigma 0.5 and 1.0 px);
3. the eye region as the webcam sees it: an area average down to one of ``RESOLUTIONS``;
4. sensor noise and auto-exposure: the sensor's signal x gets Poisson-Gaussian noise of
   variance ``noise_gain x + noise_floor``, then a gain k brings the image's mean to
   ``brightness``, so ``k x + sqrt(k noise_gain (k x) + k^2 noise_floor) N(0, 1)``: dark
   scenes come out as bright as the others, and noisier;
5. the camera's response curve ``x ** response``, 8-bit quantization and JPEG (the 8x8 DCT
   of each block quantized with the standard table at ``jpeg_quality``), at that resolution;
6. the normalization's warp back to 35 x 55 (bilinear), then per-image histogram
   equalization (``normalize.equalize_histogram``), as in MPIIGaze's normalized files.

Resampling maps pixel centres to pixel centres (``x_low = (x + 0.5) w / W - 0.5``), so it
moves nothing: the labels of the geometry stay exact. Returns ``(n, 35, 55)`` in [-1, 1].
"""
from functools import lru_cache

import numpy as np

from minigan.data.eye_geometry import EYE_HEIGHT, EYE_WIDTH
from minigan.data.eye_styles import GLASSES_SHARE
from minigan.data.normalize import equalize_histogram

RESOLUTIONS = ((20, 31), (23, 36), (26, 41), (29, 46))   # (h, w) of the eye in the webcam
# the JPEG standard's luminance quantization table (quality 50)
JPEG_TABLE = np.array([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]],
    dtype=np.float32)


def webcam(luminance, geometry, look, rng, factors=("glasses", "webcam", "equalization")):
    """Glasses, blur, low resolution, noise, response, JPEG, upsampling, equalization, each
    part only when its group is among ``factors`` (``eye_styles.FACTORS``; none of the three:
    the scene as it is, ``2 luminance - 1``)."""
    image = luminance.copy()
    if "glasses" in factors:
        wearing = np.flatnonzero(look["glasses"] < GLASSES_SHARE)
        if len(wearing):
            image[wearing] = _glasses(image[wearing], geometry["center"][wearing],
                                      {name: values[wearing] for name, values in look.items()})
    captured = _camera(image, look, rng) if "webcam" in factors else 2.0 * image - 1.0
    if "equalization" in factors:
        return equalize_histogram(captured)
    return np.clip(captured, -1.0, 1.0).astype(np.float32)


def _camera(image, look, rng):
    """Steps 2-6 but the equalization on ``(m, 35, 55)`` scenes in [0, 1]; -> [-1, 1]."""
    per = lambda name: look[name][:, None, None]  # noqa: E731
    mix = per("blur")
    image = (1.0 - mix) * _blur(image, 0.5) + mix * _blur(image, 1.0)

    level = np.minimum(look["resolution"].astype(np.int64), len(RESOLUTIONS) - 1)
    captured = np.empty_like(image)
    for index, (height, width) in enumerate(RESOLUTIONS):
        chosen = np.flatnonzero(level == index)
        if len(chosen):
            low = (resampling_matrix(height, EYE_HEIGHT) @ image[chosen]
                   @ resampling_matrix(width, EYE_WIDTH).T)
            low = _sensor(low, {name: values[chosen] for name, values in look.items()}, rng)
            captured[chosen] = (resampling_matrix(EYE_HEIGHT, height) @ low
                                @ resampling_matrix(EYE_WIDTH, width).T) / 127.5 - 1.0
    return captured


def _sensor(low, look, rng):
    """Steps 4-5 on ``(m, h, w)`` images in [0, 1]: noise, auto-exposure gain, response curve,
    8 bits and JPEG; returns 8-bit values (0..255, float32)."""
    per = lambda name: look[name][:, None, None]  # noqa: E731
    mean = np.maximum(low.mean(axis=(1, 2), keepdims=True), 1e-3)
    gain = np.clip(per("brightness") / mean, 0.5, 4.0)
    low = gain * low
    spread = np.sqrt(gain * (per("noise_gain") * low + gain * per("noise_floor")))
    low = np.clip(low + spread * rng.standard_normal(low.shape, dtype=np.float32), 0.0, 1.0)
    return _jpeg(np.rint(255.0 * low ** per("response")), look["jpeg_quality"])


def _glasses(image, centre, look):
    """Frame, tint, glare and screen reflection of glasses over ``(m, 35, 55)`` images."""
    per = lambda name: look[name][:, None, None]  # noqa: E731
    xs = np.arange(EYE_WIDTH, dtype=np.float32)[None, None, :]
    ys = np.arange(EYE_HEIGHT, dtype=np.float32)[None, :, None]
    dx = xs - (centre[:, 0, None, None] + per("lens_dx"))
    dy = ys - (centre[:, 1, None, None] + per("lens_dy"))
    cos, sin = np.cos(per("lens_tilt")), np.sin(per("lens_tilt"))
    along, across = cos * dx + sin * dy, cos * dy - sin * dx
    radius = np.sqrt((along / per("lens_width")) ** 2 + (across / per("lens_height")) ** 2)
    distance = (radius - 1.0) * per("lens_height")          # ~ pixels from the rim
    frame = np.clip(0.5 + per("frame_width") / 2 - np.abs(distance), 0.0, 1.0)
    inside = np.clip(0.5 - distance, 0.0, 1.0)
    glare_x = per("glare_x") * per("lens_width") / 2
    glare_y = per("glare_y") * per("lens_height") / 2
    glare = per("lens_glare") * np.exp(-((along - glare_x) ** 2 + (across - glare_y) ** 2) / 200.0)
    # the screen mirrored in the lens: a small bright bar across from the glare
    bar = (np.clip(4.5 - np.abs(along + glare_x), 0.0, 1.0)
           * np.clip(1.5 - np.abs(across - glare_y / 2), 0.0, 1.0))
    lens = image * 0.9 + glare + np.maximum(per("reflection"), 0.0) * bar
    image = image + inside * (np.minimum(lens, 1.0) - image)
    tone = per("frame_tone") ** 2
    return image + frame * (tone - image)


@lru_cache(maxsize=None)
def resampling_matrix(size_out, size_in):
    """``(size_out, size_in)`` float32 resampling matrix, pixel centres to pixel centres.

    Output pixel j sits at ``c = (j + 0.5) size_in / size_out - 0.5`` on the input's pixel
    grid. Down (``size_out < size_in``): it averages the linearly interpolated input over a
    box of width ``r = size_in / size_out`` around c (the weight of input pixel i is the
    integral of its hat function over the box), so a linear ramp comes out exactly as the
    ramp at c. Up: linear interpolation between the two nearest input centres. Borders
    repeat the edge pixel.
    """
    ratio = size_in / size_out
    centre = (np.arange(size_out) + 0.5) * ratio - 0.5
    matrix = np.zeros((size_out, size_in))
    if size_out <= size_in:
        def hat_integral(t):  # integral of max(0, 1 - |s|) from -inf to t
            t = np.clip(t, -1.0, 1.0)
            return np.where(t < 0, (t + 1) ** 2 / 2, 1 - (1 - t) ** 2 / 2)
        for i in range(-2, size_in + 2):
            weight = (hat_integral(centre + ratio / 2 - i) - hat_integral(centre - ratio / 2 - i))
            matrix[:, min(max(i, 0), size_in - 1)] += weight
    else:
        position = np.clip(centre, 0, size_in - 1)
        low = np.minimum(np.floor(position).astype(int), size_in - 2)
        matrix[np.arange(size_out), low] = 1 - (position - low)
        matrix[np.arange(size_out), low + 1] = position - low
    return (matrix / matrix.sum(axis=1, keepdims=True)).astype(np.float32)


@lru_cache(maxsize=None)
def _blur_matrix(size, sigma):
    """``(size, size)`` gaussian blur with clamped (edge-repeating) borders, rows sum to 1."""
    taps = np.arange(-3, 4)
    kernel = np.exp(-taps ** 2 / (2 * sigma ** 2))
    kernel /= kernel.sum()
    matrix = np.zeros((size, size), dtype=np.float32)
    for tap, weight in zip(taps, kernel):  # 7 taps, not a loop over pixels
        np.add.at(matrix, (np.arange(size), np.clip(np.arange(size) + tap, 0, size - 1)), weight)
    return matrix


def _blur(images, sigma):
    """Separable gaussian blur of ``(n, H, W)`` as two matrix products."""
    return _blur_matrix(images.shape[1], sigma) @ images @ _blur_matrix(images.shape[2], sigma).T


@lru_cache(maxsize=None)
def _block_dct():
    """``(64, 64)`` orthonormal 2-D DCT-II of a row-major 8x8 block: ``kron(D, D)``."""
    k, x = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    basis = np.cos(np.pi * (2 * x + 1) * k / 16) * np.sqrt(2 / 8)
    basis[0] /= np.sqrt(2)
    return np.kron(basis, basis).astype(np.float32)


def _jpeg(images, quality):
    """JPEG's lossy step on ``(n, h, w)`` 8-bit values (0..255), ``quality`` per image 1-100.

    Each image is edge-padded to whole 8x8 blocks; each block's 2-D DCT (one product with the
    orthonormal ``kron(D, D)``) is rounded to multiples of the standard table scaled as libjpeg
    does, transformed back, rounded and clipped to 0..255.
    """
    n, height, width = images.shape
    rows, columns = -(-height // 8), -(-width // 8)
    padded = np.pad(images - 128.0, ((0, 0), (0, 8 * rows - height), (0, 8 * columns - width)),
                    mode="edge")
    blocks = padded.reshape(n, rows, 8, columns, 8).transpose(0, 1, 3, 2, 4)
    blocks = blocks.reshape(n, rows * columns, 64)
    dct = _block_dct()
    scaling = np.where(quality < 50, 50.0 / quality, 2.0 - quality / 50.0).astype(np.float32)
    step = np.maximum(JPEG_TABLE.reshape(1, 1, 64) * scaling[:, None, None], 1.0)
    restored = (np.rint((blocks @ dct.T) / step) * step) @ dct
    restored = restored.reshape(n, rows, columns, 8, 8).transpose(0, 1, 3, 2, 4)
    restored = restored.reshape(n, 8 * rows, 8 * columns)[:, :height, :width]
    return np.clip(np.rint(restored + 128.0), 0.0, 255.0)
