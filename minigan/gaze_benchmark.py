"""The old name of gaze_study, kept for one release: runs python -m minigan.gaze_study.

    python -m minigan.gaze_benchmark ...   ->   python -m minigan.gaze_study ...
"""
import runpy
import sys

from minigan.cli import program_main


def _main(argv):
    print("note: python -m minigan.gaze_benchmark is now python -m minigan.gaze_study; the old "
          "name goes in the next release", file=sys.stderr)
    if argv is not None:
        sys.argv = [sys.argv[0]] + list(argv)
    try:   # by name, not by import: programs do not import each other
        runpy.run_module("minigan.gaze_study", run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return done.code
    return 0


main = program_main("python -m minigan.gaze_benchmark", _main, __name__)
