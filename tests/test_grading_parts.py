"""The parts of grading that work on text and numbers: what of a student's file is used
(``transplant``), whether the spec states what the tests check (``spec_coverage``), and points
earned test by test with the manifest's weights (``scoring.earned``)."""
import ast
import textwrap

import pytest

from minigan.grading import manifest, runner, scoring, spec_coverage, stubs, transplant

BASE = '''"""A module."""
import numpy as np

SCALE = 2


def _pad(x):
    return np.pad(x, 1)


def f(x):
    """f(x) = SCALE * x."""
    raise NotImplementedError("task 9.1: ...")


class Op:
    """y = 2 x."""

    def backward(self, gy):
        raise NotImplementedError("task 9.1: ...")
'''

STUDENT = '''"""A module, with the student's notes."""
import numpy as np
from math import sqrt as root

SCALE = 3
HALF = 0.5


def _pad(x):
    return np.pad(x, 2)


np.seterr(all="ignore")


def f(x):
    """f(x) = SCALE * x."""
    return _twice(x) * HALF


@staticmethod
def _twice(x):
    return 2 * x


class Op:
    """y = 2 x."""
    FACTOR = 2

    def backward(self, gy):
        return self._grad(gy)

    def _grad(self, gy):
        return self.FACTOR * gy
'''


def test_new_module_level_names_and_class_members_are_added_and_changes_are_named():
    text = BASE
    for name in ("f", "Op.backward"):
        text = stubs.splice(text, "m.py", name, stubs.body(STUDENT, "m.py", name))
    text, notes = transplant.python_additions(STUDENT, text, "m.py", ["f", "Op.backward"])
    namespace = {}
    exec(compile(text, "m.py", "exec"), namespace)
    assert namespace["f"](4) == 4.0 and namespace["Op"]().backward(3) == 6
    assert namespace["SCALE"] == 2 and namespace["_pad"](np_ones()).shape == (3,)
    assert namespace["root"](9) == 3
    assert notes == [
        "m.py:5: `SCALE = 3` is not used (grading keeps the file's own module-level code; it "
        "adds only new names)",
        "m.py:9: `def _pad(x):` is not used (grading keeps the file's own module-level code; it "
        "adds only new names)",
        "m.py:13: `np.seterr(all=\"ignore\")` is not used (grading keeps the file's own "
        "module-level code; it adds only new names)"]
    assert ast.parse(text) and text.startswith(BASE.split("def f")[0])


def np_ones():
    import numpy as np
    return np.ones(1)


def test_a_file_without_additions_comes_back_unchanged():
    assert transplant.python_additions(BASE, BASE, "m.py", ["f", "Op.backward"]) == (BASE, [])


CUDA = '''// k.cu: y = x
#include "common.cuh"

__global__ void copy(const float* x, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) { y[i] = x[i]; }
}
'''


def test_cuda_code_outside_the_kernels_bodies_is_named_and_comments_are_not():
    helper = CUDA.replace("__global__", "__device__ float twice(float v) { return 2 * v; }\n\n"
                                        "__global__")
    assert transplant.cuda_differences(helper, CUDA, "k.cu", ["copy"]) == [
        "k.cu:4: `__device__ float twice(float v) { return 2 * v; }` is outside the kernels' "
        "bodies and not used (grading copies only the bodies; a helper can be a lambda inside "
        "the kernel)"]
    commented = CUDA.replace("// k.cu: y = x", "// my notes\n// k.cu: y = x").replace(
        "y[i] = x[i];", "y[i] = x[i] + 0.0f;")
    assert transplant.cuda_differences(commented, CUDA, "k.cu", ["copy"]) == []


# --- spec_coverage ------------------------------------------------------------------------------

HELPERS = '''
def assert_result(y, expected):
    assert y.flags.c_contiguous
    assert y.shape == expected.shape
'''

