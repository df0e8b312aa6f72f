"""Shading of the procedural eye: albedo from textures, light from a height field, glints.

``shade(fields, geometry, look, style)`` turns the geometry fields (``eye_geometry``) and one
style's per-image numbers (``eye_styles``) into luminance in [0, 1]:

    radiance = albedo * (ambient + diffuse * lambert * (1 - shadow)) + specular + glints
    luminance = tanh(exposure * radiance)            (a soft shoulder: no flat clipping)

* Albedo: skin tone times ``1 + blotch * skin_map``, darkened along wrinkle lines and lid
  creases; sclera; an iris of radial fibres with a darker limbus and a collarette ring; the
  pupil; the caruncle; then lashes and brow hairs over everything (``eye_texture``).
* Skin normal: the lid surface (the paraboloid of ``eye_geometry``, turned with the head)
  plus the image gradient of a height field (lid bulges, crease grooves, brow ridge, the
  eye socket); the socket also hides part of the light (``occlusion``).
  Eyeball normal: the sphere of radius R. ``lambert = max(0, n . L)`` for the key light
  ``L`` (``light_azimuth`` around the view axis, ``light_elevation`` away from it, towards
  the camera side); the upper lid shades the eyeball below it, more when the light is high.
* ``shadow``: a hard cast shadow (from a nose or brow outside the crop): a logistic edge of
  width ``shadow_softness`` across the image, strength ``shadow`` (none when <= 0).
* Glints: the cornea is a sphere of radius 0.55 R centred 0.45 R along the gaze; a distant
  light in direction L reflects at the point whose normal is the half vector
  ``H = (L + V) / |L + V|``, V = (0, 0, -1), so the glint is at ``c + 0.45 R g + 0.55 R H``
  (projected). It is drawn as a sharp anti-aliased rectangle, on the cornea only
  (``H . g > cos 55 deg``) and only where the lids are open.
"""
import numpy as np

from minigan.data.eye_geometry import EYE_HEIGHT, EYE_WIDTH, HALF_WIDTH
from minigan.data.eye_texture import (IDENTITIES, IRIS_ROWS, IRIS_SHAPE, SKIN_SHAPE, eyebrow,
                                      lashes, sample, texture_bank)

CORNEA_OFFSET, CORNEA_RADIUS = 0.45, 0.55   # in eyeball radii
COS_CORNEA = np.cos(np.deg2rad(55.0))       # the cornea's cap around the gaze


def shade(fields, geometry, look, style):
    """Luminance ``(n, 35, 55)`` float32 in [0, 1] of the eyes (see the module docstring)."""
    per = lambda name: look[name][:, None, None]  # noqa: E731
    bank = texture_bank(style)
    identity = np.minimum(look["identity"].astype(np.int32), IDENTITIES - 1)
    scale = np.asarray(geometry["half_width"] / HALF_WIDTH, np.float32)[:, None, None]
    light = _light(look["light_azimuth"], look["light_elevation"])
    skin, height, socket = _skin(fields, look, bank, identity, scale)
    lambert_skin = _skin_lambert(fields, geometry, height, light)
    eye = _eyeball(fields, look, bank, identity, scale)
    lambert_eye, lid_shadow = _eyeball_light(fields, geometry, light, scale)

    direct = per("diffuse") * (1.0 - _cast_shadow(look))
    skin_light = (per("ambient") + direct * lambert_skin) * (1.0 - per("occlusion") * socket)
    radiance = skin * skin_light + per("specular") * lambert_skin ** 16
    eye_radiance = eye * (per("ambient") + direct * lambert_eye) * lid_shadow
    # the wet rim of the lower lid catches the light
    wet_line = 0.12 * np.exp(-((fields["above_lower"] - 0.6) / 0.5) ** 2) * _corners(fields)
    radiance += fields["opening"] * (eye_radiance + wet_line * skin_light - radiance)
    radiance += fields["opening"] * _glints(geometry, look, light)
    hair = np.maximum(lashes(fields, geometry, look),
                      eyebrow(fields, geometry, look, identity, bank))
    radiance = np.maximum(radiance, 0.0) * (1.0 - hair)
    return np.tanh(per("exposure") * radiance).astype(np.float32)


def _corners(fields):
    """1 along the lids, fading to 0 towards and beyond the eye's corners."""
    return np.clip(1.5 * (1.0 - fields["u"] * fields["u"]), 0.0, 1.0)


