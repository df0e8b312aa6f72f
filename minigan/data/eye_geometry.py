"""Geometry of the procedural eye: random parameters, exact labels, and per-pixel fields.

Conventions (shared by the renderer, its labels and the loaders):

* Image: 35 x 55 (H x W); pixel ``(x, y)`` has x to the right, y down, pixel centres at integers.
* The renderer draws a *left* eye as the camera sees it: the inner corner with the caruncle is
  on the image's left (as UnityEyes draws it).
* Camera coordinates: x right, y down, z away from the camera; projection is orthographic.
* Gaze: a unit vector in camera coordinates, the convention of MPIIGaze's normalized data;
  looking straight into the camera is (0, 0, -1):

      g = (-cos(pitch) sin(yaw), -sin(pitch), -cos(pitch) cos(yaw))

  so pitch > 0 looks up and yaw > 0 moves the pupil to the image's left.
* Head pose: a rotation ``M = Rz(roll) Ry(head_yaw) Rx(head_pitch)`` taking head coordinates
  to camera coordinates, about the eyeball centre. The head faces ``M (0, 0, -1)``, which is
  the gaze formula above with the head's angles (before roll), so head_pitch > 0 shows the
  eye from below. ``roll`` turns the head in the image plane.

The eye model, in pixels (s = ``scale``):

* Eyeball: centre ``c = (center_x, center_y)`` in the image, radius ``R = 13 s``. The iris is a
  disk of radius ``r = iris_size * R`` on the sphere, facing along g; its centre projects to
  ``pupil_center = c + sqrt(R^2 - r^2) * (g_x, g_y)``, and its outline to an ellipse with
  semi-axes r (across the gaze) and ``r |g_z|`` (along it). The eye turns in the head; gaze,
  pupil and iris depend only on g, whatever the head pose.
* Eyelids and skin lie on a surface fixed to the head, a paraboloid in head coordinates
  ``(x_h, y_h, z_h)``:  ``z_h = -R + (x_h^2 + y_h^2) / (2 * 24 s)`` (its front touches the
  cornea, the corners lie behind it). On it, with ``u = x_h / a`` and half-width ``a = 19 s``:

      upper lid  y_h = -h_up (1 - u^2) (1 + lid_skew u),  h_up = 10 s opening (1 + 0.5 sin p_h)
      lower lid  y_h = +h_lo (1 - u^2),   h_lo = 10 s opening lower_lid (1 - 0.25 sin p_h)

  where p_h is the gaze pitch relative to the head (the upper lid follows the eye up and
  down). The sclera is the region between the two curves, ``|u| < 1``. Each pixel is traced
  along the camera's axis to the surface, which gives its ``(x_h, y_h)``; each landmark is
  the surface point over its ``(x_h, y_h)``, rotated to the camera and projected. At zero
  head pitch and yaw this is the flat model ``(x_h, y_h)`` = the pixel offset rotated by roll.
"""
from typing import Dict, Union

import numpy as np

EYE_HEIGHT, EYE_WIDTH = 35, 55
EYEBALL_RADIUS = 13.0   # pixels at scale 1
HALF_WIDTH = 19.0       # half the corner-to-corner width, pixels at scale 1
LID_HEIGHT = 10.0       # upper-lid height at full opening, pixels at scale 1
FACE_RADIUS = 24.0      # radius of curvature of the lid surface, pixels at scale 1
N_LANDMARKS = 16        # eyelid margin points, as many as UnityEyes' interior_margin_2d

