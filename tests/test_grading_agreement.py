"""``assignments status`` grades as ``grade`` does: for every task of every homework, on the
reference, on a stub and on a solution that needs a module-level name of its own, both run the
same tests on the same code within the same limits (the runs are recorded, not run); then, for
real, both give task 2.4 the same verdict and points on those three submissions."""
from pathlib import Path

import pytest

from minigan.grading import manifest, runner, scoring, stubs, trees

ROOT = Path(__file__).resolve().parent.parent
HELPER = "\n\ndef _student_helper():\n    return 0\n"


def with_module_level_helper(tree):
    """``tree`` with every Python target's body written as the reference's, after a first line
    that calls a module-level helper of the student's own (kernels: the reference's bodies)."""
    for task in manifest.all_tasks():
        for target in task.stub:
            path, name = manifest.split_target(target)
            if stubs.kind(path) != "python" or not (tree / path).is_file():
                continue
            text = trees.read(tree, path)
            region = stubs.locate(text, path, name)
            body = region.indent + "_ = _student_helper()\n" + stubs.body(
                trees.read(ROOT, path), path, name)
            text = stubs.splice(text, path, name, body)
            trees.write(tree, path, text if "def _student_helper" in text else text + HELPER)
        trees.copy_task_code(task._replace(stub=tuple(
            t for t in task.stub if stubs.kind(manifest.split_target(t)[0]) == "cuda")),
            ROOT, tree)
    return tree


class Recorder:
    """Stands in for ``runner.run_tests``: records what a run would run, and passes a task's
    one test exactly when none of its target bodies is a stub."""

    def __init__(self):
        self.calls = []

    def __call__(self, tree, tasks, limits, collect_only=False, all_files=False):
        (task,) = tasks
        files = {manifest.split_target(t)[0] for t in task.stub}
        code = {path: trees.read(tree, path) for path in sorted(files)}
        self.calls.append((task.id, limits, code))
        stubbed = any(f"task {task.id}: write" in text or f"TODO(task {task.id})" in text
                      for text in code.values())
        test = {"markers": [task.marker], "outcome": "failed" if stubbed else "passed",
                "kind": "NotImplementedError" if stubbed else None, "message": None,
                "where": None}
        return runner.TestRun({f"tests/t.py::test_{task.marker}": test}, [], None, (), "")


TARGET_FILES = sorted({manifest.split_target(t)[0] for task in manifest.all_tasks()
                       for t in task.stub})


def copy_target_files(root, destination):
    """What a recorded run reads of a tree: its target files (copying whole trees is slow)."""
    destination = Path(destination)
    for path in TARGET_FILES:
        (destination / path).parent.mkdir(parents=True, exist_ok=True)
        (destination / path).write_bytes((Path(root) / path).read_bytes())
    return destination


@pytest.fixture
def recorder(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(runner, "run_tests", recorder)
    monkeypatch.setattr(trees, "copy_tree", copy_target_files)
    monkeypatch.setattr(scoring, "expected_tests", lambda base, hw: {
        f"tests/t.py::test_{t.marker}": [t.marker] for t in hw.tasks})
    return recorder


@pytest.mark.parametrize("number", [hw.number for hw in manifest.HOMEWORKS])
def test_status_runs_what_grade_runs_for_every_task(number, recorder, tmp_path):
    hw = manifest.homework(number)
    built = trees.build(hw, tmp_path / "built", ROOT)
    helper = with_module_level_helper(trees.copy_tree(built, tmp_path / "helper"))
    trees.write(helper, trees.ASSIGNMENT_FILE, trees.read(built, trees.ASSIGNMENT_FILE))
    for submission, verdicts in [(ROOT, True), (built, False), (helper, True)]:
        recorder.calls.clear()
        graded = scoring.grade(hw, submission, ROOT)
        grade_calls = list(recorder.calls)
        recorder.calls.clear()
        assignment = trees.read_assignment(submission)
        reference = trees.find_reference(submission, assignment)
        assert reference == ROOT
        progress = scoring.status(submission, hw, reference, assignment)
        assert recorder.calls == grade_calls and len(grade_calls) == len(hw.tasks)
        assert [(r.ok, scoring.earned(r), r.notes) for r in progress.results] == \
               [(r.ok, scoring.earned(r), r.notes) for r in graded]
        assert all(r.ok == verdicts for r in graded), [r.reason() for r in graded]
    python_files = [code for _, _, files in grade_calls for path, code in files.items()
                    if path.endswith(".py")]
    assert all("def _student_helper" in code for code in python_files)


def test_status_without_a_reference_grades_the_tree_as_built(hw2_trees):
    """Where no reference checkout is at hand, status grades against the tree as built; task
    2.4 needs no other task, so its verdict and points are still the grader's."""
    hw = hw2_trees["hw"]
    for name in ("stub", "helper", "changed"):
        tree = hw2_trees[name]
        graded = scoring.grade(hw, tree, ROOT)
        mine = scoring.status(tree, hw, None, trees.read_assignment(tree))
        assert "no reference checkout here" in mine.header[0]
        assert [(r.ok, scoring.earned(r), r.notes) for r in mine.results] == \
               [(r.ok, scoring.earned(r), r.notes) for r in graded]


XENT = "minigan/reference/xent_spec.py"
WITH_HELPERS = '''
    log_prob = logits - logsumexp(logits, axis=LABEL_AXIS, keepdims=True)
    index = _index(labels)
    loss = -np.take_along_axis(log_prob, index, axis=1)[:, 0]
    dlogits = np.exp(log_prob)
    np.put_along_axis(dlogits, index, np.take_along_axis(dlogits, index, axis=1) - 1, axis=1)
    return loss, dlogits


def _index(labels):
    return labels[:, None].astype(np.intp)
'''


@pytest.fixture(scope="module")
def hw2_trees(tmp_path_factory):
    """Homework 2 with task 2.4 alone: the stub tree, a solution with a module-level import,
    constant and helper of its own, and one that also changes the file's own import line."""
    folder = tmp_path_factory.mktemp("agreement")
    hw = manifest.homework(2)._replace(tasks=(manifest.task("2.4"),))
    stub = trees.build(manifest.homework(2), folder / "stub", ROOT)
    helper = trees.copy_tree(stub, folder / "helper")
    text = trees.read(helper, XENT).replace(
        "import numpy as np\n", "import numpy as np\nfrom scipy.special import logsumexp\n\n"
        "LABEL_AXIS = 1\n", 1)
    start = text.index("    raise NotImplementedError(")
    trees.write(helper, XENT, text[:start] + WITH_HELPERS.lstrip("\n"))
    changed = trees.copy_tree(helper, folder / "changed")
    trees.write(changed, XENT, trees.read(changed, XENT).replace(
        "import numpy as np\n", "import numpy as np  # the array module\nnp.seterr(all='raise')\n",
        1))
    return {"hw": hw, "stub": stub, "helper": helper, "changed": changed}


def test_a_solution_with_module_level_names_passes_in_status_and_grade(hw2_trees):
    hw = hw2_trees["hw"]
    for name, points in [("stub", 0), ("helper", 15), ("changed", 15)]:
        tree = hw2_trees[name]
        (graded,) = scoring.grade(hw, tree, ROOT)
        (progress,) = scoring.status(tree, hw, ROOT, trees.read_assignment(tree)).results
        assert scoring.earned(graded) == scoring.earned(progress) == points, graded.reason()
        assert graded.notes == progress.notes
    assert progress.notes == (f"{XENT}:11: `np.seterr(all='raise')` is not used (grading keeps "
                              f"the file's own module-level code; it adds only new names)",)
