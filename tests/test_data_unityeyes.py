"""UnityEyes renders (N.jpg + N.json with "(x, y, z)" strings, y from the bottom)."""
import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from minigan.data.bad_files import DataError
from minigan.data.unityeyes import load_unityeyes

WIDTH, HEIGHT = 320, 240


def point(x, y_from_top, height=HEIGHT):
    return f"({x:.4f}, {height - y_from_top:.4f}, 9.8765)"  # UnityEyes: y from the bottom


def write_render(folder, stem, pupil=(175.0, 112.0), look_vec="(0.3000, -0.2000, -0.9327, 0.0000)",
                 size=(WIDTH, HEIGHT), drop=None):
    """A fake render: gray skin, a dark iris disk at ``pupil``, UnityEyes-style JSON."""
    width, height = size
    image = Image.new("RGB", size, (150, 130, 120))
    draw = ImageDraw.Draw(image)
    draw.ellipse([110, 95, 210, 125], fill=(235, 235, 235))                     # sclera
    draw.ellipse([pupil[0] - 12, pupil[1] - 12, pupil[0] + 12, pupil[1] + 12], fill=(10, 10, 10))
    image.save(folder / f"{stem}.jpg", quality=95)
    angles = 2 * np.pi * np.arange(16) / 16
    margin = [point(160 - 50 * np.cos(t), 110 - 15 * np.sin(t), height) for t in angles]
    iris = [point(pupil[0] + 12 * np.cos(t), pupil[1] + 12 * np.sin(t), height)
            for t in np.linspace(0, 2 * np.pi, 32, endpoint=False)]
    caruncle = [point(112, 110, height), point(116, 112, height)]
    meta = {"interior_margin_2d": margin, "caruncle_2d": caruncle, "iris_2d": iris,
            "head_pose": "(351.0000, 182.0000, 0.0000)",
            "eye_details": {"look_vec": look_vec, "pupil_size": "0.05", "iris_size": "0.9"}}
    if drop == "look_vec":
        del meta["eye_details"]["look_vec"]
    (folder / f"{stem}.json").write_text(json.dumps(meta))


def test_render_is_cropped_around_the_eye_with_labels_in_crop_pixels(tmp_path):
    write_render(tmp_path, "1")
    data = load_unityeyes(tmp_path)
    assert data.images.shape == (1, 1, 35, 55)
    x, y = data.labels["pupil_center"][0]
    assert 0 < x < 55 and 0 < y < 35
    assert data.images[0, 0, int(round(y)), int(round(x))] < -0.8   # the dark iris is there
    marks = data.labels["eyelid_landmarks"][0]
    assert marks.shape == (16, 2) and marks[0, 0] < marks[8, 0]
    assert marks[4, 1] < marks[12, 1]                                 # upper lid above lower
    np.testing.assert_allclose(data.labels["head_pose"][0], [-9.0, 2.0, 0.0], atol=1e-4)


def test_look_vec_becomes_a_unit_gaze_with_y_pointing_down(tmp_path):
    write_render(tmp_path, "1")
    gaze = load_unityeyes(tmp_path).labels["gaze"][0]
    expected = np.array([0.3, 0.2, -0.9327])
    np.testing.assert_allclose(gaze, expected / np.linalg.norm(expected), rtol=1e-5)


def test_renders_load_in_natural_order_up_to_n(tmp_path):
    for stem, x in (("10", 150.0), ("2", 185.0), ("3", 170.0)):
        write_render(tmp_path, stem, pupil=(x, 112.0))
    data = load_unityeyes(tmp_path, n=2)
    assert len(data) == 2
    assert data.labels["pupil_center"][0, 0] > data.labels["pupil_center"][1, 0]  # 2 before 3


def test_json_without_look_vec_names_the_file_and_key(tmp_path):
    write_render(tmp_path, "7", drop="look_vec")
    with pytest.raises(DataError, match=r"7\.json.*look_vec"):
        load_unityeyes(tmp_path)


def test_image_too_small_to_crop_is_a_clear_error(tmp_path):
    write_render(tmp_path, "1", size=(120, 80))
    with pytest.raises(DataError, match=r"1\.jpg.*too small to crop"):
        load_unityeyes(tmp_path)


def test_corrupt_jpg_is_a_clear_error(tmp_path):
    write_render(tmp_path, "1")
    (tmp_path / "1.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    with pytest.raises(DataError, match=r"1\.jpg"):
        load_unityeyes(tmp_path)


def test_skip_bad_skips_and_counts_broken_renders(tmp_path):
    write_render(tmp_path, "1")
    write_render(tmp_path, "2", drop="look_vec")
    write_render(tmp_path, "3")
    (tmp_path / "3.jpg").write_bytes(b"broken")
    write_render(tmp_path, "4")
    (tmp_path / "4.json").write_text("{")
    data = load_unityeyes(tmp_path, skip_bad=True)
    assert len(data) == 1 and len(data.skipped) == 3


def test_folder_without_renders_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no UnityEyes renders"):
        load_unityeyes(tmp_path)
