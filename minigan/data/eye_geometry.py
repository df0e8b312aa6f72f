"""Geometry of the procedural eye: random parameters, exact labels, and per-pixel fields.

Conventions (shared by the renderer, its labels and the loaders):

* Image: 35 x 55 (H x W); pixel ``(x, y)`` has x to the right, y down, pixel centres at integers.
* The renderer draws a *left* eye as the camera sees it: the inner corner with the caruncle is
  on the image's left (as UnityEyes draws it).
* Gaze: a unit vector in camera coordinates (x right, y down, z away from the camera), the
  convention of MPIIGaze's normalized data; looking straight into the camera is (0, 0, -1):

      g = (-cos(pitch) sin(yaw), -sin(pitch), -cos(pitch) cos(yaw))

  so pitch > 0 looks up and yaw > 0 moves the pupil to the image's left.

The eye model, in pixels (s = ``scale``):

* Eyeball: centre ``c = (center_x, center_y)``, radius ``R = 13 s``. The iris is a disk of radius
  ``r = iris_size * R`` on the sphere, facing along g; its centre projects (orthographically) to
  ``pupil_center = c + sqrt(R^2 - r^2) * (g_x, g_y)``, and its outline to an ellipse with
  semi-axes r (across the gaze) and ``r |g_z|`` (along it).
* Eyelids, in eye-local coordinates (x_l, y_l) rotated by ``roll`` about c, with
  ``u = x_l / a`` and half-width ``a = 19 s``:

      upper lid  y_l = -h_up (1 - u^2) (1 + lid_skew u),  h_up = 10 s opening (1 + 0.5 sin pitch)
      lower lid  y_l = +h_lo (1 - u^2),   h_lo = 10 s opening lower_lid (1 - 0.25 sin pitch)

  The upper lid follows the gaze up and down, as real lids do. The sclera is the region
  between the two curves, ``|u| < 1``.
"""
import numpy as np

EYE_HEIGHT, EYE_WIDTH = 35, 55
EYEBALL_RADIUS = 13.0   # pixels at scale 1
HALF_WIDTH = 19.0       # half the corner-to-corner width, pixels at scale 1
LID_HEIGHT = 10.0       # upper-lid height at full opening, pixels at scale 1
N_LANDMARKS = 16        # eyelid margin points, as many as UnityEyes' interior_margin_2d

# name: (low, high) of a uniform draw; angles in degrees here, radians in the params
PARAM_RANGES = {
    "pitch": (-25.0, 25.0),
    "yaw": (-25.0, 25.0),
    "center_x": (24.0, 30.0),
    "center_y": (15.5, 19.0),
    "scale": (0.85, 1.1),
    "roll": (-8.0, 8.0),
    "opening": (0.5, 1.0),
    "lower_lid": (0.45, 0.75),
    "lid_skew": (-0.25, 0.25),
    "iris_size": (0.46, 0.56),
    "pupil_size": (0.3, 0.55),
}
ANGLES = ("pitch", "yaw", "roll")


def sample_eye_params(n, rng):
    """Draw ``n`` eye geometries: a dict ``name -> (n,) float64`` (angles in radians).

    Keys and ranges are ``PARAM_RANGES`` (uniform draws, in that order, from ``rng``):
    gaze ``pitch``/``yaw`` within +-25 degrees, eyeball ``center_x``/``center_y`` (pixels),
    ``scale``, head ``roll``, eyelid ``opening``, ``lower_lid`` (lower/upper lid height),
    ``lid_skew`` (upper-lid asymmetry), ``iris_size`` (iris/eyeball radius) and
    ``pupil_size`` (pupil/iris radius).
    """
    if int(n) != n or n < 0:
        raise ValueError(f"sample_eye_params: n must be a non-negative integer, got {n!r}")
    rng = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    params = {}
    for name, (low, high) in PARAM_RANGES.items():
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


def derived(params):
    """Sizes in pixels from the params: eyeball radius R, iris radius r, lid half-width a,
    lid heights h_up and h_lo, and the pupil centre; each ``(n,)`` (pupil centre ``(n, 2)``)."""
    p = params
    gaze = gaze_vectors(p["pitch"], p["yaw"])
    eyeball = EYEBALL_RADIUS * p["scale"]
    iris = p["iris_size"] * eyeball
    depth = np.sqrt(eyeball ** 2 - iris ** 2)  # eyeball centre -> plane of the iris
    lift = np.sin(p["pitch"])
    h_up = LID_HEIGHT * p["scale"] * p["opening"] * (1 + 0.5 * lift)
    h_lo = LID_HEIGHT * p["scale"] * p["opening"] * p["lower_lid"] * (1 - 0.25 * lift)
    center = np.stack([p["center_x"], p["center_y"]], axis=1)
    return {"gaze": gaze, "eyeball_radius": eyeball, "iris_radius": iris,
            "half_width": HALF_WIDTH * p["scale"], "h_up": h_up, "h_lo": h_lo,
            "center": center, "pupil_center": center + depth[:, None] * gaze[:, :2]}


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
    y_local = np.where(upper, -g["h_up"][:, None] * bulge * skew, g["h_lo"][:, None] * bulge)
    x_local = u * g["half_width"][:, None]
    cos, sin = np.cos(params["roll"])[:, None], np.sin(params["roll"])[:, None]
    x = g["center"][:, 0:1] + cos * x_local - sin * y_local
    y = g["center"][:, 1:2] + sin * x_local + cos * y_local
    return np.stack([x, y], axis=2)


def pixel_fields(params, geometry=None, edge=1.0):
    """Per-pixel fields the shading is built from; each ``(n, 35, 55)`` float32.

    * ``u``, ``y_local``: eye-local coordinates (u = x_l / a, y_l in pixels)
    * ``below_upper``, ``above_lower``: signed pixel distance (vertical) inside each lid curve
    * ``opening``: coverage in [0, 1] of the visible eyeball (anti-aliased over ``edge`` px)
    * ``rho``: iris "radius" of each pixel, 1 on the limbus ellipse:
      ``rho^2 = (|d|^2 + (d . g_xy)^2 / g_z^2) / r^2``, d = pixel - pupil centre
    * ``iris``, ``pupil``: their coverages (pupil: ``rho < pupil_size``)
    """
    g = derived(params) if geometry is None else geometry
    f32 = lambda values: np.asarray(values, dtype=np.float32)[:, None, None]  # noqa: E731
    # pixel coordinates as a row (1, 1, W) and a column (1, H, 1): anything linear in x and y
    # is then built from (n, 1, W) and (n, H, 1) pieces, and only their sum is full size
    xs = np.arange(EYE_WIDTH, dtype=np.float32)[None, None, :]
    ys = np.arange(EYE_HEIGHT, dtype=np.float32)[None, :, None]
    dx, dy = xs - f32(g["center"][:, 0]), ys - f32(g["center"][:, 1])
    cos, sin = f32(np.cos(params["roll"])), f32(np.sin(params["roll"]))
    x_local, y_local = cos * dx + sin * dy, cos * dy - sin * dx
    u = x_local / f32(g["half_width"])
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
    return {"u": u, "y_local": y_local, "below_upper": below_upper, "above_lower": above_lower,
            "opening": opening, "rho": rho,
            "iris": _coverage((1 - rho) * radius, edge),
            "pupil": _coverage((f32(params["pupil_size"]) - rho) * radius, edge)}


def _coverage(signed_distance, edge):
    """Anti-aliased inside-ness: 0 outside, 1 inside, a linear ramp ``edge`` pixels wide."""
    return np.clip(0.5 + signed_distance / edge, 0.0, 1.0)