# name: (low, high) of a uniform draw; angles in degrees here, radians in the params. The
# gaze comes first, so one seed gives the same gaze in both styles.
PARAM_RANGES = {  # the simulator's eyes: any head pose, and every shape the photos have
    "pitch": (-25.0, 25.0),
    "yaw": (-25.0, 25.0),
    "head_pitch": (-20.0, 20.0),
    "head_yaw": (-30.0, 30.0),
    "roll": (-8.0, 8.0),
    "center_x": (25.0, 30.0),
    "center_y": (16.0, 20.0),
    "scale": (1.0, 1.35),
    "opening": (0.35, 1.05),
    "lower_lid": (0.45, 0.85),
    "lid_skew": (-0.25, 0.35),
    "iris_size": (0.5, 0.6),
    "pupil_size": (0.25, 0.7),
}
# MPIIGaze-like: the same gaze, but webcam head poses (mostly facing down at a laptop, the
# normalization removes roll), eyes lower in the crop, narrower openings, small pupils; every
# range lies inside the simulator's, as a simulator such as UnityEyes is built to cover the
# real data's shapes and poses (a refiner that keeps the labels cannot change a shape)
PHOTO_PARAM_RANGES = dict(PARAM_RANGES, **{
    "head_pitch": (-15.0, 8.0),
    "head_yaw": (-20.0, 20.0),
    "roll": (-3.0, 3.0),
    "center_x": (25.0, 30.0),
    "center_y": (17.0, 20.0),
    "scale": (1.0, 1.2),
    "opening": (0.45, 0.95),
    "lower_lid": (0.5, 0.85),
    "lid_skew": (-0.1, 0.35),
    "pupil_size": (0.25, 0.45),
})
GEOMETRY_RANGES = {"synthetic": PARAM_RANGES, "photo": PHOTO_PARAM_RANGES}
ANGLES = ("pitch", "yaw", "head_pitch", "head_yaw", "roll")


def sample_eye_params(n: int, rng: Union[np.random.Generator, int],
                      style: str = "synthetic") -> Dict[str, np.ndarray]:
    """Draw ``n`` eye geometries: a dict ``name -> (n,) float64`` (angles in radians).

    Keys and ranges are ``GEOMETRY_RANGES[style]`` (uniform draws, in that order, from
    ``rng``): gaze ``pitch``/``yaw`` (camera coordinates, the same ranges in both styles),
    ``head_pitch``/``head_yaw``/``roll``, eyeball ``center_x``/``center_y`` (pixels),
    ``scale``, eyelid ``opening``, ``lower_lid`` (lower/upper lid height), ``lid_skew``
    (upper-lid asymmetry), ``iris_size`` (iris/eyeball radius) and ``pupil_size``
    (pupil/iris radius).
    """
    if int(n) != n or n < 0:
        raise ValueError(f"sample_eye_params: n must be a non-negative integer, got {n!r}")
    if style not in GEOMETRY_RANGES:
        raise ValueError(f"sample_eye_params: style must be one of {tuple(GEOMETRY_RANGES)}, "
                         f"got {style!r}")
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    params = {}
    for name, (low, high) in GEOMETRY_RANGES[style].items():
        values = rng.uniform(low, high, size=int(n))
        params[name] = np.deg2rad(values) if name in ANGLES else values
    return params


def check_params(params, n=None):
    """Raise ``ValueError`` unless ``params`` has every key of ``PARAM_RANGES`` as ``(n,)``."""
    missing = [name for name in PARAM_RANGES if name not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected the keys of "
                         f"sample_eye_params: {list(PARAM_RANGES)}")
    sizes = {name: np.shape(params[name]) for name in PARAM_RANGES}
    first = sizes["pitch"]
    if len(first) != 1 or any(shape != first for shape in sizes.values()):
        raise ValueError(f"params arrays must all be 1-D of one length; got shapes {sizes}")
    if n is not None and first[0] != n:
        raise ValueError(f"params hold {first[0]} eyes but n={n}")
    return first[0]


def gaze_vectors(pitch, yaw):
    """``(n,)`` pitch, yaw in radians -> ``(n, 3)`` unit gaze vectors (see module docstring)."""
    return np.stack([-np.cos(pitch) * np.sin(yaw), -np.sin(pitch),
                     -np.cos(pitch) * np.cos(yaw)], axis=1)


def head_rotation(head_pitch, head_yaw, roll):
    """``(n, 3, 3)`` rotations ``M = Rz(roll) Ry(head_yaw) Rx(head_pitch)``, camera = M @ head."""
    def rotation(angle, plane):
        m = np.zeros((len(angle), 3, 3))
        i, j = plane
        m[:, 3 - i - j, 3 - i - j] = 1.0
        m[:, i, i] = m[:, j, j] = np.cos(angle)
        m[:, i, j], m[:, j, i] = -np.sin(angle), np.sin(angle)
        return m
    return rotation(roll, (0, 1)) @ rotation(head_yaw, (2, 0)) @ rotation(head_pitch, (2, 1))


