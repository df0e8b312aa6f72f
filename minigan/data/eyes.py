"""Procedural eye renderer: 35 x 55 grayscale eyes with exact gaze labels, in two styles.

    batch = render_eyes(1000, style="synthetic", seed=0)
    batch.images          # (1000, 1, 35, 55) float32 in [-1, 1]
    batch.gaze            # (1000, 3) unit gaze vectors (camera coordinates, see eye_geometry)

``synthetic`` plays the simulator (UnityEyes in the paper): textured skin, lashes, a fibrous
iris, a key light of random direction and strength, sharp glints, any head pose; clean, no
noise. ``photo`` is a *stand-in* for MPIIGaze's normalized webcam eyes, not real data: other
people, head poses and crops (``eye_geometry.PHOTO_PARAM_RANGES``), harsh light, screen glints
and glasses, then a low-resolution webcam and per-image histogram equalization
(``eye_camera``). Looks: ``eye_styles``, ``eye_texture``, ``eye_shading``.

Randomness: geometry comes from ``np.random.default_rng(seed)`` (unless ``params`` is given),
drawn from the style's own ranges, gaze first: one seed gives the same gaze in both styles,
and a different eye around it. Each style's appearance and noise come from streams spawned from
``SeedSequence([seed, style id])``, so they never change the geometry. Everything is vectorised
over the batch, in chunks of 32 eyes whose arrays stay in the CPU cache, one thread per core.
"""
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Dict, Mapping, Optional, Sequence

import numpy as np

from minigan.cpu.threads import cores
from minigan.data import eye_camera, eye_geometry, eye_shading, eye_styles, eye_texture
from minigan.data.eye_geometry import sample_eye_params  # noqa: F401  (public here)

STYLES = ("synthetic", "photo")
_STYLE_STREAM = {"synthetic": 1, "photo": 2}
_CHUNK = 32   # images per vectorised pass: its temporaries (~250 kB each) stay in the cache


@dataclass
class EyeBatch:
    """Rendered eyes and their exact labels (NumPy arrays).

    images:           (n, 1, 35, 55) float32 in [-1, 1]
    gaze:             (n, 3) float32 unit vectors, camera coordinates (x right, y down, z away)
    pupil_center:     (n, 2) float32 pixel (x, y) of the projected iris/pupil centre
    iris_radius:      (n,) float32 iris radius in pixels (the ellipse's long semi-axis)
    eyelid_landmarks: (n, 16, 2) float32 pixel (x, y) on the lid margin (0: inner corner,
                      1-7 upper lid, 8: outer corner, 9-15 lower lid)
    params:           the geometry, ``name -> (n,)`` as from ``sample_eye_params``
    style:            "synthetic" or "photo"
    """

    images: np.ndarray
    gaze: np.ndarray
    pupil_center: np.ndarray
    iris_radius: np.ndarray
    eyelid_landmarks: np.ndarray
    params: Dict[str, np.ndarray] = field(default_factory=dict)
    style: str = "synthetic"

    def __len__(self) -> int:
        return len(self.images)

    def labels(self) -> Dict[str, np.ndarray]:
        """The label arrays as a dict (what ``ArrayDataset`` stores)."""
        return {"gaze": self.gaze, "pupil_center": self.pupil_center,
                "iris_radius": self.iris_radius, "eyelid_landmarks": self.eyelid_landmarks}


def render_eyes(n: int, style: str = "synthetic", seed: int = 0,
                params: Optional[Mapping[str, np.ndarray]] = None,
                factors: Optional[Sequence[str]] = None) -> EyeBatch:
    """Render ``n`` eyes in ``style`` ("synthetic" | "photo"); returns an ``EyeBatch``.

    ``params``: geometry from ``sample_eye_params`` (a dict of ``(n,)`` arrays); drawn from
    ``seed`` and the style's ranges when None. Same params -> same labels in both styles.
    ``factors`` (photo only): which of the photo style's appearance groups
    (``eye_styles.FACTORS``: identity, light, glints, glasses, webcam, equalization) to apply;
    the others look as in the synthetic style. None: all of them.
    Same (n, style, seed, params, factors) -> the same images, bit for bit.
    """
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    factors = eye_styles.check_factors(style, factors)
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    n = int(n)
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if params is None:
        params = sample_eye_params(n, np.random.default_rng(seed), style)
    eye_geometry.check_params(params, n)
    params = {name: np.asarray(params[name], np.float64) for name in eye_geometry.PARAM_RANGES}
    geometry = eye_geometry.derived(params)

    parts = [slice(start, min(start + _CHUNK, n)) for start in range(0, n, _CHUNK)]
    # one stream for the per-image style numbers, one per chunk for its noise images, so the
    # result does not depend on the order in which the threads finish
    streams = np.random.SeedSequence([int(seed), _STYLE_STREAM[style]]).spawn(1 + len(parts))
    look = eye_styles.draw_style(style, n, np.random.default_rng(streams[0]), factors)
    people = "photo" if "identity" in factors else "synthetic"
    eye_texture.texture_bank(people)   # made once, here, rather than by racing threads
    images = np.empty((n, 1, eye_geometry.EYE_HEIGHT, eye_geometry.EYE_WIDTH), np.float32)

    def render_part(index):
        part, rng = parts[index], np.random.default_rng(streams[index + 1])
        images[part, 0] = _render_chunk(people, factors, _take(params, part),
                                        _take(geometry, part), _take(look, part), rng)

    # NumPy releases the GIL inside its array loops, so threads use all the cores
    with ThreadPoolExecutor(max_workers=max(1, min(len(parts), cores()))) as pool:
        list(pool.map(render_part, range(len(parts))))

    landmarks = eye_geometry.eyelid_landmarks(params, geometry)
    return EyeBatch(images=images,
                    gaze=geometry["gaze"].astype(np.float32),
                    pupil_center=geometry["pupil_center"].astype(np.float32),
                    iris_radius=geometry["iris_radius"].astype(np.float32),
                    eyelid_landmarks=landmarks.astype(np.float32),
                    params=params, style=style)


def _render_chunk(people, factors, params, geometry, look, rng):
    """``(m, 35, 55)`` float32 in [-1, 1] for one chunk of eyes."""
    fields = eye_geometry.pixel_fields(params, geometry)
    luminance = eye_shading.shade(fields, geometry, look, people)
    return eye_camera.webcam(luminance, geometry, look, rng, factors)


def _take(arrays, part):
    return {name: values[part] for name, values in arrays.items()}
