"""A folder of PNG/JPG images with an optional labels.jsonl: write, read back, bad files."""
import json

import numpy as np
import pytest
from PIL import Image

from minigan.data.bad_files import DataError
from minigan.data.eyes import render_eyes
from minigan.data.folder import load_folder, write_folder


def test_written_folder_reads_back_images_and_labels(tmp_path):
    batch = render_eyes(6, "photo", seed=0)
    names = write_folder(tmp_path, batch.images, batch.labels())
    assert names[0] == "00000.png" and (tmp_path / "labels.jsonl").exists()
    data = load_folder(tmp_path)
    np.testing.assert_allclose(data.images, batch.images, atol=1 / 127.5)
    np.testing.assert_allclose(data.labels["pupil_center"], batch.pupil_center, atol=1e-5)
    assert data.labels["eyelid_landmarks"].shape == (6, 16, 2)


def test_images_of_any_size_and_mode_are_converted_in_natural_order(tmp_path):
    for value, name in ((30, "img10.png"), (200, "img2.jpg")):
        Image.new("RGB", (120, 80), (value, value, value)).save(tmp_path / name)
    data = load_folder(tmp_path)
    assert data.images.shape == (2, 1, 35, 55) and data.labels == {}
    assert data.images[0].mean() > 0.5 > -0.5 > data.images[1].mean()  # img2 before img10


def test_n_limits_the_number_of_images(tmp_path):
    write_folder(tmp_path, render_eyes(5, seed=0).images)
    assert len(load_folder(tmp_path, n=3)) == 3


def test_empty_folder_is_a_clear_error(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match="no images found") as error:
        load_folder(tmp_path)
    assert str(tmp_path) in str(error.value)


def test_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="not a directory"):
        load_folder(tmp_path / "nowhere")


def test_corrupt_image_raises_or_is_skipped_and_counted(tmp_path):
    write_folder(tmp_path, render_eyes(3, seed=0).images, {"gaze": np.zeros((3, 3))})
    (tmp_path / "00001.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match="00001.png"):
        load_folder(tmp_path)
    data = load_folder(tmp_path, skip_bad=True)
    assert len(data) == 2 and len(data.skipped) == 1 and len(data.labels["gaze"]) == 2
    assert "00001.png" in str(data.skipped[0])


def test_labels_file_is_the_index_of_the_folder(tmp_path):
    write_folder(tmp_path, render_eyes(2, seed=0).images, {"gaze": np.zeros((2, 3))})
    Image.new("L", (55, 35)).save(tmp_path / "grid.png")  # not listed: left alone
    assert len(load_folder(tmp_path)) == 2
    (tmp_path / "00001.png").unlink()
    with pytest.raises(DataError, match="00001.png: file not found"):
        load_folder(tmp_path)
    data = load_folder(tmp_path, skip_bad=True)
    assert len(data) == 1 and data.labels["gaze"].shape == (1, 3)


def test_broken_labels_line_names_the_file_and_line(tmp_path):
    write_folder(tmp_path, render_eyes(2, seed=0).images, {"gaze": np.zeros((2, 3))})
    with open(tmp_path / "labels.jsonl", "a") as handle:
        handle.write("{not json\n")
    with pytest.raises(DataError, match="labels.jsonl: line 3"):
        load_folder(tmp_path)


def test_labels_lines_must_share_keys(tmp_path):
    write_folder(tmp_path, render_eyes(2, seed=0).images)
    lines = [json.dumps({"file": "00000.png", "gaze": [0, 0, -1]}),
             json.dumps({"file": "00001.png"})]
    (tmp_path / "labels.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="'gaze' is missing"):
        load_folder(tmp_path)
