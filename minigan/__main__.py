"""``python -m minigan``: the programs, one line each.

Every top-level module of the package (``minigan/<name>.py``) is a program, run as
``python -m minigan.<name>``; everything else is library (the packages beside them).
"""
import pkgutil
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def programs():
    """``[(name, first line of its docstring)]`` for every program, sorted by name."""
    found = []
    for module in pkgutil.iter_modules([str(PACKAGE)]):
        if module.ispkg or module.name.startswith("_"):
            continue
        found.append((module.name, _summary(PACKAGE / f"{module.name}.py")))
    return sorted(found)


def _summary(path):
    """The first line of a module's docstring, read without importing the module."""
    import ast
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return docstring.strip().splitlines()[0].replace("``", "") if docstring.strip() else ""


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("-h", "--help"):
        print(f"python -m minigan takes no arguments; run a program with "
              f"python -m minigan.<name> (got {' '.join(argv)!r})", file=sys.stderr)
        return 2
    rows = programs()
    width = max(len(name) for name, _ in rows)
    print("minigan programs (run one with python -m minigan.<name> --help):\n")
    for name, summary in rows:
        print(f"  {name:<{width}}  {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
