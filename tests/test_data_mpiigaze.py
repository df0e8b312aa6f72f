"""MPIIGaze normalized .mat files: data.left/right.image (N x 36 x 60) and .gaze (N x 3)."""
import numpy as np
import pytest
import scipy.io

from minigan.data.bad_files import DataError
from minigan.data.mpiigaze import load_mpiigaze


def eye_struct(n, rng, brightness):
    image = np.full((n, 36, 60), brightness, dtype=np.uint8)
    image[:, :, :20] = 0  # a dark left third, to see the flip
    gaze = rng.normal(size=(n, 3)) * 0.2 + [0.0, 0.0, -1.0]
    gaze /= np.linalg.norm(gaze, axis=1, keepdims=True)
    return {"image": image, "gaze": gaze, "pose": rng.normal(size=(n, 3))}


def write_day(path, n=4, seed=0):
    """A day file in MPIIGaze's nesting; returns its left and right structs."""
    rng = np.random.default_rng(seed)
    left, right = eye_struct(n, rng, 200), eye_struct(n, rng, 120)
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {"data": {"left": left, "right": right}, "filenames": ["a.jpg"] * n})
    return left, right


def test_both_eyes_are_read_resized_and_the_right_one_mirrored(tmp_path):
    left, right = write_day(tmp_path / "Data" / "Normalized" / "p00" / "day01.mat")
    data = load_mpiigaze(tmp_path)
    assert data.images.shape == (8, 1, 35, 55) and data.images.dtype == np.float32
    np.testing.assert_array_equal(data.labels["eye"], [0] * 4 + [1] * 4)
    np.testing.assert_allclose(data.labels["gaze"][:4], left["gaze"], rtol=1e-6)
    np.testing.assert_allclose(data.labels["gaze"][4:], right["gaze"] * [-1, 1, 1], rtol=1e-6)
    assert data.images[0, 0, :, :10].mean() < -0.9 < data.images[0, 0, :, -10:].mean()  # as stored
    assert data.images[4, 0, :, -10:].mean() < -0.9 < data.images[4, 0, :, :10].mean()  # mirrored


def test_one_side_and_no_flip(tmp_path):
    _, right = write_day(tmp_path / "p01" / "day02.mat")
    data = load_mpiigaze(tmp_path, eyes="right", flip=None)
    assert len(data) == 4
    np.testing.assert_allclose(data.labels["gaze"], right["gaze"], rtol=1e-6)


def test_days_are_read_in_order_up_to_n(tmp_path):
    write_day(tmp_path / "p00" / "day10.mat", n=3, seed=1)
    left, _ = write_day(tmp_path / "p00" / "day2.mat", n=3, seed=2)
    data = load_mpiigaze(tmp_path, n=2, eyes="left")
    assert len(data) == 2
    np.testing.assert_allclose(data.labels["gaze"], left["gaze"][:2], rtol=1e-6)


def test_a_single_image_day_is_not_squeezed_away(tmp_path):
    write_day(tmp_path / "day01.mat", n=1)
    assert load_mpiigaze(tmp_path).images.shape == (2, 1, 35, 55)


def test_wrong_nesting_names_the_file_and_the_expected_struct(tmp_path):
    path = tmp_path / "p00" / "day01.mat"
    path.parent.mkdir(parents=True)
    scipy.io.savemat(path, {"data": {"left": {"img": np.zeros((2, 36, 60), np.uint8)}}})
    with pytest.raises(DataError, match=r"day01\.mat.*data\.left\.image"):
        load_mpiigaze(tmp_path)


def test_missing_data_struct_and_corrupt_file_are_clear_errors(tmp_path):
    scipy.io.savemat(tmp_path / "day01.mat", {"images": np.zeros((2, 36, 60), np.uint8)})
    with pytest.raises(DataError, match="no struct 'data'"):
        load_mpiigaze(tmp_path / "day01.mat")
    (tmp_path / "day02.mat").write_bytes(b"MATLAB 5.0 MAT-file, garbage")
    with pytest.raises(DataError, match=r"day02\.mat.*not a readable MATLAB file"):
        load_mpiigaze(tmp_path / "day02.mat")


def test_skip_bad_skips_and_counts_bad_days(tmp_path):
    write_day(tmp_path / "p00" / "day01.mat")
    scipy.io.savemat(tmp_path / "p00" / "day02.mat", {"data": {"left": {}}})
    data = load_mpiigaze(tmp_path, skip_bad=True)
    assert len(data) == 8 and len(data.skipped) == 1 and "day02.mat" in str(data.skipped[0])


def test_folder_without_mat_files_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no .mat files"):
        load_mpiigaze(tmp_path)
