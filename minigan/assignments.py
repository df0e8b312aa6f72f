"""Homeworks generated from the code: list them, build a student tree, see progress, grade, check.

    python -m minigan.assignments list
    python -m minigan.assignments build --hw 2 --out ~/hw2       # a student tree (new folder)
    python -m minigan.assignments status                         # in a student tree
    python -m minigan.assignments grade --hw 2 --submission ~/hw2 --out grades/alice.json
    python -m minigan.assignments check [--hw 2]                 # CI: homeworks match the code

Each task's functions and kernels (``list`` shows them) have their bodies stubbed in the student
tree: a Python function raises NotImplementedError naming the task, a kernel returns at once.
``python -m pytest -m task2_1`` runs a task's tests. ``grade`` copies the student's code of each
task (the bodies, and a Python file's new module-level names) into a fresh copy of this
checkout and runs the task's tests there within the task's limits; points are earned test by
test. ``status`` grades a student tree the same way. build, grade and check need the
repository checkout (not an installed package); status, grade and check need pytest
(``pip install -e ".[student]"``).
"""
import importlib.util
import json
from pathlib import Path

from minigan.cli import POSITIVE_INT, Parser, UsageError, check_output, program_main
from minigan.grading import manifest, scoring, stubs, sync, trees
from minigan.io.atomic import write_json

PROG = "python -m minigan.assignments"


def parse_args(argv=None):
    parser = Parser(PROG, __doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="the homeworks and their tasks")
    build = commands.add_parser("build", help="a student tree for one homework")
    build.add_argument("--hw", type=POSITIVE_INT, required=True, help="homework number")
    build.add_argument("--out", required=True, help="new folder for the student tree")
    status = commands.add_parser("status", help="a student tree graded as grade grades it")
    status.add_argument("--tree", default=".", help="the student tree (default: here)")
    status.add_argument("--hw", type=POSITIVE_INT,
                        help="homework (default: the tree's ASSIGNMENT.json)")
    status.add_argument("--reference", help="the checkout to grade against (default: the one "
                                            "the tree was built from, if it is there)")
    grade = commands.add_parser("grade", help="grade a student's tree")
    grade.add_argument("--hw", type=POSITIVE_INT, required=True, help="homework number")
    grade.add_argument("--submission", required=True, help="the student's tree")
    grade.add_argument("--out", help="JSON file for the scores, or a folder for "
                                     "hwN-<submission>.json (default: none written)")
    check = commands.add_parser("check", help="CI: the homeworks are in step with the code")
    check.add_argument("--hw", type=POSITIVE_INT, action="append",
                       help="check only this homework (repeatable; default: all)")
    return parser.parse_args(argv)


def require_pytest():
    if importlib.util.find_spec("pytest") is None:
        raise UsageError('the tests run with pytest, which is not installed: pip install -e '
                         '".[student]" (in the tree) installs minigan with it')


def grade_output(out, hw, submission):
    """The JSON file that ``--out`` names, checked before any grading: a new file, or one that
    ``grade`` wrote before (replaced); UsageError otherwise."""
    path = Path(out).expanduser()
    if path.is_dir() and not path.is_symlink():
        path = path / f"hw{hw.number}-{submission.name}.json"
    if path.is_symlink():
        raise UsageError(f"--out {path} is a symbolic link; give a new file name")
    check_output("--out", path, kind="file")
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
            ours = isinstance(previous, dict) and {"homework", "tasks", "max_points"} <= set(
                previous)
        except (OSError, ValueError):
            ours = False
        if not ours:
            raise UsageError(f"--out {path} exists and is not a grade file written by grade; "
                             f"nothing was overwritten")
    return path


def status_command(args):
    tree = trees.require_tree(args.tree, "--tree")
    assignment = trees.read_assignment(tree)
    number = args.hw if args.hw is not None else (assignment or {}).get("homework")
    if number is None:
        raise trees.TreeError(f"{tree} has no {trees.ASSIGNMENT_FILE}: run status in a tree made "
                              f"by build, or give --hw N")
    hw = manifest.homework(number)
    reference = trees.find_reference(tree, assignment, args.reference)
    if reference is None and not (assignment and assignment.get("originals")):
        raise trees.TreeError(f"{tree} has no reference checkout to grade against: give "
                              f"--reference DIR (a clone of minigan)")
    progress = scoring.status(tree, hw, reference, assignment)
    print("\n".join(progress.header + [scoring.results_table(hw, progress.results)]))
    return 0 if all(r.ok for r in progress.results) else 1


def grade_command(args):
    hw = manifest.homework(args.hw)
    checkout = trees.package_checkout()
    submission = Path(args.submission).expanduser()
    if not submission.is_dir():
        raise trees.TreeError(f"--submission {submission} is not a folder")
    submission = submission.resolve()
    out = grade_output(args.out, hw, submission) if args.out else None
    results = scoring.grade(hw, submission, checkout)
    print(scoring.results_table(hw, results))
    if out is None:
        print("(the scores were not saved: --out FILE writes them as JSON)")
        return 0
    write_json(out, scoring.scores(hw, results, submission, trees.source_commit(checkout)),
               indent=1)
    print(f"wrote {out}")
    return 0


def run(args):
    if args.command == "list":
        print(scoring.listing())
        return 0
    if args.command == "build":
        hw = manifest.homework(args.hw)
        out = trees.build(hw, args.out, trees.package_checkout())
        print(f"built homework {hw.number} ({hw.title}) in {out}: {len(hw.tasks)} tasks, "
              f"{hw.points} points; read {out / 'HOMEWORK.md'}, and install it with pytest: "
              f'cd {out} && pip install -e ".[student]"')
        return 0
    require_pytest()
    if args.command == "status":
        return status_command(args)
    if args.command == "grade":
        return grade_command(args)
    homeworks = [manifest.homework(n) for n in args.hw] if args.hw else manifest.HOMEWORKS
    failures = sync.check(trees.package_checkout(), homeworks)
    print(f"{len(failures)} check(s) failed" if failures else "every check passed")
    return 1 if failures else 0


def _main(argv):
    args = parse_args(argv)
    try:
        return run(args)
    except (manifest.ManifestError, trees.TreeError, stubs.StubError,
            scoring.DeviceError) as error:
        raise UsageError(f"{args.command}: {error}") from None


main = program_main(PROG, _main, __name__)
