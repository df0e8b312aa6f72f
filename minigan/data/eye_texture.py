"""Textures of the procedural eye: per-identity noise maps, and hair (lashes, brows) strokes.

An *identity* is one person's fixed set of texture maps, made once from a fixed seed:

* ``skin``: albedo variation in head coordinates (1 texel = 1 pixel at scale 1): blotches
  with a power spectrum ~ 1/f^beta plus fine pores (white noise blurred by a gaussian,
  sigma 0.5 texel);
* ``wrinkles``: noise stretched 5:1 along x, read in coordinates that follow the lid curves,
  so the lines run parallel to the lids; only its dark ridges are kept;
* ``iris``: a polar map (columns: angle around the pupil, periodic; rows: radius) of radial
  fibres (stretched along the radius) and dark crypts.

Every map is periodic (made by filtering white noise in the Fourier domain), has mean 0 and
standard deviation 1, and is read with bilinear interpolation and wrap-around (``sample``).
Each style has its own identities (``texture_bank(style)``): the photo stand-in's people are
not the simulator's.
"""
from functools import lru_cache

import numpy as np

IDENTITIES = 128
SKIN_SHAPE = (64, 128)    # texels (rows = y_h, columns = x_h), centred on the eyeball
IRIS_SHAPE = (16, 64)     # rows: radius (IRIS_ROWS rows from the pupil centre to the limbus)
IRIS_ROWS = 8.0
# per style: (seed, beta, pore share): photo skin is smoother, with bigger blotches
BANK_RECIPES = {"synthetic": (20170, 2.0, 0.3), "photo": (20171, 2.2, 0.35)}


@lru_cache(maxsize=None)
def texture_bank(style):
    """``{"skin", "wrinkles", "iris"}`` -> ``(IDENTITIES, h + 1, w + 1)`` float32 maps of
    ``style``; the extra last row and column repeat the first (wrap-around for ``sample``)."""
    seed, exponent, pore_share = BANK_RECIPES[style]
    rng = np.random.default_rng(seed)
    fy, fx = _frequencies(SKIN_SHAPE)
    radial = np.sqrt(fx * fx + fy * fy)
    blotches = _filtered_noise(rng, SKIN_SHAPE, np.maximum(radial, 1 / 48) ** (-exponent / 2))
    pores = _filtered_noise(rng, SKIN_SHAPE, np.exp(-2 * (np.pi * 0.5 * radial) ** 2))
    skin = _unit(blotches + pore_share * pores)
    stretched = _filtered_noise(rng, SKIN_SHAPE, np.exp(-2 * np.pi ** 2 * ((2.5 * fx) ** 2
                                                                          + (0.5 * fy) ** 2)))
    wrinkles = _unit(np.maximum(_unit(stretched) - 0.8, 0.0))

    fy, fx = _frequencies(IRIS_SHAPE)
    fibres = _filtered_noise(rng, IRIS_SHAPE, np.exp(-2 * np.pi ** 2 * ((0.8 * fx) ** 2
                                                                        + (2.5 * fy) ** 2)))
    crypts = _filtered_noise(rng, IRIS_SHAPE, np.exp(-2 * np.pi ** 2 * 1.5 * (fx * fx + fy * fy)))
    iris = _unit(_unit(fibres) - 0.5 * np.maximum(_unit(crypts) - 1.2, 0.0))
    return {name: _wrap(values) for name, values in
            (("skin", skin), ("wrinkles", wrinkles), ("iris", iris))}


def sample(bank, identity, x, y):
    """Bilinear read of ``bank[identity]`` at texel coordinates ``(x, y)``, wrapping around.

    ``bank``: ``(K, h + 1, w + 1)`` from ``texture_bank`` (h, w powers of 2); ``identity``:
    ``(n,)`` ints; ``x``, ``y``: float32 arrays broadcasting to ``(n, H, W)``, within 1024
    texels of 0. Returns ``(n, H, W)`` float32.
    """
    _, rows, columns = bank.shape
    # + 1024 makes the coordinates positive, so truncation is floor; the masks wrap around
    x, y = np.broadcast_arrays(x + np.float32(1024.0), y + np.float32(1024.0))
    x0, y0 = x.astype(np.int32), y.astype(np.int32)
    fx = np.subtract(x, x0, dtype=np.float32, casting="unsafe")
    fy = np.subtract(y, y0, dtype=np.float32, casting="unsafe")
    index = ((y0 & (rows - 2)) * columns + (x0 & (columns - 2))
             + np.asarray(identity, np.int32)[:, None, None] * (rows * columns))
    flat = bank.reshape(-1)
    top = flat.take(index) * (1 - fx) + flat.take(index + 1) * fx
    bottom = flat.take(index + columns) * (1 - fx) + flat.take(index + columns + 1) * fx
    return top * (1 - fy) + bottom * fy


