"""Every tutorial step runs to the end from a clone that was not installed, and passes its own
checks (a step exits with status 1 when one fails). Steps run in their quick mode
(MINIGAN_TUTORIAL_QUICK=1); the kernel steps run on the emulator here, or a GPU when usable."""
import os
import pathlib
import subprocess
import sys

import pytest

from minigan import backend

TUTORIALS = pathlib.Path(__file__).resolve().parent.parent / "tutorials"
STEPS = sorted(TUTORIALS.glob("step*.py"))


def test_steps_are_numbered_in_order_and_say_what_they_teach():
    numbers = [path.name[4:6] for path in STEPS]
    assert numbers == [f"{i:02d}" for i in range(1, len(STEPS) + 1)], numbers
    for path in STEPS:
        text = path.read_text(encoding="utf-8")
        assert "Teaches:" in text and "Opens:" in text, f"{path.name}: say what it teaches"
        assert 30 <= len(text.splitlines()) <= 150, f"{path.name}: {len(text.splitlines())} lines"


@pytest.mark.parametrize("step", STEPS, ids=lambda p: p.name)
def test_step_runs_and_passes_its_checks(step, tmp_path):
    if "kernel_device()" in step.read_text(encoding="utf-8"):
        try:
            backend.kernel_device()
        except RuntimeError as error:
            pytest.skip(str(error))
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(MINIGAN_TUTORIAL_QUICK="1", MINIGAN_DEVICE="cpu")
    run = subprocess.run([sys.executable, str(step)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "every check passed" in run.stdout


def test_the_readme_step_table_lists_every_step():
    readme = (TUTORIALS.parent / "README.md").read_text(encoding="utf-8")
    for path in STEPS:
        assert f"| {path.stem[4:6]} {path.stem[7:]} |" in readme, path.name
