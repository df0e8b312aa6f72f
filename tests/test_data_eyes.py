"""The procedural eye renderer: shapes, determinism, labels shared between styles, geometry."""
import numpy as np
import pytest

from minigan.data.eye_geometry import (GEOMETRY_RANGES, PARAM_RANGES, derived, eyelid_landmarks,
                                       gaze_vectors, head_coordinates, head_rotation,
                                       pixel_fields)
from minigan.data.eye_shading import shade
from minigan.data.eye_styles import draw_style
from minigan.data.eyes import EyeBatch, render_eyes, sample_eye_params


@pytest.mark.parametrize("style", ["synthetic", "photo"])
def test_render_gives_nchw_float32_images_in_range_and_labels(style):
    batch = render_eyes(300, style=style, seed=0)
    assert isinstance(batch, EyeBatch) and len(batch) == 300
    assert batch.images.shape == (300, 1, 35, 55) and batch.images.dtype == np.float32
    assert batch.images.min() >= -1.0 and batch.images.max() <= 1.0
    assert batch.gaze.shape == (300, 3) and batch.pupil_center.shape == (300, 2)
    assert batch.iris_radius.shape == (300,) and batch.eyelid_landmarks.shape == (300, 16, 2)
    np.testing.assert_allclose(np.linalg.norm(batch.gaze, axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("style", ["synthetic", "photo"])
def test_rendering_is_deterministic_given_the_seed(style):
    first, again = render_eyes(300, style, seed=7), render_eyes(300, style, seed=7)
    np.testing.assert_array_equal(first.images, again.images)
    np.testing.assert_array_equal(first.pupil_center, again.pupil_center)
    assert not np.array_equal(first.images, render_eyes(300, style, seed=8).images)


def test_same_params_give_the_same_labels_in_both_styles():
    params = sample_eye_params(50, np.random.default_rng(3))
    synthetic = render_eyes(50, "synthetic", seed=1, params=params)
    photo = render_eyes(50, "photo", seed=2, params=params)
    for name in ("gaze", "pupil_center", "iris_radius", "eyelid_landmarks"):
        np.testing.assert_array_equal(getattr(synthetic, name), getattr(photo, name))
    assert not np.allclose(synthetic.images, photo.images)


def test_one_seed_draws_the_same_gaze_in_both_styles_around_different_eyes():
    synthetic, photo = render_eyes(20, "synthetic", seed=5), render_eyes(20, "photo", seed=5)
    np.testing.assert_array_equal(synthetic.gaze, photo.gaze)
    assert not np.allclose(synthetic.eyelid_landmarks, photo.eyelid_landmarks)


def test_photo_geometry_is_its_own_distribution():
    synthetic = sample_eye_params(4000, np.random.default_rng(0), "synthetic")
    photo = sample_eye_params(4000, np.random.default_rng(0), "photo")
    assert photo["scale"].mean() < synthetic["scale"].mean() - 0.05    # smaller in the crop
    assert np.rad2deg(np.abs(photo["roll"])).max() <= 3.0                # normalized: no roll
    assert np.rad2deg(photo["head_pitch"]).mean() < -2.0                 # looking down
    for name in ("pitch", "yaw"):                                        # no label shift
        assert GEOMETRY_RANGES["photo"][name] == GEOMETRY_RANGES["synthetic"][name]


def test_photo_style_randomness_does_not_change_geometry():
    params = sample_eye_params(20, np.random.default_rng(0))
    a = render_eyes(20, "photo", seed=1, params=params)
    b = render_eyes(20, "photo", seed=2, params=params)
    np.testing.assert_array_equal(a.eyelid_landmarks, b.eyelid_landmarks)
    assert not np.allclose(a.images, b.images)


@pytest.mark.parametrize("style", ["synthetic", "photo"])
def test_sampled_params_stay_in_their_ranges(style):
    params = sample_eye_params(2000, np.random.default_rng(0), style)
    assert set(params) == set(PARAM_RANGES)
    for name, (low, high) in GEOMETRY_RANGES[style].items():
        values = params[name]
        if name in ("pitch", "yaw", "head_pitch", "head_yaw", "roll"):
            values = np.rad2deg(values)
        assert low <= values.min() and values.max() <= high, name


def test_straight_gaze_looks_into_the_camera_and_pitch_up_moves_the_pupil_up():
    np.testing.assert_allclose(gaze_vectors(np.zeros(1), np.zeros(1)), [[0, 0, -1]], atol=1e-12)
    params = sample_eye_params(2, np.random.default_rng(0))
    params = {name: np.full(2, values[0]) for name, values in params.items()}
    params["pitch"] = np.deg2rad([20.0, -20.0])
    params["yaw"] = np.deg2rad([0.0, 0.0])
    batch = render_eyes(2, "synthetic", params=params)
    assert batch.pupil_center[0, 1] < params["center_y"][0] < batch.pupil_center[1, 1]


def test_pupil_shifts_along_the_image_projection_of_the_gaze():
    batch = render_eyes(500, "synthetic", seed=0)
    shift = batch.pupil_center - np.stack([batch.params["center_x"], batch.params["center_y"]], 1)
    cosine = np.sum(shift * batch.gaze[:, :2], axis=1)
    assert np.all(cosine > 0)


def test_pupil_centre_label_lands_on_the_pupil_darker_than_the_iris_around_it():
    """In the synthetic scene with glints switched off, the pixel at the pupil-centre label is
    darker than most of the visible iris ring. (The photo style's irises are as dark as its
    pupils, by design, and share this geometry code.)"""
    params = sample_eye_params(100, np.random.default_rng(1))
    params["opening"][:] = 1.0
    params["pitch"][:] = params["head_pitch"][:] = 0.0
    geometry = derived(params)
    look = draw_style("synthetic", 100, np.random.default_rng(2))
    look["glint"][:], look["glint2"][:] = 0.0, -1.0
    fields = pixel_fields(params, geometry)
    scene = shade(fields, geometry, look, "synthetic")
    x, y = np.rint(geometry["pupil_center"]).astype(int).T
    for k in range(100):
        rho = fields["rho"][k]
        ring = (rho > params["pupil_size"][k] + 0.08) & (rho < 0.9) & (fields["opening"][k] > 0.5)
        assert scene[k, y[k], x[k]] < np.percentile(scene[k][ring], 25)


def test_iris_is_foreshortened_along_the_gaze():
    params = sample_eye_params(1, np.random.default_rng(2))
    params["yaw"][:], params["pitch"][:] = np.deg2rad(25.0), 0.0
    fields = pixel_fields(params)
    inside = fields["rho"][0] <= 1.0
    columns, rows = inside.any(axis=0).sum(), inside.any(axis=1).sum()
    assert columns < rows  # looking sideways: the limbus ellipse is narrower than tall


def test_eyelid_landmarks_run_from_inner_corner_over_the_upper_lid():
    batch = render_eyes(100, "synthetic", seed=0)
    marks = batch.eyelid_landmarks
    assert np.all(marks[:, 0, 0] < marks[:, 8, 0])           # inner corner on the left
    assert np.all(marks[:, 4, 1] < marks[:, 12, 1])          # upper lid above lower lid


def test_head_rotation_is_a_rotation_facing_the_head_direction():
    rng = np.random.default_rng(0)
    pitch, yaw = rng.uniform(-0.5, 0.5, 50), rng.uniform(-0.5, 0.5, 50)
    m = head_rotation(pitch, yaw, np.zeros(50))
    np.testing.assert_allclose(m @ np.transpose(m, (0, 2, 1)), np.broadcast_to(np.eye(3), m.shape),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(m), 1.0)
    np.testing.assert_allclose(m @ np.array([0.0, 0.0, -1.0]), gaze_vectors(pitch, yaw), atol=1e-12)


def test_without_head_pitch_and_yaw_the_lids_are_the_flat_model():
    params = sample_eye_params(30, np.random.default_rng(4))
    params["head_pitch"][:] = params["head_yaw"][:] = 0.0
    g = derived(params)
    dx = np.random.default_rng(5).uniform(-25, 25, (30, 1, 7)).astype(np.float32)
    dy = np.random.default_rng(6).uniform(-15, 15, (30, 1, 7)).astype(np.float32)
    x_head, y_head = head_coordinates(g, dx, dy)
    cos, sin = np.cos(params["roll"])[:, None, None], np.sin(params["roll"])[:, None, None]
    np.testing.assert_allclose(x_head, cos * dx + sin * dy, atol=1e-4)
    np.testing.assert_allclose(y_head, cos * dy - sin * dx, atol=1e-4)


@pytest.mark.parametrize("style", ["synthetic", "photo"])
def test_landmarks_lie_on_the_lid_curves_the_renderer_draws(style):
    """Trace each landmark's pixel back to the lid surface: it lands on the lid curve."""
    params = sample_eye_params(200, np.random.default_rng(7), style)
    g = derived(params)
    marks = eyelid_landmarks(params, g)
    dx = (marks[:, :, 0] - g["center"][:, :1])[:, None, :].astype(np.float32)
    dy = (marks[:, :, 1] - g["center"][:, 1:])[:, None, :].astype(np.float32)
    x_head, y_head = (values[:, 0] for values in head_coordinates(g, dx, dy))
    u = x_head / g["half_width"][:, None]
    bulge = np.maximum(1 - u * u, 0)
    upper = -g["h_up"][:, None] * bulge * (1 + params["lid_skew"][:, None] * u)
    lower = g["h_lo"][:, None] * bulge
    np.testing.assert_allclose(y_head[:, :9], upper[:, :9], atol=2e-3)
    np.testing.assert_allclose(y_head[:, 9:], lower[:, 9:], atol=2e-3)
    np.testing.assert_allclose(u[:, 0], -1.0, atol=1e-3)
    np.testing.assert_allclose(u[:, 8], 1.0, atol=1e-3)


def test_turning_the_head_moves_the_lids_but_not_the_gaze_labels():
    params = sample_eye_params(1, np.random.default_rng(8))
    params.update(head_pitch=np.zeros(1), head_yaw=np.zeros(1), roll=np.zeros(1))
    straight = render_eyes(1, "synthetic", params=params)
    params["head_yaw"] = np.deg2rad([20.0])
    turned = render_eyes(1, "synthetic", params=params)
    for name in ("gaze", "pupil_center", "iris_radius"):
        np.testing.assert_array_equal(getattr(straight, name), getattr(turned, name))
    # head yaw > 0 turns the face to the image's left; the lids, in front of the eyeball
    # centre, move that way, and the far (outer, right) corner foreshortens
    shift = turned.eyelid_landmarks[0, :, 0] - straight.eyelid_landmarks[0, :, 0]
    assert shift.mean() < -2.0
    width = lambda batch: np.ptp(batch.eyelid_landmarks[0, :, 0])  # noqa: E731
    assert width(turned) < width(straight)


def test_head_pitch_shows_the_eye_from_below():
    params = sample_eye_params(1, np.random.default_rng(9))
    params.update(head_pitch=np.zeros(1), head_yaw=np.zeros(1), roll=np.zeros(1))
    level = render_eyes(1, "synthetic", params=params).eyelid_landmarks[0]
    params["head_pitch"] = np.deg2rad([20.0])
    raised = render_eyes(1, "synthetic", params=params).eyelid_landmarks[0]
    assert raised[:, 1].mean() < level[:, 1].mean() - 2.0    # lids move up in the image
    assert np.ptp(raised[:, 1]) < np.ptp(level[:, 1])        # and the opening foreshortens


def test_unknown_style_and_bad_params_are_clear_errors():
    with pytest.raises(ValueError, match="style must be one of"):
        render_eyes(3, style="cartoon")
    params = sample_eye_params(3, np.random.default_rng(0))
    del params["roll"]
    with pytest.raises(ValueError, match="roll"):
        render_eyes(3, params=params)
    with pytest.raises(ValueError, match="n=4"):
        render_eyes(4, params=sample_eye_params(3, np.random.default_rng(0)))


def test_rendering_zero_and_one_eyes_works():
    assert render_eyes(0, "photo").images.shape == (0, 1, 35, 55)
    assert render_eyes(1, "photo").images.shape == (1, 1, 35, 55)


def test_the_photo_geometry_lies_inside_the_simulators_ranges():
    for name, (low, high) in GEOMETRY_RANGES["photo"].items():
        sim_low, sim_high = PARAM_RANGES[name]
        assert sim_low <= low <= high <= sim_high, name