def _skin(fields, look, bank, identity, scale):
    """Skin albedo, height field (pixels towards the camera) and eye-socket weight.

    Albedo: ``skin * (1 + blotch * skin_map) * (1 - wrinkle * wrinkles) * (1 - creases)``,
    with two crease lines ``crease_gap`` and 1.8 ``crease_gap`` above the upper margin.
    Height: the bulge of the upper lid up to its crease, the creases as grooves, a bag under
    the lower lid, the brow ridge and the socket around the eye.
    """
    per = lambda name: look[name][:, None, None]  # noqa: E731
    x_head, y_head, corners = fields["x_head"], fields["y_local"], _corners(fields)
    above_upper = -fields["below_upper"] / scale        # height over the upper margin
    below_lower = -fields["above_lower"] / scale        # depth under the lower margin
    tex_x = x_head / scale + SKIN_SHAPE[1] / 2
    skin_map = sample(bank["skin"], identity, tex_x, y_head / scale + SKIN_SHAPE[0] / 2)
    along_lids = np.where(below_lower > 0, 32.0 + below_lower, -above_upper)
    wrinkles = sample(bank["wrinkles"], identity, tex_x, along_lids)
    gap = per("crease_gap")
    groove = np.exp(-((above_upper - gap) / 0.8) ** 2)
    fold = np.exp(-((above_upper - 1.8 * gap) / 0.9) ** 2)
    creases = corners * (per("crease") * groove + np.maximum(per("second_crease"), 0) * fold)
    albedo = per("skin") * (1.0 + per("blotch") * skin_map) * (1.0 - per("wrinkle") * wrinkles)
    albedo *= 1.0 - creases

    lid = np.exp(-(np.maximum(above_upper, 0.0) / gap) ** 2) * corners
    bag = np.exp(-((below_lower - 3.0) / 2.5) ** 2) * corners
    brow = 0.5 - 0.5 * np.tanh((y_head / scale + 10.0 + per("brow_gap")) / 6.0)
    socket = np.exp(-(x_head / (1.3 * HALF_WIDTH * scale)) ** 2
                    - ((y_head / scale + 4.0) / (0.9 * HALF_WIDTH)) ** 2)
    height = scale * (1.2 * lid - 0.8 * creases + 0.7 * bag + 3.0 * brow - 4.0 * socket)
    return albedo, height, socket


def _eyeball(fields, look, bank, identity, scale):
    """Eyeball albedo: sclera, an iris of radial fibres (the identity's polar ``iris`` map)
    with a collarette ring at rho = 0.5 and a dark limbus, the pupil, the caruncle."""
    per = lambda name: look[name][:, None, None]  # noqa: E731
    rho = fields["rho"]
    angle = np.arctan2(fields["py"], fields["px"]) * (IRIS_SHAPE[1] / (2 * np.pi))
    iris_map = sample(bank["iris"], identity, angle, rho * IRIS_ROWS)
    limbus = np.clip((rho - 0.7) / 0.3, 0.0, 1.0)
    collarette = per("collarette") * np.exp(-((rho - 0.5) / 0.08) ** 2)
    iris = per("iris") * (1.0 + per("iris_texture") * iris_map + collarette)
    iris *= 1.0 - 0.6 * limbus * limbus
    eye = per("sclera") + fields["iris"] * (iris - per("sclera"))
    eye += fields["pupil"] * (per("pupil") - eye)
    blob = (((fields["u"] + 0.86) / 0.2) ** 2
            + ((fields["y_local"] - 0.5 * scale) / (2.8 * scale)) ** 2)
    caruncle = per("caruncle") * per("skin") / 0.5          # pink-grey, follows the skin tone
    return eye + np.clip(2.0 - 2.0 * blob, 0.0, 1.0) * (caruncle - eye)


def _eyeball_light(fields, geometry, light, scale):
    """``max(0, n . L)`` on the eyeball sphere, and the shade of the upper lid on it (wider
    when the light comes from above) times a darkening towards the corners."""
    f32 = lambda values: np.asarray(values, np.float32)[:, None, None]  # noqa: E731
    radius = f32(geometry["eyeball_radius"])
    nx, ny = fields["dx"] / radius, fields["dy"] / radius
    nz = -np.sqrt(np.maximum(1.0 - nx * nx - ny * ny, 0.02))
    lambert = np.maximum(nx * f32(light[:, 0]) + ny * f32(light[:, 1]) + nz * f32(light[:, 2]),
                         0.0)
    reach = scale * (1.0 + 3.0 * np.maximum(-f32(light[:, 1]), 0.0))
    lid_shadow = 1.0 - 0.55 * np.exp(-np.maximum(fields["below_upper"], 0.0) / reach)
    return lambert, lid_shadow * (1.0 - 0.3 * fields["u"] * fields["u"])


