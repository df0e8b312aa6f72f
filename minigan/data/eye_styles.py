"""The two looks of the procedural eye, as ranges of per-image appearance numbers.

* ``synthetic``, a miniature of UnityEyes renders: people with textured skin (pores, wrinkles,
  lid creases, brows), lashes and a fibrous iris, under one key light of random direction and
  strength plus ambient light, with sharp corneal reflections of the key light and of an
  environment light; a wide range of skin tones and exposures; clean and noise-free.
* ``photo``, a miniature of MPIIGaze's normalized webcam eyes (a stand-in, not real data):
  other people (smoother skin, fewer and shorter lashes, brows closer to the eye, dark irises
  that merge with the pupil, as in MPIIGaze's webcam eyes), harsher light (grazing, one-sided,
  little ambient, hard cast shadows), a glint of the laptop screen, glasses on about a quarter
  of the images, then a webcam (``eye_camera.webcam``) and the dataset's per-image histogram
  equalization.

Every number is drawn uniformly from ``(low, high)``, per image, from the style's own stream;
``identity`` is floored to an index into ``eye_texture.texture_bank(style)``. A hard shadow,
a second crease or glasses appear when their number is above 0 (resp. below 0.25), so
ranges that start below 0 make them occasional. Angles are in radians; lengths in pixels at
scale 1.
"""
import numpy as np

from minigan.data.eye_texture import IDENTITIES

DEGREE = np.pi / 180
APPEARANCE = {
    "synthetic": {
        "identity": (0, IDENTITIES), "skin": (0.28, 0.75), "sclera": (0.8, 1.0),
        "iris": (0.12, 0.6), "pupil": (0.02, 0.05), "caruncle": (0.45, 0.7),
        "blotch": (0.03, 0.08), "wrinkle": (0.02, 0.08), "iris_texture": (0.06, 0.2),
        "collarette": (-0.15, 0.25),
        "crease": (0.15, 0.45), "crease_gap": (3.0, 6.5), "second_crease": (-0.3, 0.35),
        "lashes": (0.55, 0.9), "lash_length": (1.5, 3.5), "lash_count": (18.0, 28.0),
        "lash_lean": (0.3, 0.7), "lash_phase": (0.0, 2 * np.pi), "lash_line": (1.0, 1.5),
        "brow": (0.3, 0.7), "brow_gap": (8.0, 14.0), "brow_thickness": (2.5, 4.5),
        "light_azimuth": (0.0, 2 * np.pi), "light_elevation": (0.0, 55 * DEGREE),
        "diffuse": (0.6, 1.3), "ambient": (0.1, 0.4), "occlusion": (0.1, 0.4),
        "exposure": (0.8, 1.6),
        "specular": (0.0, 0.08), "shadow": (-0.8, 0.6), "shadow_angle": (0.0, 2 * np.pi),
        "shadow_offset": (-0.6, 0.6), "shadow_softness": (0.5, 3.0),
        "glint": (0.8, 1.6), "glint_size": (0.4, 0.9),
        "glint2": (-0.3, 1.0), "glint2_azimuth": (0.0, 2 * np.pi),
        "glint2_elevation": (10 * DEGREE, 45 * DEGREE), "glint2_width": (0.4, 1.5),
        "glint2_height": (0.4, 1.0),
    },
    "photo": {
        "identity": (0, IDENTITIES), "skin": (0.2, 0.8), "sclera": (0.3, 0.6),
        "iris": (0.02, 0.08), "pupil": (0.02, 0.05), "caruncle": (0.4, 0.65),
        "blotch": (0.02, 0.06), "wrinkle": (0.0, 0.05), "iris_texture": (0.02, 0.08),
        "collarette": (-0.1, 0.1),
        "crease": (0.0, 0.35), "crease_gap": (2.0, 5.0), "second_crease": (-0.5, 0.2),
        "lashes": (0.4, 0.8), "lash_length": (2.0, 4.0), "lash_count": (9.0, 15.0),
        "lash_lean": (0.05, 0.25), "lash_phase": (0.0, 2 * np.pi), "lash_line": (1.5, 2.5),
        "brow": (0.4, 0.85), "brow_gap": (5.0, 10.0), "brow_thickness": (2.5, 5.0),
        "light_azimuth": (0.0, 2 * np.pi), "light_elevation": (20 * DEGREE, 70 * DEGREE),
        "diffuse": (0.6, 1.3), "ambient": (0.12, 0.45), "occlusion": (0.2, 0.5),
        "exposure": (0.35, 1.8),
        "specular": (0.05, 0.25), "shadow": (-0.5, 0.6), "shadow_angle": (0.0, 2 * np.pi),
        "shadow_offset": (-0.6, 0.6), "shadow_softness": (0.3, 2.0),
        "glint": (0.3, 1.2), "glint_size": (0.5, 1.0),
        # the laptop screen, below the camera: a wide, low glint
        "glint2": (0.3, 1.2), "glint2_azimuth": (60 * DEGREE, 120 * DEGREE),
        "glint2_elevation": (8 * DEGREE, 28 * DEGREE), "glint2_width": (1.0, 1.8),
        "glint2_height": (0.5, 0.9),
    },
}
WEBCAM = {  # photo only: glasses, then the camera chain of eye_camera.webcam
    "glasses": (0.0, 1.0), "frame_width": (0.8, 3.0), "frame_tone": (0.0, 1.0),
    "lens_dx": (-6.0, 6.0), "lens_dy": (-2.0, 6.0), "lens_width": (40.0, 60.0),
    "lens_height": (14.0, 24.0), "lens_tilt": (-0.15, 0.15), "lens_glare": (0.0, 0.15),
    "glare_x": (-1.0, 1.0), "glare_y": (-1.0, 1.0), "reflection": (-0.6, 0.8),
    "blur": (0.0, 1.0), "resolution": (0.0, 4.0), "brightness": (0.35, 0.55),
    "noise_gain": (0.0003, 0.002), "noise_floor": (0.00001, 0.00008), "response": (0.7, 1.4),
    "jpeg_quality": (60.0, 95.0),
}
GLASSES_SHARE = 0.25

