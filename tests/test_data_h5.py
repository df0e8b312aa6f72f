"""HDF5 eye packs (gaze.h5 / real_gaze.h5 layouts), read through the optional h5py."""
import numpy as np
import pytest

from minigan.data.bad_files import DataError
from minigan.data.h5 import load_h5

h5py = pytest.importorskip("h5py")


def write_grouped_pack(path, n=3, with_look_vec=True):
    """gaze.h5-style: image/<key> (35, 55) uint8 and look_vec/<key> (3,)."""
    looks = {}
    with h5py.File(path, "w") as handle:
        for index in range(n):
            key = f"{index}"
            handle.create_dataset(f"image/{key}", data=np.full((35, 55), 40 * index, np.uint8))
            looks[key] = np.array([0.1 * index, 0.2, -0.9])
            if with_look_vec:
                handle.create_dataset(f"look_vec/{key}", data=looks[key])
    return looks


def test_grouped_pack_gives_images_and_gaze_with_y_flipped(tmp_path):
    looks = write_grouped_pack(tmp_path / "gaze.h5")
    data = load_h5(tmp_path / "gaze.h5")
    assert data.images.shape == (3, 1, 35, 55)
    np.testing.assert_allclose(data.images[:, 0, 0, 0], np.array([0, 40, 80]) / 127.5 - 1)
    expected = looks["2"] * [1, -1, 1]
    np.testing.assert_allclose(data.labels["gaze"][2], expected / np.linalg.norm(expected),
                               rtol=1e-6)


def test_real_pack_without_look_vec_has_no_labels(tmp_path):
    write_grouped_pack(tmp_path / "real_gaze.h5", with_look_vec=False)
    data = load_h5(tmp_path / "real_gaze.h5", n=2)
    assert len(data) == 2 and data.labels == {}


def test_array_pack_of_another_size_is_resized(tmp_path):
    with h5py.File(tmp_path / "eyes.h5", "w") as handle:
        handle.create_dataset("image", data=np.zeros((4, 36, 60, 1), np.uint8))
        handle.create_dataset("gaze", data=np.tile([0.0, 0.0, -1.0], (4, 1)))
    data = load_h5(tmp_path / "eyes.h5")
    assert data.images.shape == (4, 1, 35, 55)
    np.testing.assert_allclose(data.labels["gaze"], np.tile([0.0, 0.0, -1.0], (4, 1)))


def test_pack_without_image_names_the_file_and_layout(tmp_path):
    with h5py.File(tmp_path / "odd.h5", "w") as handle:
        handle.create_dataset("pictures", data=np.zeros((2, 35, 55), np.uint8))
    with pytest.raises(DataError, match=r"odd\.h5.*no 'image'"):
        load_h5(tmp_path / "odd.h5")


def test_not_an_hdf5_file_is_a_clear_error(tmp_path):
    (tmp_path / "fake.h5").write_bytes(b"not hdf5")
    with pytest.raises(DataError, match=r"fake\.h5.*not a readable HDF5"):
        load_h5(tmp_path / "fake.h5")


def test_skip_bad_skips_images_without_a_look_vec(tmp_path):
    write_grouped_pack(tmp_path / "gaze.h5")
    with h5py.File(tmp_path / "gaze.h5", "a") as handle:
        handle.create_dataset("image/9", data=np.zeros((35, 55), np.uint8))
    with pytest.raises(DataError, match="image/9 has no look_vec/9"):
        load_h5(tmp_path / "gaze.h5")
    data = load_h5(tmp_path / "gaze.h5", skip_bad=True)
    assert len(data) == 3 and len(data.skipped) == 1