def _light(azimuth, elevation):
    """``(n, 3)`` unit vectors towards the light: ``elevation`` away from the camera axis."""
    sin = np.sin(elevation)
    return np.stack([sin * np.cos(azimuth), sin * np.sin(azimuth), -np.cos(elevation)], axis=1)


def _skin_lambert(fields, geometry, height, light):
    """``max(0, n . L)`` of the skin: lid-surface normal turned by the head, tilted by the
    image gradient of ``height``. With slopes ``s = dz/dx, dz/dy`` the normal is
    ``(s_x, s_y, -1) / sqrt(1 + |s|^2)``."""
    f32 = lambda values: np.asarray(values, np.float32)[:, None, None]  # noqa: E731
    m, rho = geometry["head_rotation"], f32(geometry["face_radius"])
    # paraboloid normal in head coordinates (x_h / rho, y_h / rho, -1), turned to the camera
    nx_head, ny_head = fields["x_head"] / rho, fields["y_local"] / rho
    normal = [f32(m[:, k, 0]) * nx_head + f32(m[:, k, 1]) * ny_head - f32(m[:, k, 2])
              for k in range(3)]
    facing = np.minimum(normal[2], -0.2)    # keeps the slopes finite at grazing angles
    slope_y, slope_x = np.gradient(height, axis=(1, 2))
    sx, sy = normal[0] / -facing - slope_x, normal[1] / -facing - slope_y
    dot = sx * f32(light[:, 0]) + sy * f32(light[:, 1]) - f32(light[:, 2])
    return np.maximum(dot / np.sqrt(1.0 + sx * sx + sy * sy), 0.0)


def _cast_shadow(look):
    """``(n, 35, 55)`` (or ``(n, 1, 1)`` zeros) strength of a hard shadow edge across the image."""
    strength = np.maximum(look["shadow"], 0.0)[:, None, None]
    if not np.any(strength):
        return strength
    per = lambda name: look[name][:, None, None]  # noqa: E731
    xs = np.linspace(-1.0, 1.0, EYE_WIDTH, dtype=np.float32)[None, None, :]
    ys = np.linspace(-0.64, 0.64, EYE_HEIGHT, dtype=np.float32)[None, :, None]
    across = np.cos(per("shadow_angle")) * xs + np.sin(per("shadow_angle")) * ys
    softness = per("shadow_softness") / (EYE_WIDTH / 2)    # pixels -> units of xs
    return strength * (0.5 + 0.5 * np.tanh((across - per("shadow_offset")) / (2 * softness)))


def _glints(geometry, look, light):
    """``(n, 35, 55)`` corneal reflections of the key light and of the second light."""
    second = _light(look["glint2_azimuth"], look["glint2_elevation"])
    radius, gaze = geometry["eyeball_radius"][:, None], geometry["gaze"]
    glints = np.zeros((len(gaze), EYE_HEIGHT, EYE_WIDTH), np.float32)
    for direction, strength, width, height in (
            (light, look["glint"], look["glint_size"], look["glint_size"]),
            (second, np.maximum(look["glint2"], 0), look["glint2_width"], look["glint2_height"])):
        half = direction + np.array([0.0, 0.0, -1.0])
        half /= np.linalg.norm(half, axis=1, keepdims=True)
        centre = geometry["center"] + radius * (CORNEA_OFFSET * gaze[:, :2]
                                                + CORNEA_RADIUS * half[:, :2])
        on_cornea = np.clip((np.sum(half * gaze, axis=1) - COS_CORNEA) / 0.1, 0.0, 1.0)
        rows, columns = _box(centre[:, 1], height, EYE_HEIGHT), _box(centre[:, 0], width, EYE_WIDTH)
        glints += rows[:, :, None] * columns[:, None, :] * (strength * on_cornea)[:, None, None]
    return glints


def _box(centre, half_size, length):
    """``(n, length)`` anti-aliased 1-D box: 1 within ``half_size`` of ``centre``."""
    position = np.arange(length, dtype=np.float32)[None, :]
    return np.clip(0.5 + np.asarray(half_size, np.float32)[:, None]
                   - np.abs(position - np.asarray(centre, np.float32)[:, None]), 0.0, 1.0)
