"""A non-editable install carries the CUDA sources (kernels/ installs as minigan/kernels)."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """``pip install --no-deps --target`` of a copy of the sources; returns the target folder."""
    work = tmp_path_factory.mktemp("pkg")
    source = work / "src"
    source.mkdir()
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "minigan", source / "minigan", ignore=ignore)
    shutil.copytree(ROOT / "kernels", source / "kernels", ignore=ignore)
    target = work / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    return target


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


def test_every_console_script_names_a_main_that_exists(installed):
    """Each ``minigan-*`` command of entry_points.txt imports and is callable, and --help works."""
    import configparser
    (entry_points,) = installed.glob("minigan-*.dist-info/entry_points.txt")
    parser = configparser.ConfigParser()
    parser.read(entry_points)
    scripts = dict(parser["console_scripts"])
    assert {"minigan-train-eyes", "minigan-evaluate-gaze", "minigan-ablations",
            "minigan-turing"} <= set(scripts)
    env = dict(os.environ, PYTHONPATH=str(installed))
    for name, target in scripts.items():
        module, function = target.split(":")
        code = f"import {module} as m; assert callable(m.{function})"
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, f"{name} -> {target}: {out.stderr}"
    script = installed / "bin" / "minigan-evaluate-gaze"
    out = subprocess.run([sys.executable, str(script), "--help"], env=env, capture_output=True,
                         text=True)
    assert out.returncode == 0 and "--refiner" in out.stdout, out.stderr
