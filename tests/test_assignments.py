"""The homework mechanism (``python -m minigan.assignments``), in a reduced but real form: stubs
and splices on small sources, then one task of each homework built, failed, restored and graded
through the same code the full ``check`` runs in CI (.ci/run)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from minigan import assignments
from minigan.grading import manifest, runner, scoring, stubs, sync, trees

ROOT = Path(__file__).resolve().parent.parent

PYTHON_SOURCE = '''import numpy as np


def square(x):
    """x ** 2, elementwise."""
    # a comment that belongs to the body
    return x * x


class Box:
    def volume(self, a,
               b):
        """a * b * 2."""
        return a * b * 2
'''

CUDA_SOURCE = '''// scale.cu: y = a * x; the kernel scale(...) is below, "scale(" in a string: "{"
#include "common.cuh"

template <typename T>
__global__ void __launch_bounds__(256) scale(const T* x, T* y, T a, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) { y[i] = a * x[i]; }   /* braces { inside } a comment */
}

__device__ float helper(float v) { return v; }

template __global__ void scale<float>(const float*, float*, float, int);
'''


# --- stubs --------------------------------------------------------------------------------------

def test_a_python_stub_keeps_signature_and_docstring_and_names_the_task():
    stubbed = stubs.stub(PYTHON_SOURCE, "m.py", "Box.volume", "9.1", "task9_1")
    assert '    def volume(self, a,\n               b):\n        """a * b * 2."""\n' in stubbed
    assert 'raise NotImplementedError(\n            "task 9.1: write Box.volume in m.py' in stubbed
    assert "return a * b * 2" not in stubbed and "return x * x" in stubbed
    namespace = {}
    exec(compile(stubbed, "m.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^task 9\.1: .*python -m pytest -m task9_1"):
        namespace["Box"]().volume(1, 2)


def test_a_method_without_a_docstring_is_specified_by_its_class_docstring():
    source = ('class Add:\n    """y = a + b;  dy/da = dy/db = 1."""\n'
              '    def backward(self, gy):\n        return gy, gy\n')
    stubbed = stubs.stub(source, "m.py", "Add.backward", "1.2", "task1_2")
    assert '"""y = a + b;  dy/da = dy/db = 1."""' in stubbed and "return gy, gy" not in stubbed
    assert "the docstring of class Add is the" in stubbed
    namespace = {}
    exec(compile(stubbed, "m.py", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^task 1\.2: write Add\.backward"):
        namespace["Add"]().backward(1.0)


def test_a_kernel_stub_returns_at_once_and_ignores_names_in_comments_and_strings():
    stubbed = stubs.stub(CUDA_SOURCE, "scale.cu", "scale", "9.2", "task9_2")
    assert "__global__ void __launch_bounds__(256) scale(const T* x, T* y, T a, int n) {\n" \
           "    // TODO(task 9.2)" in stubbed
    assert "y[i] = a * x[i]" not in stubbed and "return;\n}" in stubbed
    assert stubbed.endswith("template __global__ void scale<float>(const float*, float*, float, "
                            "int);\n")


@pytest.mark.parametrize("source, path, name", [(PYTHON_SOURCE, "m.py", "square"),
                                                (PYTHON_SOURCE, "m.py", "Box.volume"),
                                                (CUDA_SOURCE, "k.cu", "scale")])
def test_splicing_the_body_back_restores_the_file_byte_for_byte(source, path, name):
    stubbed = stubs.stub(source, path, name, "9.1", "task9_1")
    assert stubs.splice(stubbed, path, name, stubs.body(source, path, name)) == source


@pytest.mark.parametrize("source, path, name, message", [
    (PYTHON_SOURCE, "m.py", "cube", "no 'cube'"),
    (PYTHON_SOURCE, "m.py", "Box", "is a class, not a function"),
    ("def f(x):\n    return x\n", "m.py", "f", "has no docstring"),
    (CUDA_SOURCE, "k.cu", "helper", "is not a __global__ void kernel"),
    (CUDA_SOURCE, "k.cu", "missing", "no definition of the kernel 'missing'"),
    ("x = 1\n", "m.txt", "x", "must be a .py, .cu or .cuh file"),
])
def test_a_target_that_cannot_be_stubbed_is_a_clear_error(source, path, name, message):
    with pytest.raises(stubs.StubError, match=message):
        stubs.stub(source, path, name, "9.1", "task9_1")


def test_a_student_body_that_does_not_fit_is_refused():
    with pytest.raises(stubs.StubError, match="does not fit the file"):
        stubs.splice(PYTHON_SOURCE, "m.py", "square", "  return x\n    return 1\n")


# --- manifest and markers -----------------------------------------------------------------------

def test_the_manifest_is_well_formed_and_every_target_resolves():
    said = []
    report = sync.Report(said.append)
    sync.check_manifest(ROOT, report)
    assert not report.failures, said


def test_every_task_marker_is_registered_and_strict(pytestconfig):
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert {t.marker for t in manifest.all_tasks()} <= registered
    assert "--strict-markers" in (ROOT / "pyproject.toml").read_text()


def test_a_cpu_task_runs_its_tests_on_the_cpu_alone_and_a_kernel_task_on_the_emulator_too():
    expression = runner.marker_expression([manifest.task("1.3"), manifest.task("4.1")])
    assert expression == "((task1_3 and not emulator) or (task4_1)) and not gpu"


def test_a_failure_from_another_tasks_stub_or_an_import_error_is_the_wrong_reason():
    hw = manifest.homework(2)
    task = manifest.task("2.3")
    failures = [dict(nodeid=f"t.py::{name}", kind=kind, message=message, where="m.py:3 in f")
                for name, kind, message in [
                    ("a", "NotImplementedError", "task 2.3: write max_pool2d_forward ..."),
                    ("b", "NotImplementedError", "task 2.4: write patch_cross_entropy_forward"),
                    ("c", "ImportError", "cannot import name 'pool'")]]
    result = runner.TaskResult(task, {f["nodeid"]: "failed" for f in failures}, failures, None)
    assert sync.wrong_failures(result, {"2.1", "2.2", "2.3", "2.4"}, hw) == [
        "b: NotImplementedError: task 2.4: write patch_cross_entropy_forward",
        "c: ImportError: cannot import name 'pool' [m.py:3 in f]"]


# --- the command --------------------------------------------------------------------------------

def test_list_shows_every_task(capsys):
    assert assignments.main(["list"]) == 0
    out = capsys.readouterr().out
    for task in manifest.all_tasks():
        assert f"-m {task.marker}" in out and all(target in out for target in task.stub)
    assert all(f"homework {hw.number}: {hw.title}" in out for hw in manifest.HOMEWORKS)


@pytest.mark.parametrize("argv, message", [
    (["build", "--hw", "7", "--out", "{tmp}/a"], "there is no homework 7; homeworks with tasks"),
    (["build", "--hw", "2", "--out", "{tmp}/full"], "already exists and is not an empty folder"),
    (["status", "--tree", "{tmp}/missing"], "is not a folder"),
    (["status", "--tree", "{tmp}/full"], "is not a minigan tree"),
    (["status", "--tree", str(ROOT)], "has no ASSIGNMENT.json"),
    (["grade", "--hw", "2", "--submission", "{tmp}/missing"], "is not a folder"),
])
def test_bad_input_is_one_clear_line(argv, message, tmp_path, capsys):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert assignments.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m minigan.assignments: error: ")
    assert message in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep me"


def test_without_the_checkout_the_command_says_it_needs_one(tmp_path):
    shutil.copytree(ROOT / "minigan", tmp_path / "minigan",
                    ignore=shutil.ignore_patterns("__pycache__"))
    out = subprocess.run([sys.executable, "-m", "minigan.assignments", "build", "--hw", "2",
                          "--out", str(tmp_path / "hw2")], cwd=tmp_path, capture_output=True,
                         text=True, env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert out.returncode == 2
    assert "needs the minigan repository checkout" in out.stderr and not out.stdout
    assert not (tmp_path / "hw2").exists()


def test_an_interrupted_build_leaves_nothing_and_the_rerun_works(tmp_path, monkeypatch):
    def interrupted(tree, task):
        raise KeyboardInterrupt
    monkeypatch.setattr(trees, "stub_task", interrupted)
    with pytest.raises(KeyboardInterrupt):
        trees.build(manifest.homework(3), tmp_path / "hw3", ROOT)
    assert list(tmp_path.iterdir()) == []   # no tree, half stubbed or not, and no staging
    monkeypatch.undo()
    built = trees.build(manifest.homework(3), tmp_path / "hw3", ROOT)
    assert trees.read_assignment(built)["homework"] == 3 and list(tmp_path.iterdir()) == [built]


def fake_grade(hw, submission, checkout, expected=None):
    return [runner.TaskResult(t, {"tests/t.py::test_x": "passed"}, [], None) for t in hw.tasks]


def test_grade_writes_json_only_where_asked_and_replaces_only_its_own(tmp_path, monkeypatch,
                                                                      capsys):
    monkeypatch.setattr(scoring, "grade", fake_grade)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alice").mkdir()
    assert assignments.main(["grade", "--hw", "3", "--submission", "alice"]) == 0
    assert "not saved" in capsys.readouterr().out and os.listdir(tmp_path) == ["alice"]
    (tmp_path / "grades").mkdir()
    assert assignments.main(["grade", "--hw", "3", "--submission", "alice", "--out",
                             "grades"]) == 0
    written = tmp_path / "grades" / "hw3-alice.json"
    assert json.loads(written.read_text())["points"] == manifest.homework(3).points
    assert assignments.main(["grade", "--hw", "3", "--submission", "alice", "--out",
                             str(written)]) == 0   # a grade file of its own is replaced
    (tmp_path / "notes.json").write_text("mine")
    assert os.listdir(tmp_path / "grades") == ["hw3-alice.json"]


@pytest.mark.parametrize("out, message", [
    ("notes.json", "exists and is not a grade file written by grade; nothing was overwritten"),
    ("link.json", "is a symbolic link"),
    ("missing/x.json", "missing"),
])
def test_grade_checks_its_output_before_it_grades(out, message, tmp_path, monkeypatch, capsys):
    def must_not_run(*args, **kwargs):
        raise AssertionError("graded before checking --out")
    monkeypatch.setattr(scoring, "grade", must_not_run)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "alice").mkdir()
    (tmp_path / "notes.json").write_text("mine")
    (tmp_path / "link.json").symlink_to(tmp_path / "notes.json")
    (tmp_path / "missing").write_text("a file, not a folder")
    assert assignments.main(["grade", "--hw", "3", "--submission", "alice", "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m minigan.assignments: error: --out") and message in err
    assert (tmp_path / "notes.json").read_text() == "mine"


def test_students_are_told_to_install_pytest(tmp_path):
    text = (ROOT / "pyproject.toml").read_text()
    assert 'student = ["pytest>=7"]' in text
    readme = trees.homework_readme(manifest.homework(2))
    assert 'pip install -e ".[student]"' in readme and "Partial credit" in readme


# --- one task of each homework, for real ---------------------------------------------------------

def reduced(number, task_id):
    """Homework ``number`` with only task ``task_id`` (and the tasks it requires)."""
    hw = manifest.homework(number)
    keep = {task_id} | set(manifest.task(task_id).requires)
    return hw._replace(tasks=tuple(t for t in hw.tasks if t.id in keep))


@pytest.fixture(scope="module")
def hw2_tree(tmp_path_factory):
    return trees.build(manifest.homework(2), tmp_path_factory.mktemp("hw2") / "tree", ROOT)


def test_a_built_tree_differs_from_the_checkout_only_in_the_stubbed_files(hw2_tree):
    stubbed = {manifest.split_target(target)[0]
               for task in manifest.homework(2).tasks for target in task.stub}
    changed = {p for p in trees.tree_files(ROOT)
               if (hw2_tree / p).read_bytes() != (ROOT / p).read_bytes()}
    assert changed == stubbed
    assert trees.read_assignment(hw2_tree)["homework"] == 2
    assert "python -m pytest -m task2_1" in (hw2_tree / "HOMEWORK.md").read_text()


def status(tree, hw, reference=ROOT):
    """``status``'s results for ``tree`` (a copy of a built tree) against ``reference``."""
    return scoring.status(tree, hw, reference, trees.read_assignment(tree)).results


