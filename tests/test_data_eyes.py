"""The procedural eye renderer: shapes, determinism, labels shared between styles, geometry."""
import numpy as np
import pytest

from minigan.data.eye_geometry import PARAM_RANGES, gaze_vectors, pixel_fields
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


def test_one_seed_draws_the_same_eyes_in_both_styles():
    synthetic, photo = render_eyes(20, "synthetic", seed=5), render_eyes(20, "photo", seed=5)
    np.testing.assert_array_equal(synthetic.pupil_center, photo.pupil_center)


def test_photo_style_randomness_does_not_change_geometry():
    params = sample_eye_params(20, np.random.default_rng(0))
    a = render_eyes(20, "photo", seed=1, params=params)
    b = render_eyes(20, "photo", seed=2, params=params)
    np.testing.assert_array_equal(a.eyelid_landmarks, b.eyelid_landmarks)
    assert not np.allclose(a.images, b.images)


def test_sampled_params_stay_in_their_ranges():
    params = sample_eye_params(2000, np.random.default_rng(0))
    assert set(params) == set(PARAM_RANGES)
    assert np.abs(np.rad2deg(params["pitch"])).max() <= 25.0
    assert np.abs(np.rad2deg(params["yaw"])).max() <= 25.0
    assert params["opening"].min() >= PARAM_RANGES["opening"][0]


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


def test_pupil_centre_pixel_is_dark_in_a_wide_open_synthetic_eye():
    params = sample_eye_params(100, np.random.default_rng(1))
    params["opening"][:] = 1.0
    params["pitch"][:] = 0.0
    batch = render_eyes(100, "synthetic", params=params)
    x, y = np.rint(batch.pupil_center).astype(int).T
    assert np.all(batch.images[np.arange(100), 0, y, x] < -0.7)


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


def test_photo_is_grainy_where_synthetic_is_flat():
    def grain(images):  # typical |second difference| along rows: ~0 on flat shading
        return np.median(np.abs(np.diff(images, 2, axis=3)), axis=(1, 2, 3))
    synthetic, photo = render_eyes(200, "synthetic", seed=0), render_eyes(200, "photo", seed=0)
    assert grain(photo.images).min() > 2 * grain(synthetic.images).max()


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
