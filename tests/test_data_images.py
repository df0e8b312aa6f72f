"""uint8 <-> [-1, 1] conversions, reading any image as a 35 x 55 gray eye, grid PNGs."""
import numpy as np
import pytest
from PIL import Image

from minigan.data.bad_files import DataError
from minigan.data.images import load_image_gray
from minigan.io.png import from_uint8, make_grid, save_grid, to_uint8


def test_uint8_round_trip_is_exact():
    pixels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    floats = from_uint8(pixels)
    assert floats.shape == (1, 1, 16, 16) and floats.dtype == np.float32
    assert floats.min() == -1.0 and floats.max() == 1.0
    np.testing.assert_array_equal(to_uint8(floats)[0], pixels)


def test_to_uint8_clips_and_accepts_three_layouts():
    images = np.array([[-3.0, -1.0, 0.0, 1.0, 5.0]], dtype=np.float32)
    np.testing.assert_array_equal(to_uint8(images)[0, 0], [0, 0, 128, 255, 255])
    assert to_uint8(np.zeros((4, 1, 3, 5))).shape == (4, 3, 5)
    assert to_uint8(np.zeros((4, 3, 5))).shape == (4, 3, 5)
    with pytest.raises(ValueError, match="1 channel"):
        to_uint8(np.zeros((2, 3, 4, 5)))


def test_from_uint8_rejects_floats():
    with pytest.raises(ValueError, match="uint8"):
        from_uint8(np.zeros((3, 4), dtype=np.float32))


def test_load_image_gray_converts_colour_and_resizes(tmp_path):
    rgb = np.zeros((70, 110, 3), dtype=np.uint8)
    rgb[:, 55:] = 255
    path = tmp_path / "colour.jpg"
    Image.fromarray(rgb).save(path)
    image = load_image_gray(path)
    assert image.shape == (35, 55) and image.dtype == np.float32
    assert image[:, :20].mean() < -0.9 and image[:, -20:].mean() > 0.9


def test_corrupt_image_is_a_data_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    with pytest.raises(DataError, match="broken.png") as error:
        load_image_gray(path)
    assert isinstance(error.value, ValueError) and "PNG/JPG" in str(error.value)


def test_truncated_jpg_is_a_data_error(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (60, 90), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DataError, match="cut.jpg"):
        load_image_gray(path)


def test_grid_tiles_row_by_row_with_padding_and_scale(tmp_path):
    images = from_uint8(np.stack([np.full((3, 5), value, np.uint8) for value in (0, 100, 200)]))
    grid = make_grid(images, nrow=2, padding=1, scale=2)
    assert grid.shape == (2 * (6 + 1) + 1, 2 * (10 + 1) + 1)
    assert grid[1, 1] == 0 and grid[1, 12] == 100 and grid[8, 1] == 200
    assert grid[8, 12] == 255  # the empty fourth slot is padding colour
    save_grid(tmp_path / "grid.png", images, nrow=2)
    assert Image.open(tmp_path / "grid.png").size == (2 * 6 + 1, 2 * 4 + 1)