def test_a_stubbed_task_fails_for_its_own_reason_and_passes_once_written(hw2_tree, tmp_path):
    hw = reduced(2, "2.4")
    (result,) = status(hw2_tree, hw)
    assert not result.ok and not sync.wrong_failures(result, {"2.4"}, hw)
    assert "NotImplementedError: task 2.4: write patch_cross_entropy_forward" in result.reason()
    done = trees.copy_tree(hw2_tree, tmp_path / "done")
    trees.copy_task_code(manifest.task("2.4"), ROOT, done)   # the student writes the function
    (result,) = status(done, hw)
    assert result.ok and result.passed >= 3 and scoring.earned(result) == 15


def test_grading_gives_the_reference_full_marks_and_an_untouched_tree_zero(hw2_tree):
    hw = reduced(2, "2.3")
    reference = scoring.grade(hw, ROOT, ROOT)
    untouched = scoring.grade(hw, hw2_tree, ROOT)
    assert [r.ok for r in reference] == [True] and [r.ok for r in untouched] == [False]
    data = scoring.scores(hw, untouched, hw2_tree, None)
    assert data["points"] == 0 and data["max_points"] == manifest.task("2.3").points
    assert set(data["tasks"][0]["tests"]) == set(reference[0].outcomes)


def test_grading_uses_only_the_students_task_code(hw2_tree, tmp_path):
    """A student who also broke the tests and another task's function still gets task 2.3's
    points for a correct max-pooling: grading takes nothing else from their tree."""
    student = trees.copy_tree(hw2_tree, tmp_path / "student")
    trees.copy_task_code(manifest.task("2.3"), ROOT, student)
    (student / "tests" / "test_reference_backward.py").write_text("def test_x():\n    pass\n")
    (result,) = scoring.grade(reduced(2, "2.3"), student, ROOT)
    assert result.ok and result.passed >= 9


