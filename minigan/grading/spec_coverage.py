"""Whether every requirement that a task's tests check is stated in the task's specification.

A test *checks* a requirement when code of it, or of a helper in ``tests/`` it calls (followed
call by call), asserts on what names it:

    dtype        ``.dtype``; ``assert_array_equal(..., strict=True)``
    contiguity   ``.flags``, ``.c_contiguous``, ``.f_contiguous``, ``.contiguous``,
                 ``.is_contiguous``
    shape        ``.shape``, ``.ndim``; ``assert_array_equal(..., strict=True)``

in an ``assert`` statement's condition, in the arguments of an ``assert...(...)`` call, or in
the ``match=`` pattern of ``pytest.raises`` (an error the code must raise is a requirement too).
The task's *specification* is the text a student has: the docstring of each target (and of its
class, for a method), the docstring of the target's file (for a kernel: the comments at the top
of its file and just above the kernel) and the task's ``notes``. It states a requirement when
it matches that requirement's ``STATED`` pattern.
"""
import ast
import re
from pathlib import Path

from minigan.grading import stubs, trees
from minigan.grading.manifest import split_target

ATTRIBUTES = {"dtype": {"dtype"},
              "contiguity": {"flags", "c_contiguous", "f_contiguous", "contiguous",
                             "is_contiguous"},
              "shape": {"shape", "ndim"}}
WORDS = {"dtype": re.compile(r"\bdtype\b", re.I), "contiguity": re.compile(r"contiguous", re.I),
         "shape": re.compile(r"\bshape\b", re.I)}
STATED = {"dtype": re.compile(r"\bdtypes?\b|\bfloat(32|64)\b|\bfloat\b.{0,40}\bdouble\b", re.S),
          "contiguity": re.compile(r"contiguous", re.I),
          "shape": re.compile(r"\bshapes?\b|\(\s*[A-Z][\w*+ ]*,[^()]*\)")}
SAID = {"dtype": "'dtype' (or float32/float64, float and double)", "contiguity": "'contiguous'",
        "shape": "'shape' or a shape such as (N, C, H, W)"}


class TestSources:
    """The parsed files of a ``tests/`` folder: their functions, and the helpers they import
    from sibling test modules."""

    def __init__(self, folder):
        self.folder, self.parsed = Path(folder), {}

    def module(self, name):
        """(functions by name, imported helpers: local name -> (module, name)), or None."""
        if name not in self.parsed:
            path = self.folder / f"{name}.py"
            self.parsed[name] = self._read(path) if path.is_file() else None
        return self.parsed[name]

    def _read(self, path):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions, imported = {}, {}
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[node.name] = node
            elif isinstance(node, ast.ClassDef):
                functions.update({f"{node.name}.{m.name}": m for m in node.body
                                  if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))})
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                    and (self.folder / f"{node.module}.py").is_file():
                imported.update({a.asname or a.name: (node.module, a.name) for a in node.names})
            elif isinstance(node, ast.Import):
                imported.update({a.asname or a.name: (a.name, None) for a in node.names
                                 if (self.folder / f"{a.name}.py").is_file()})
        return functions, imported

    def checks(self, module, name, seen=None):
        """requirement -> ``tests/FILE.py:LINE`` of the first assertion on it, for the function
        ``name`` of test module ``module`` and every helper it calls."""
        seen = set() if seen is None else seen
        parsed = self.module(module)
        if parsed is None or (module, name) in seen or name not in parsed[0]:
            return {}
        seen.add((module, name))
        functions, imported = parsed
        found = {}

        def note(requirements, node):
            for requirement in requirements:
                found.setdefault(requirement, f"tests/{module}.py:{node.lineno}")

        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Assert):
                note(_named(node.test), node)
            elif isinstance(node, ast.Call):
                callee = _callee(node.func)
                if callee.startswith("assert"):
                    note(set().union(*map(_named, node.args)) if node.args else set(), node)
                    if any(k.arg == "strict" and getattr(k.value, "value", False)
                           for k in node.keywords):
                        note({"dtype", "shape"}, node)
                elif callee == "raises":
                    for keyword in node.keywords:
                        if keyword.arg == "match" and isinstance(keyword.value, ast.Constant):
                            note({r for r, word in WORDS.items()
                                  if word.search(str(keyword.value.value))}, node)
                for where, helper in self._resolve(node.func, module, functions, imported):
                    for requirement, place in self.checks(where, helper, seen).items():
                        found.setdefault(requirement, place)
        return found

    @staticmethod
    def _resolve(func, module, functions, imported):
        """The (module, function) of tests/ that a call's callee names, if any."""
        if isinstance(func, ast.Name):
            if func.id in functions:
                return [(module, func.id)]
            if func.id in imported and imported[func.id][1] is not None:
                return [imported[func.id]]
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                and func.value.id in imported and imported[func.value.id][1] is None:
            return [(imported[func.value.id][0], func.attr)]
        return []


def _named(node):
    """The requirements whose attributes an expression reads."""
    attributes = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    return {r for r, names in ATTRIBUTES.items() if attributes & names}


def _callee(func):
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def checked(tests, nodeids):
    """requirement -> where, over the tests ``nodeids`` (``tests/FILE.py::[Class::]name[...]``)."""
    found = {}
    for nodeid in nodeids:
        path, *names = re.sub(r"\[.*\]$", "", nodeid).split("::")
        for requirement, place in tests.checks(Path(path).stem, ".".join(names)).items():
            found.setdefault(requirement, place)
    return found


def specification(task, checkout):
    """The text of ``task``'s specification (see the module), and a list of where it was read."""
    texts, places = [task.notes], ["the task's notes"]
    for target in task.stub:
        path, name = split_target(target)
        source = trees.read(checkout, path)
        if stubs.kind(path) == "python":
            module = ast.parse(source)
            texts.append(ast.get_docstring(module) or "")
            node, owners = module, []
            for part in name.split("."):
                owners.append(node)
                node = next(n for n in node.body if getattr(n, "name", None) == part)
            texts += [ast.get_docstring(n) or "" for n in owners[1:] + [node]]
            places.append(f"the docstrings of {name} and {path}")
        else:
            region = stubs.locate(source, path, name)
            texts.append(_comments(source[:region.start]))
            places.append(f"the comments of {path} above {name}")
    return "\n".join(texts), places


def _comments(code):
    """The comments at the top of a CUDA file and those just above its last declaration."""
    comments = re.findall(r"//[^\n]*|/\*.*?\*/", code, re.S)
    lines = code.splitlines()
    top = []
    for line in lines:
        if line.strip() and not line.strip().startswith(("//", "/*", "*")):
            break
        top.append(line)
    return "\n".join(top) + "\n" + "\n".join(comments[-8:])


def unstated(task, checkout, nodeids, tests=None):
    """One line per requirement that ``task``'s tests (``nodeids``) check and its
    specification does not state."""
    tests = tests or TestSources(Path(checkout) / "tests")
    text, places = specification(task, checkout)
    return [f"task {task.id}: its tests check {requirement} ({where}), but its specification "
            f"({'; '.join(places)}) never says {SAID[requirement]}"
            for requirement, where in sorted(checked(tests, nodeids).items())
            if not STATED[requirement].search(text)]
