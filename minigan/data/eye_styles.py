"""The two looks of the procedural eye: ``synthetic`` (a clean simulator) and ``photo``.

Both start from the same geometry fields (``eye_geometry.pixel_fields``) and the same shading
model, ``shade``; each style draws its own *appearance* numbers (skin, sclera and iris tone ...)
from its own random stream, so the styles differ in distribution and never in geometry.

* ``synthetic``: flat shading, sharp (1-pixel anti-aliased) edges, no noise, bright sclera.
* ``photo``: a *stand-in* for real camera images, not real data. On top of the shading it adds
  the effects SimGAN's refiner is meant to learn: skin texture, corneal glints, uneven
  illumination and a cast shadow, defocus blur, low contrast / intensity shift / gamma,
  sensor noise and JPEG-like 8x8 blockiness (``photo_camera``).

Intensities here are luminance in [0, 1]; ``eyes.render_eyes`` maps them to [-1, 1].
"""
from functools import lru_cache

import numpy as np

from minigan.data.eye_geometry import EYE_HEIGHT, EYE_WIDTH, HALF_WIDTH

# name: (low, high) uniform ranges of the per-image appearance of each style
APPEARANCE = {
    "synthetic": {"skin": (0.55, 0.72), "sclera": (0.86, 0.95), "iris": (0.22, 0.5),
                  "pupil": (0.04, 0.07), "caruncle": (0.42, 0.52), "lashes": (0.45, 0.6),
                  "crease": (0.1, 0.15), "texture": (0.0, 0.0)},
    "photo": {"skin": (0.3, 0.6), "sclera": (0.7, 0.9), "iris": (0.12, 0.4),
              "pupil": (0.03, 0.1), "caruncle": (0.35, 0.55), "lashes": (0.35, 0.65),
              "crease": (0.05, 0.2), "texture": (0.03, 0.07)},
}
CAMERA = {  # photo only
    "glint": (0.4, 0.9), "glint_size": (0.6, 1.1), "glint_offset": (-0.7, 0.7),
    "second_glint": (0.0, 1.0), "gradient": (0.0, 0.35), "gradient_angle": (0.0, 2 * np.pi),
    "shadow": (0.0, 0.3), "shadow_angle": (0.0, 2 * np.pi), "shadow_offset": (-0.6, 0.6),
    "blur": (0.0, 1.0), "contrast": (0.65, 1.0), "shift": (-0.15, 0.1), "gamma": (0.75, 1.3),
    "noise": (0.015, 0.04), "jpeg_quality": (50.0, 95.0),
}
TEXTURE_GRID = (9, 14)  # coarse noise for skin blotches, upsampled bilinearly to 35 x 55
# the JPEG standard's luminance quantisation table (quality 50)
JPEG_TABLE = np.array([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]],
    dtype=np.float32)


def draw_style(style, n, rng):
    """Per-image style numbers: ``name -> (n,)`` float32, uniform over the style's ranges."""
    ranges = dict(APPEARANCE[style], **(CAMERA if style == "photo" else {}))
    return {name: rng.uniform(low, high, size=n).astype(np.float32)
            for name, (low, high) in ranges.items()}