def derived(params):
    """Sizes in pixels from the params: eyeball radius R, iris radius r, lid half-width a, lid
    heights h_up and h_lo, the head rotation ``(n, 3, 3)``, the gaze ``(n, 3)``, the eyeball
    centre and the pupil centre ``(n, 2)``; the rest ``(n,)``."""
    p = params
    gaze = gaze_vectors(p["pitch"], p["yaw"])
    rotation = head_rotation(p["head_pitch"], p["head_yaw"], p["roll"])
    eye_in_head = np.einsum("nji,nj->ni", rotation, gaze)    # M^T g
    lift = -eye_in_head[:, 1]                                 # sin of the pitch in the head
    eyeball = EYEBALL_RADIUS * p["scale"]
    iris = p["iris_size"] * eyeball
    depth = np.sqrt(eyeball ** 2 - iris ** 2)  # eyeball centre -> plane of the iris
    h_up = LID_HEIGHT * p["scale"] * p["opening"] * (1 + 0.5 * lift)
    h_lo = LID_HEIGHT * p["scale"] * p["opening"] * p["lower_lid"] * (1 - 0.25 * lift)
    center = np.stack([p["center_x"], p["center_y"]], axis=1)
    return {"gaze": gaze, "head_rotation": rotation, "eyeball_radius": eyeball,
            "iris_radius": iris, "half_width": HALF_WIDTH * p["scale"], "h_up": h_up,
            "h_lo": h_lo, "face_radius": FACE_RADIUS * p["scale"], "center": center,
            "pupil_center": center + depth[:, None] * gaze[:, :2]}


def eyelid_landmarks(params, geometry=None):
    """``(n, 16, 2)`` pixel (x, y) points on the lid margin.

    Point 0 is the inner corner (image left), points 1-7 run along the upper lid, point 8 is
    the outer corner and points 9-15 come back along the lower lid (UnityEyes' order).
    """
    g = derived(params) if geometry is None else geometry
    angle = 2 * np.pi * np.arange(N_LANDMARKS) / N_LANDMARKS
    u = -np.cos(angle)[None, :]                                  # (1, K): -1 ... 1 ... -1
    upper = np.arange(N_LANDMARKS)[None, :] <= N_LANDMARKS // 2
    bulge = np.clip(1 - u ** 2, 0, None)
    skew = 1 + params["lid_skew"][:, None] * u
    y_head = np.where(upper, -g["h_up"][:, None] * bulge * skew, g["h_lo"][:, None] * bulge)
    x_head = u * g["half_width"][:, None]
    z_head = _surface_depth(x_head, y_head, g["eyeball_radius"][:, None],
                            g["face_radius"][:, None])
    camera = np.einsum("nij,njk->nik", g["head_rotation"], np.stack([x_head, y_head, z_head], 1))
    return np.transpose(camera[:, :2] + g["center"][:, :, None], (0, 2, 1))


def _surface_depth(x_head, y_head, eyeball_radius, face_radius):
    """z_h of the lid surface over ``(x_h, y_h)`` (see the module docstring)."""
    return -eyeball_radius + (x_head * x_head + y_head * y_head) / (2 * face_radius)