# What the photo style changes, in groups that a study can switch one at a time; a group off
# draws its numbers from the synthetic ranges (glasses: none; webcam: no camera chain;
# equalization: no histogram equalization; identity: the synthetic people's textures too).
FACTORS = {
    "identity": ("identity", "skin", "sclera", "iris", "pupil", "caruncle", "blotch", "wrinkle",
                 "iris_texture", "collarette", "crease", "crease_gap", "second_crease", "lashes",
                 "lash_length", "lash_count", "lash_lean", "lash_phase", "lash_line", "brow",
                 "brow_gap", "brow_thickness"),
    "light": ("light_azimuth", "light_elevation", "diffuse", "ambient", "occlusion", "exposure",
              "specular", "shadow", "shadow_angle", "shadow_offset", "shadow_softness"),
    "glints": ("glint", "glint_size", "glint2", "glint2_azimuth", "glint2_elevation",
               "glint2_width", "glint2_height"),
    "glasses": ("glasses", "frame_width", "frame_tone", "lens_dx", "lens_dy", "lens_width",
                "lens_height", "lens_tilt", "lens_glare", "glare_x", "glare_y", "reflection"),
    "webcam": ("blur", "resolution", "brightness", "noise_gain", "noise_floor", "response",
               "jpeg_quality"),
    "equalization": (),
}
ALL_FACTORS = tuple(FACTORS)


def check_factors(style, factors):
    """The photo factors to apply, as a tuple in ``FACTORS`` order (None: all of them for
    ``photo``, none for ``synthetic``); ValueError for an unknown name or a synthetic style
    asked for factors."""
    if factors is None:
        return ALL_FACTORS if style == "photo" else ()
    factors = tuple(factors)
    unknown = sorted(set(factors) - set(FACTORS))
    if unknown:
        raise ValueError(f"unknown photo factors {unknown}; choose from {list(FACTORS)}")
    if factors and style != "photo":
        raise ValueError(f"photo factors {list(factors)} need style='photo', not {style!r}")
    return tuple(name for name in FACTORS if name in factors)


def draw_style(style, n, rng, factors=None):
    """Per-image style numbers: ``name -> (n,)`` float32, uniform over the style's ranges
    (``APPEARANCE[style]``, and ``WEBCAM`` for photo), in the order of those dicts.

    For ``photo``, a name whose group is not among ``factors`` (``check_factors``) is drawn from
    the synthetic range (the camera's from its own: unused then). Every number takes the same
    draw from ``rng`` whatever the factors, so switching one group off changes no other."""
    factors = check_factors(style, factors)
    ranges = dict(APPEARANCE[style], **(WEBCAM if style == "photo" else {}))
    if style == "photo":
        off = {name for group in FACTORS if group not in factors for name in FACTORS[group]}
        ranges.update({name: APPEARANCE["synthetic"][name] for name in off
                       if name in APPEARANCE["synthetic"]})
    # the same uniform draw, scaled to each range: u in [0, 1) -> low + u (high - low)
    return {name: (low + (high - low) * rng.random(size=n)).astype(np.float32)
            for name, (low, high) in ranges.items()}