def shade(fields, geometry, look, texture=None):
    """Luminance ``(n, 35, 55)`` in [0, 1] of skin, sclera, iris, pupil, caruncle and lashes.

    ``look`` holds ``(n,)`` tones; ``texture`` (optional, ``(n, 35, 55)``, mean 0) modulates
    skin and iris multiplicatively. Every term is a smooth function of the geometry fields,
    so edges are exactly as sharp as the fields' anti-aliasing.
    """
    col = lambda name: look[name][:, None, None]  # noqa: E731
    per = lambda values: np.asarray(values, np.float32)[:, None, None]  # noqa: E731
    u, y_local = fields["u"], fields["y_local"]
    scale = per(geometry["half_width"] / HALF_WIDTH)
    height = per(geometry["h_up"])
    width_squared = 1.0 - u * u

    # skin: darker in the eye socket, a crease above the upper lid
    socket = np.exp(-(u * u) / 1.6 - (y_local * y_local) / (per(geometry["half_width"]) ** 2 * 0.5))
    skin = col("skin") * (1.0 - 0.18 * socket)
    crease_y = -(height + 3.5 * scale) * np.maximum(1.0 - u * u / 1.2, 0.0)
    crease = np.exp(-((y_local - crease_y) / (1.2 * scale)) ** 2) * (width_squared > -0.2)
    skin *= 1.0 - col("crease") * crease

    # eyeball: sclera darker towards the corners and in the upper lid's shadow
    lid_shadow = 1.0 - 0.3 * np.exp(-np.maximum(fields["below_upper"], 0.0) / (2.0 * scale))
    sclera = col("sclera") * (1.0 - 0.3 * u * u)
    limbus = np.clip((fields["rho"] - 0.7) / 0.3, 0.0, 1.0)  # dark ring at the iris rim
    iris = col("iris") * (1.0 - 0.55 * limbus * limbus)
    if texture is not None:
        skin *= 1.0 + texture
        iris *= 1.0 + 2.0 * texture
    eye = sclera + fields["iris"] * (iris - sclera)
    eye += fields["pupil"] * (col("pupil") - eye)
    eye *= lid_shadow

    # caruncle: a soft pink-grey blob in the inner (left) corner
    blob = ((u + 0.86) / 0.2) ** 2 + ((y_local - 0.5 * scale) / (2.8 * scale)) ** 2
    caruncle = np.clip(2.0 - 2.0 * blob, 0.0, 1.0)
    eye += caruncle * (col("caruncle") - eye)

    image = skin + fields["opening"] * (eye - skin)
    # lashes along the upper margin (fading at the corners), a thinner line on the lower one
    fade = np.clip(1.5 * width_squared, 0.0, 1.0)
    upper_line = np.exp(-((fields["below_upper"] + 0.8 * scale) / (1.1 * scale)) ** 2)
    lower_line = np.exp(-((fields["above_lower"] + 0.5) / 0.7) ** 2)
    image *= 1.0 - col("lashes") * fade * (upper_line + 0.45 * lower_line)
    return np.clip(image, 0.0, 1.0)


def skin_texture(n, amplitude, rng):
    """``(n, 35, 55)`` mean-0 texture: coarse blotches (bilinear upsampling) + fine pores."""
    coarse = rng.standard_normal((n,) + TEXTURE_GRID, dtype=np.float32)
    up_y = _linear_upsampler(TEXTURE_GRID[0], EYE_HEIGHT)
    up_x = _linear_upsampler(TEXTURE_GRID[1], EYE_WIDTH)
    blotches = np.matmul(np.matmul(up_y, coarse), up_x.T)
    pores = rng.standard_normal((n, EYE_HEIGHT, EYE_WIDTH), dtype=np.float32)
    return amplitude[:, None, None] * (blotches + 0.35 * pores)


