"""load_source: one string for every kind of eye data."""
import numpy as np
import pytest

from minigan.data.eyes import render_eyes
from minigan.data.folder import write_folder
from minigan.data.sources import load_source, parse_source


def test_builtin_sources_render_n_seeded_eyes_with_labels():
    data = load_source("builtin:photo", n=12, seed=4)
    assert data.images.shape == (12, 1, 35, 55)
    assert set(data.labels) == {"gaze", "pupil_center", "iris_radius", "eyelid_landmarks"}
    np.testing.assert_array_equal(data.images, render_eyes(12, "photo", seed=4).images)


def test_folder_spec_and_bare_directory_read_the_same(tmp_path):
    write_folder(tmp_path, render_eyes(3, seed=0).images)
    assert parse_source(str(tmp_path)) == ("folder", str(tmp_path))
    np.testing.assert_array_equal(load_source(f"folder:{tmp_path}").images,
                                  load_source(str(tmp_path)).images)


@pytest.mark.parametrize("spec, expected", [
    ("builtin:synthetic", ("builtin", "synthetic")),
    ("unityeyes:/data/UnityEyes", ("unityeyes", "/data/UnityEyes")),
    ("mpiigaze:/data/MPIIGaze", ("mpiigaze", "/data/MPIIGaze")),
    ("h5:/data/gaze.h5", ("h5", "/data/gaze.h5")),
])
def test_spec_forms_are_parsed(spec, expected):
    assert parse_source(spec) == expected


@pytest.mark.parametrize("spec", ["builtin:cartoon", "imagenet:/data", "h5:", "/no/such/dir"])
def test_bad_specs_list_the_accepted_forms(spec):
    with pytest.raises(ValueError, match="builtin:synthetic.*mpiigaze:DIR.*folder:DIR"):
        parse_source(spec)


def test_skip_bad_reaches_the_loader(tmp_path):
    write_folder(tmp_path, render_eyes(2, seed=0).images)
    (tmp_path / "zz.png").write_bytes(b"broken")
    (tmp_path / "labels.jsonl").unlink()
    data = load_source(f"folder:{tmp_path}", skip_bad=True)
    assert len(data) == 2 and len(data.skipped) == 1