TESTS = '''
import pytest
from helpers import assert_result


def test_values():
    assert_result(f(1), g(1))


def test_refuses_ints():
    with pytest.raises(TypeError, match="dtype int64 is not supported"):
        f(1)


def test_plain():
    assert f(1) == 2
'''


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "helpers.py").write_text(HELPERS)
    (tmp_path / "tests" / "test_m.py").write_text(TESTS)
    (tmp_path / "m.py").write_text('def f(x):\n    """f(x) (N, C) -> (N, C)."""\n    return x\n')
    return tmp_path


def test_what_tests_check_is_found_through_their_helpers(checkout):
    tests = spec_coverage.TestSources(checkout / "tests")
    assert spec_coverage.checked(tests, ["tests/test_m.py::test_values[a]"]) == {
        "contiguity": "tests/helpers.py:3", "shape": "tests/helpers.py:4"}
    assert spec_coverage.checked(tests, ["tests/test_m.py::test_refuses_ints"]) == {
        "dtype": "tests/test_m.py:11"}
    assert spec_coverage.checked(tests, ["tests/test_m.py::test_plain"]) == {}


def test_a_requirement_the_spec_does_not_state_is_reported(checkout):
    task = manifest.Task("9.1", "f", 10, "cpu", 30, ("m.py::f",))
    ids = ["tests/test_m.py::test_values", "tests/test_m.py::test_refuses_ints"]
    found = spec_coverage.unstated(task, checkout, ids)
    assert [line.split(":")[1].split("(")[0].strip() for line in found] == [
        "its tests check contiguity", "its tests check dtype"]
    assert "never says 'contiguous'" in found[0]
    noted = task._replace(notes="Results are C-contiguous; integer dtypes are refused.")
    assert spec_coverage.unstated(noted, checkout, ids) == []


# --- points, test by test -----------------------------------------------------------------------

def result(task, outcomes):
    return runner.TaskResult(task, outcomes, [], None)


def test_points_are_shared_by_test_function_and_weighted_by_the_manifest():
    task = manifest.Task("9.1", "f", 30, "cpu", 30, ("m.py::f",),
                         weights=(("tests/t.py::test_b", 2.0),))
    outcomes = {"tests/t.py::test_a[1]": "passed", "tests/t.py::test_a[2]": "failed",
                "tests/t.py::test_b": "passed", "tests/t.py::test_c": None}
    # test_a: half of weight 1, test_b: weight 2, test_c (did not run): 0 of 1; total 4
    assert scoring.earned(result(task, outcomes)) == pytest.approx(30 * 2.5 / 4)
    assert scoring.earned(result(task, {k: "passed" for k in outcomes})) == 30
    assert scoring.earned(result(task, {})) == 0


def test_a_weight_must_name_a_test_and_be_positive(monkeypatch):
    bad = manifest.Task("1.9", "x", 5, "cpu", 30, ("m.py::f",),
                        weights=(("test_a", 1.0), ("tests/t.py::test_b", 0)))
    hw = manifest.HOMEWORKS[0]
    monkeypatch.setattr(manifest, "HOMEWORKS",
                        (hw._replace(tasks=hw.tasks + (bad,)),) + manifest.HOMEWORKS[1:])
    found = [line for line in manifest.problems() if line.startswith("task 1.9")]
    assert len(found) == 2 and all("must name a test" in line for line in found)


def test_the_reason_line_names_the_test_the_failure_and_where(tmp_path):
    failure = {"nodeid": "tests/test_op_conv2d.py::test_forward[n1-c1-35x55-f2-k3-s1-p1]",
               "kind": "AssertionError", "message": "conv2d_forward must return a C-contiguous "
                                                    "array",
               "where": "tests/test_op_conv2d.py:85 `assert y32.flags.c_contiguous, ...`"}
    task = manifest.task("2.1")
    line = result(task, {failure["nodeid"]: "failed"})._replace(failures=[failure]).reason()
    assert line == textwrap.dedent('''\
        test_forward[n1-c1-35x55-f2-k3-s1-p1]: AssertionError: conv2d_forward must return a \
C-contiguous array [tests/test_op_conv2d.py:85 `assert y32.flags.c_contiguous, ...`]''')
