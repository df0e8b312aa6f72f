"""``pip install .`` of a fresh copy of the sources: kernels, console scripts, licence, version.

kernels/ installs as minigan/kernels; every program (``python -m minigan`` lists them) has a
``minigan-<name>`` console script; the MIT licence is in the metadata and its file ships.
"""
import configparser
import os
import subprocess
import sys
from email.parser import Parser
from pathlib import Path

import pytest

import minigan
from minigan.__main__ import programs
from minigan.grading.trees import copy_tree

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``pip install --no-deps --target`` of a fresh copy of the sources; the target folder."""
    work = tmp_path_factory.mktemp("pkg")
    source = copy_tree(ROOT, work / "src")  # the files a fresh clone has
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(source)],
                   check=True, capture_output=True)
    return target


def dist_info(installed):
    (folder,) = installed.glob("minigan-*.dist-info")
    return folder


def metadata(installed):
    return Parser().parsestr((dist_info(installed) / "METADATA").read_text(encoding="utf-8"))


def console_scripts(installed):
    parser = configparser.ConfigParser()
    parser.read(dist_info(installed) / "entry_points.txt")
    return dict(parser["console_scripts"])


def test_every_kernel_source_is_installed(installed):
    sources = sorted(p.name for p in (ROOT / "kernels").iterdir() if p.suffix in (".cu", ".cuh"))
    assert sources, "no kernel sources in the checkout"
    installed_sources = sorted(p.name for p in (installed / "minigan" / "kernels").iterdir()
                               if p.suffix in (".cu", ".cuh"))
    assert installed_sources == sources


def test_the_teaching_kernels_are_installed_too(installed):
    sources = sorted(p.name for p in (ROOT / "kernels" / "dev").glob("*.cu"))
    assert sources and sorted(p.name for p in (installed / "minigan" / "kernels" / "dev").glob(
        "*.cu")) == sources


def test_installed_package_finds_its_kernels_outside_the_checkout(installed, tmp_path):
    code = ("import minigan.cuda as c, pathlib; d = pathlib.Path(c.kernels_dir()); "
            "print(d); assert (d / 'conv2d.cu').is_file()")
    env = dict(os.environ, PYTHONPATH=str(installed))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert str(installed) in out.stdout


def test_every_program_has_a_console_script(installed):
    expected = {"minigan": "minigan.__main__:main"}
    expected.update({"minigan-" + name.replace("_", "-"): f"minigan.{name}:main"
                     for name, _ in programs()})
    assert console_scripts(installed) == expected


def test_every_console_script_names_a_main_that_exists(installed):
    """Each console script imports and is callable, and --help works."""
    env = dict(os.environ, PYTHONPATH=str(installed))
    for name, target in console_scripts(installed).items():
        module, function = target.split(":")
        code = f"import {module} as m; assert callable(m.{function})"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, f"{name} -> {target}: {out.stderr}"
    for script, expected in (("minigan-evaluate-gaze", "--refiner"),
                             ("minigan-assignments", "build"), ("minigan", "train_eyes")):
        out = subprocess.run([sys.executable, str(installed / "bin" / script), "--help"], env=env,
                             capture_output=True, text=True)
        assert out.returncode == 0 and expected in out.stdout, (script, out.stderr)


def test_the_licence_is_mit_in_the_metadata_and_its_file_ships(installed):
    assert metadata(installed)["License-Expression"] == "MIT"
    assert metadata(installed)["License-File"] == "LICENSE"
    shipped = dist_info(installed) / "licenses" / "LICENSE"
    assert shipped.read_text(encoding="utf-8") == (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert shipped.read_text(encoding="utf-8").startswith("MIT License")


def test_the_version_is_written_once(installed):
    assert metadata(installed)["Version"] == minigan.__version__
    for name in ("pyproject.toml", "setup.py"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert minigan.__version__ not in text, f"{name} writes the version again"


def test_the_h5_extra_brings_h5py(installed):
    requirements = [line.replace(" ", "") for line in metadata(installed).get_all("Requires-Dist")]
    assert any(line.startswith("h5py") and 'extra=="h5"' in line for line in requirements)