def lashes(fields, geometry, look):
    """Occlusion in [0, 1] by the eyelashes, ``(n, 35, 55)``: thin dark strokes rooted on the
    lid margins, fanning out towards the corners, thinning towards their tips.

    With v the height above the upper margin (head coordinates) and u the position along the
    lid, a lash rooted at u_r passes through ``u = u_r (1 + lean v / length)``; the strokes
    are the crests of ``cos(phi + 0.8 sin(2.3 phi + lash_phase))``, ``phi = pi N (u_r + 1)``
    (N lashes, irregularly spaced), cut narrower as v grows, over a dense dark row
    ``lash_line`` pixels wide at the margin. The lower lid has shorter, sparser, fainter ones.
    """
    per = lambda name: look[name][:, None, None]  # noqa: E731
    scale = np.asarray(geometry["half_width"], np.float32)[:, None, None] / 19.0
    u = fields["u"]
    corners = np.clip(2.0 * (1.0 - u * u), 0.0, 1.0)

    def strokes(height, length, count, darkness, lean):
        reach = height / (length * scale)                        # 0 at the root, 1 at the tip
        root = u / (1.0 + lean * np.maximum(reach, 0.0))
        phase = np.pi * count * (root + 1.0)
        crest = np.cos(phase + 0.8 * np.sin(2.3 * phase + per("lash_phase")))
        width = 0.25 + 0.55 * np.clip(reach, 0.0, 1.0)
        hair = np.clip((crest - width) / (1.0 - width), 0.0, 1.0)
        along = np.clip(1.0 - reach, 0.0, 1.0) * np.clip(1.0 + 2.0 * reach, 0.0, 1.0)
        line = np.exp(-(reach * length / per("lash_line")) ** 2)   # the dense row at the margin
        return darkness * corners * np.maximum(hair * along, line)

    upper = strokes(-fields["below_upper"], per("lash_length"), per("lash_count"),
                    per("lashes"), per("lash_lean"))
    lower = strokes(-fields["above_lower"], 0.45 * per("lash_length"),
                    0.5 * per("lash_count"), 0.45 * per("lashes"), per("lash_lean"))
    return np.clip(upper + lower, 0.0, 1.0)


def eyebrow(fields, geometry, look, identity, bank):
    """Occlusion in [0, 1] by the eyebrow, ``(n, 35, 55)``: a band ``brow_gap`` pixels above
    the open upper lid (often outside the crop), of hairs slanting outwards: the identity's
    ``wrinkles`` map read along the hair direction, so each hair is a short dark ridge."""
    per = lambda name: look[name][:, None, None]  # noqa: E731
    scale = np.asarray(geometry["half_width"], np.float32)[:, None, None] / 19.0
    x_head, y_head, u = fields["x_head"] / scale, fields["y_local"] / scale, fields["u"]
    centre = -(10.0 + per("brow_gap")) + 0.12 * x_head + 2.5 * u * u
    across = (y_head - centre) / per("brow_thickness")
    band = per("brow") * np.exp(-across ** 4) * np.clip(1.6 - 0.6 * u, 0.0, 1.0)
    seen = np.flatnonzero(band.max(axis=(1, 2)) > 1e-3)    # most brows are outside the crop
    x_seen, y_seen = x_head[seen], y_head[seen]
    hairs = sample(bank["wrinkles"], identity[seen], 0.9 * x_seen - 0.4 * y_seen,
                   2.0 * (y_seen + 0.4 * x_seen))
    band[seen] *= np.clip(0.7 + 0.25 * hairs, 0.0, 1.0)
    return band


def _frequencies(shape):
    """Frequency grids ``(fy, fx)`` in cycles per texel for an FFT of ``shape``."""
    return np.meshgrid(np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1]), indexing="ij")


def _filtered_noise(rng, shape, amplitude):
    """``(IDENTITIES,) + shape`` white noise with its spectrum multiplied by ``amplitude``."""
    white = rng.standard_normal((IDENTITIES,) + shape)
    return np.real(np.fft.ifft2(np.fft.fft2(white) * amplitude))


def _unit(maps):
    """Each map shifted and scaled to mean 0, standard deviation 1."""
    centred = maps - maps.mean(axis=(1, 2), keepdims=True)
    return centred / centred.std(axis=(1, 2), keepdims=True)


def _wrap(maps):
    """Append the first row and column after the last (float32)."""
    return np.pad(maps, ((0, 0), (0, 1), (0, 1)), mode="wrap").astype(np.float32)