def test_a_missing_task_file_scores_zero_with_the_reason(tmp_path):
    (result,) = scoring.grade(reduced(2, "2.4"), tmp_path, ROOT)
    assert not result.ok and "minigan/reference/xent_spec.py is missing" in result.reason()


@pytest.mark.emulator
def test_a_kernel_task_fails_unwritten_and_passes_once_written_on_the_emulator(tmp_path):
    hw = reduced(4, "4.1")
    tree = trees.build(manifest.homework(4), tmp_path / "hw4", ROOT)
    (result,) = status(tree, hw)
    assert not result.ok and not sync.wrong_failures(result, {"4.1"}, hw)
    assert "NaN" in result.reason()
    trees.copy_task_code(manifest.task("4.1"), ROOT, tree)
    (result,) = status(tree, hw)
    assert result.ok, result.reason()


def test_an_engine_task_fails_through_its_stub_even_inside_pytest_raises(tmp_path):
    """Task 1.1 stubs Tensor.backward: a test that expects backward's RuntimeError gets the
    stub's NotImplementedError (a RuntimeError) and fails on the message; it still counts as a
    failure for the right reason, and the task passes once written."""
    hw = reduced(1, "1.1")
    tree = trees.build(manifest.homework(1), tmp_path / "hw1", ROOT)
    (result,) = status(tree, hw)
    assert not result.ok and result.failed >= 7 and not sync.wrong_failures(result, {"1.1"}, hw)
    assert {f["kind"] for f in result.failures} == {"NotImplementedError"}
    trees.copy_task_code(manifest.task("1.1"), ROOT, tree)
    (result,) = status(tree, hw)
    assert result.ok, result.reason()