def photo_camera(luminance, fields, geometry, look, rng):
    """What a webcam does to the scene: glints, lighting, blur, sensor response, noise, JPEG.

    ``luminance``: ``(n, 35, 55)`` in [0, 1] from ``shade``; returns the same shape in [0, 1].
    """
    n = luminance.shape[0]
    per = lambda values: np.asarray(values, np.float32)[:, None, None]  # noqa: E731
    xs = np.arange(EYE_WIDTH, dtype=np.float32)[None, None, :]    # (1, 1, W)
    ys = np.arange(EYE_HEIGHT, dtype=np.float32)[None, :, None]   # (1, H, 1)

    # corneal glints: gaussian spots near the pupil, only where the eyeball shows; a 2-D
    # gaussian is a row profile times a column profile, so only H + W exponentials per image
    glints = np.zeros_like(luminance)
    radius = geometry["iris_radius"]
    for k, strength in enumerate((look["glint"], look["glint"] * (look["second_glint"] > 0.5))):
        offset = rng.uniform(*CAMERA["glint_offset"], size=(n, 2)) * radius[:, None]
        centre = geometry["pupil_center"] + offset
        spread = 2.0 * per(look["glint_size"] * (1.0 if k == 0 else 0.7)) ** 2
        profile_x = np.exp(-(xs - per(centre[:, 0])) ** 2 / spread)    # (n, 1, W)
        profile_y = np.exp(-(ys - per(centre[:, 1])) ** 2 / spread)    # (n, H, 1)
        glints += per(strength) * profile_y * profile_x
    image = luminance + fields["opening"] * glints

    # uneven illumination: a linear gradient and a soft shadow edge across the image
    x_unit = (xs - EYE_WIDTH / 2) / (EYE_WIDTH / 2)     # -1 ... 1 across the image
    y_unit = (ys - EYE_HEIGHT / 2) / (EYE_HEIGHT / 2)
    angle, shadow_angle = per(look["gradient_angle"]), per(look["shadow_angle"])
    gradient = per(look["gradient"]) * (np.cos(angle) * x_unit + np.sin(angle) * y_unit)
    across = (np.cos(shadow_angle) * x_unit - per(look["shadow_offset"])
              + np.sin(shadow_angle) * y_unit)
    shadow = per(look["shadow"]) / (1.0 + np.exp(-across / 0.25))
    image *= (1.0 + gradient) * (1.0 - shadow)

    # defocus: a per-image mix of two gaussian blurs (sigma 0.7 and 1.5 pixels)
    mix = per(look["blur"])
    image = (1.0 - mix) * _blur(image, 0.7) + mix * _blur(image, 1.5)

    # sensor: low contrast, an intensity shift, a gamma curve, then noise
    image = np.clip(per(look["contrast"]) * (image - 0.5) + 0.5 + per(look["shift"]), 0.0, 1.0)
    image = np.exp(per(look["gamma"]) * np.log(np.maximum(image, 1e-4)))
    image += per(look["noise"]) * rng.standard_normal(image.shape, dtype=np.float32)
    return _jpeg_blocks(np.clip(image, 0.0, 1.0), look["jpeg_quality"])


@lru_cache(maxsize=None)
def _linear_upsampler(size_in, size_out):
    """``(size_out, size_in)`` matrix of 1-D linear interpolation (align corners)."""
    position = np.linspace(0, size_in - 1, size_out)
    low = np.minimum(np.floor(position).astype(int), size_in - 2)
    weight = position - low
    matrix = np.zeros((size_out, size_in), dtype=np.float32)
    matrix[np.arange(size_out), low] = 1 - weight
    matrix[np.arange(size_out), low + 1] = weight
    return matrix


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
    rows = np.matmul(images, _blur_matrix(EYE_WIDTH, sigma).T)
    return np.matmul(_blur_matrix(EYE_HEIGHT, sigma), rows)


@lru_cache(maxsize=None)
def _block_dct():
    """``(64, 64)`` orthonormal 2-D DCT-II of a row-major 8x8 block: ``kron(D, D)``."""
    k, x = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    basis = np.cos(np.pi * (2 * x + 1) * k / 16) * np.sqrt(2 / 8)
    basis[0] /= np.sqrt(2)
    return np.kron(basis, basis).astype(np.float32)


def _jpeg_blocks(images, quality):
    """Quantise each 8x8 block's DCT like a JPEG encoder at ``quality`` (per image, 1-100).

    The 35 x 55 image is edge-padded to 40 x 56 (whole blocks); each block, flattened to 64
    values, is transformed by one matrix product with the 2-D DCT (JPEG's DCT is this
    orthonormal one), rounded to multiples of the scaled JPEG table, and transformed back.
    """
    n = images.shape[0]
    padded = np.pad(images * 255.0 - 128.0, ((0, 0), (0, 5), (0, 1)), mode="edge")
    blocks = padded.reshape(n, 5, 8, 7, 8).transpose(0, 1, 3, 2, 4).reshape(n, 35, 64)
    dct = _block_dct()
    # one small product per image rather than one big one: OpenBLAS runs small products on
    # the calling thread, and the renderer's own threads already use every core
    coefficients = blocks @ dct.T
    # libjpeg's quality -> table scaling
    scaling = np.where(quality < 50, 50.0 / quality, 2.0 - quality / 50.0).astype(np.float32)
    step = np.maximum(JPEG_TABLE.reshape(1, 1, 64) * scaling[:, None, None], 1.0)
    restored = (np.rint(coefficients / step) * step) @ dct
    restored = restored.reshape(n, 5, 7, 8, 8).transpose(0, 1, 3, 2, 4).reshape(n, 40, 56)
    return np.clip((restored[:, :EYE_HEIGHT, :EYE_WIDTH] + 128.0) / 255.0, 0.0, 1.0)