def head_coordinates(geometry, dx, dy):
    """``(x_h, y_h)`` of the lid-surface point seen at pixel offsets ``(dx, dy)`` from the
    eyeball centre (arrays broadcasting against ``(n, 1, 1)``).

    The camera ray ``(dx, dy, t)`` is ``a + t d`` in head coordinates (``a = M^T (dx, dy, 0)``,
    ``d = M^T e_z``); on the paraboloid ``z_h = -R + (x_h^2 + y_h^2) / (2 rho)``:

        A t^2 + B t + C = 0,  A = (d_x^2 + d_y^2) / (2 rho),  B = (a_x d_x + a_y d_y) / rho - d_z,
        C = (a_x^2 + a_y^2) / (2 rho) - R - a_z

    and the nearer root is ``t = 2C / (-B + sqrt(B^2 - 4AC))``, the form that stays exact as
    A -> 0 (no head pitch or yaw). Rays past the surface's outline take the discriminant as 0.
    """
    f32 = lambda values: np.asarray(values, dtype=np.float32)[:, None, None]  # noqa: E731
    m = geometry["head_rotation"]
    rho, radius = f32(geometry["face_radius"]), f32(geometry["eyeball_radius"])
    a = [f32(m[:, 0, k]) * dx + f32(m[:, 1, k]) * dy for k in range(3)]
    d = [f32(m[:, 2, k]) for k in range(3)]
    quadratic = (d[0] * d[0] + d[1] * d[1]) / (2 * rho)
    linear = (a[0] * d[0] + a[1] * d[1]) / rho - d[2]
    constant = (a[0] * a[0] + a[1] * a[1]) / (2 * rho) - radius - a[2]
    root = np.sqrt(np.maximum(linear * linear - 4 * quadratic * constant, 0.0))
    t = 2 * constant / np.maximum(root - linear, 1e-3)
    return a[0] + t * d[0], a[1] + t * d[1]


def pixel_fields(params, geometry=None, edge=1.0):
    """Per-pixel fields the shading is built from; each ``(n, 35, 55)`` float32.

    * ``dx``, ``dy``: pixel offsets from the eyeball centre, ``(n, 1, 55)`` and ``(n, 35, 1)``
    * ``x_head``, ``y_local``: head coordinates of the lid surface (``y_local`` = y_h, pixels)
      and ``u = x_h / a``
    * ``below_upper``, ``above_lower``: signed distance in y_h inside each lid curve
    * ``opening``: coverage in [0, 1] of the visible eyeball (anti-aliased over ``edge`` px)
    * ``rho``: iris "radius" of each pixel, 1 on the limbus ellipse:
      ``rho^2 = (|d|^2 + (d . g_xy)^2 / g_z^2) / r^2``, d = pixel - pupil centre; and ``px``,
      ``py``, the components of d
    * ``iris``, ``pupil``: their coverages (pupil: ``rho < pupil_size``)
    """
    g = derived(params) if geometry is None else geometry
    f32 = lambda values: np.asarray(values, dtype=np.float32)[:, None, None]  # noqa: E731
    # pixel coordinates as a row (1, 1, W) and a column (1, H, 1): anything linear in x and y
    # is then built from (n, 1, W) and (n, H, 1) pieces, and only their sum is full size
    xs = np.arange(EYE_WIDTH, dtype=np.float32)[None, None, :]
    ys = np.arange(EYE_HEIGHT, dtype=np.float32)[None, :, None]
    dx, dy = xs - f32(g["center"][:, 0]), ys - f32(g["center"][:, 1])
    x_head, y_local = head_coordinates(g, dx, dy)
    u = x_head / f32(g["half_width"])
    bulge = np.maximum(1 - u * u, 0)
    below_upper = y_local + f32(g["h_up"]) * bulge * (1 + f32(params["lid_skew"]) * u)
    above_lower = f32(g["h_lo"]) * bulge - y_local
    # the third term closes the opening beyond the corners, where both lid curves are flat
    beyond_corners = (1 - np.abs(u)) * f32(g["half_width"])
    inside = np.minimum(np.minimum(below_upper, above_lower), beyond_corners)
    opening = _coverage(inside, edge)

    px, py = xs - f32(g["pupil_center"][:, 0]), ys - f32(g["pupil_center"][:, 1])
    gx, gy, gz = (f32(g["gaze"][:, k]) for k in range(3))
    along = px * gx + py * gy
    radius = f32(g["iris_radius"])
    rho = np.sqrt(px * px + py * py + along * along / (gz * gz)) / radius
    return {"dx": dx, "dy": dy, "x_head": x_head, "u": u, "y_local": y_local,
            "below_upper": below_upper, "above_lower": above_lower, "opening": opening,
            "rho": rho, "px": px, "py": py,
            "iris": _coverage((1 - rho) * radius, edge),
            "pupil": _coverage((f32(params["pupil_size"]) - rho) * radius, edge)}


def _coverage(signed_distance, edge):
    """Anti-aliased inside-ness: 0 outside, 1 inside, a linear ramp ``edge`` pixels wide."""
    return np.clip(0.5 + signed_distance / edge, 0.0, 1.0)
