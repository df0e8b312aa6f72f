"""Homeworks generated from the code: list them, build a student tree, see progress, grade, check.

    python -m minigan.assignments list
    python -m minigan.assignments build --hw 2 --out ~/hw2       # a student tree (new folder)
    python -m minigan.assignments status                         # in a student tree
    python -m minigan.assignments grade --hw 2 --submission ~/hw2 --out grade.json
    python -m minigan.assignments check [--hw 2]                 # CI: homeworks match the code

Each task's functions and kernels (``list`` shows them) have their bodies stubbed in the student
tree: a Python function raises NotImplementedError naming the task, a kernel returns at once.
``python -m pytest -m task2_1`` runs a task's tests. ``grade`` copies only the student's bodies
of each task into a fresh copy of this checkout and runs the task's tests there, with the
task's time limit. build, grade and check need the repository checkout (not an installed
package).
"""
import argparse
from pathlib import Path

from minigan.cli import UsageError, program_main
from minigan.grading import manifest, scoring, stubs, sync, trees

PROG = "python -m minigan.assignments"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="the homeworks and their tasks")
    build = commands.add_parser("build", help="a student tree for one homework")
    build.add_argument("--hw", type=int, required=True, help="homework number")
    build.add_argument("--out", required=True, help="new folder for the student tree")
    status = commands.add_parser("status", help="pass/fail of each task in a student tree")
    status.add_argument("--tree", default=".", help="the student tree (default: here)")
    status.add_argument("--hw", type=int, help="homework (default: the tree's ASSIGNMENT.json)")
    grade = commands.add_parser("grade", help="grade a student's tree")
    grade.add_argument("--hw", type=int, required=True, help="homework number")
    grade.add_argument("--submission", required=True, help="the student's tree")
    grade.add_argument("--out", help="JSON file for the scores (default: "
                                     "hwN-<submission folder>.json here)")
    check = commands.add_parser("check", help="CI: the homeworks are in step with the code")
    check.add_argument("--hw", type=int, action="append",
                       help="check only this homework (repeatable; default: all)")
    return parser.parse_args(argv)


def run(args):
    if args.command == "list":
        print(scoring.listing())
        return 0
    if args.command == "build":
        hw = manifest.homework(args.hw)
        out = trees.build(hw, args.out, trees.package_checkout())
        print(f"built homework {hw.number} ({hw.title}) in {out}: {len(hw.tasks)} tasks, "
              f"{hw.points} points; read {out / trees.HOMEWORK_FILE}")
        return 0
    if args.command == "status":
        tree = trees.require_tree(args.tree, "--tree")
        number = args.hw
        if number is None:
            assignment = trees.read_assignment(tree)
            if assignment is None:
                raise trees.TreeError(f"{tree} has no {trees.ASSIGNMENT_FILE}: run status in a "
                                      f"tree made by build, or give --hw N")
            number = assignment["homework"]
        hw = manifest.homework(number)
        results = scoring.status(tree, hw)
        print(scoring.results_table(hw, results, graded=False))
        return 0 if all(r.ok for r in results) else 1
    if args.command == "grade":
        hw = manifest.homework(args.hw)
        checkout = trees.package_checkout()
        submission = Path(args.submission).expanduser()
        if not submission.is_dir():
            raise trees.TreeError(f"--submission {submission} is not a folder")
        results = scoring.grade(hw, submission.resolve(), checkout)
        print(scoring.results_table(hw, results, graded=True))
        out = Path(args.out or f"hw{hw.number}-{submission.resolve().name}.json")
        scoring.write_json(out, scoring.scores(hw, results, submission.resolve(),
                                               trees.source_commit(checkout)))
        print(f"wrote {out}")
        return 0
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
