"""Finding a task's code in a source file, stubbing it out, and putting code back.

A target's *body* is the part a student writes:

* Python (``path.py::name`` or ``path.py::Class.method``): the lines after the docstring to the
  end of the function (``ast`` gives them); the signature and docstring stay. A stub body is one
  ``raise NotImplementedError("task 2.1: ...")``. The specification is the function's
  docstring, or for a method without one (a one-line ``backward``), its class's docstring.
* CUDA (``path.cu::kernel``): the braces of the kernel's definition and everything between,
  found by brace matching on the source with its comments and literals blanked out. A stub body
  returns at once.

``splice(text, target, body)`` puts a body (the reference's, or a student's) in place of the
one ``text`` has, leaving every other byte alone, so stubbing and then splicing the reference's
body back gives the reference file byte for byte.
"""
import ast
import re
from typing import NamedTuple


class StubError(ValueError):
    """A target that cannot be found or used in a source file."""


class Region(NamedTuple):
    start: int    # character offsets of the body in the text: text[start:end]
    end: int
    indent: str   # indentation of the body's lines (Python)
    spec: str = "its docstring"   # where the specification is (Python)


def kind(path):
    """``"python"`` or ``"cuda"`` from a target's file name."""
    if path.endswith(".py"):
        return "python"
    if path.endswith((".cu", ".cuh")):
        return "cuda"
    raise StubError(f"{path}: a stub target must be a .py, .cu or .cuh file")


def locate(text, path, name, need_docstring=False):
    """The ``Region`` of ``name``'s body in ``text`` (the contents of ``path``)."""
    if kind(path) == "python":
        return _python_region(text, path, name, need_docstring)
    return _cuda_region(text, path, name)


def body(text, path, name):
    """The text of ``name``'s body."""
    region = locate(text, path, name)
    return text[region.start:region.end]


def splice(text, path, name, new_body):
    """``text`` with ``name``'s body replaced by ``new_body``; a Python result must parse."""
    region = locate(text, path, name)
    result = text[:region.start] + new_body + text[region.end:]
    if kind(path) == "python":
        try:
            ast.parse(result)
        except SyntaxError as error:
            raise StubError(f"{path}::{name}: the new body does not fit the file "
                            f"({type(error).__name__} at line {error.lineno}: "
                            f"{error.msg})") from None
    return result


def stub_body(text, path, name, task_id, marker):
    """The body a student starts from: it fails at once, naming the task and its test."""
    region = locate(text, path, name, need_docstring=True)
    test = f"python -m pytest -m {marker}"
    if kind(path) == "python":
        indent = region.indent
        return (f'{indent}raise NotImplementedError(\n'
                f'{indent}    "task {task_id}: write {name} in {path}; {region.spec} is the "\n'
                f'{indent}    "specification. Test: {test}")\n')
    return ("{\n"
            f"    // TODO(task {task_id}): write this kernel; the comment at the top of this file\n"
            f"    // is its specification. Test: {test}\n"
            "    return;\n"
            "}")


def stub(text, path, name, task_id, marker):
    """``text`` with ``name``'s body replaced by the task's stub."""
    return splice(text, path, name, stub_body(text, path, name, task_id, marker))


# --- Python -------------------------------------------------------------------------------------

def _python_region(text, path, name, need_docstring):
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise StubError(f"{path} does not parse ({error.msg} at line {error.lineno})") from None
    node, parent = tree, None
    for part in name.split("."):
        found = [child for child in getattr(node, "body", [])
                 if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                 and child.name == part]
        if len(found) != 1:
            what = "no" if not found else f"{len(found)} definitions of"
            raise StubError(f"{path}: {what} {name!r} (looked for {part!r})")
        parent, node = node, found[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise StubError(f"{path}::{name} is a class, not a function")
    has_docstring = ast.get_docstring(node) is not None
    spec = "its docstring"
    if not has_docstring and isinstance(parent, ast.ClassDef) and ast.get_docstring(parent):
        spec = f"the docstring of class {parent.name}"
    elif need_docstring and not has_docstring:
        raise StubError(f"{path}::{name} has no docstring (a student's specification)")
    first = node.body[1] if has_docstring and len(node.body) > 1 else node.body[0]
    if first.lineno == node.lineno:
        raise StubError(f"{path}::{name}: its body shares a line with the def")
    starts = _line_starts(text)
    start_line = node.body[0].end_lineno if has_docstring else first.lineno - 1   # 0-based
    return Region(starts[start_line], starts[node.end_lineno], " " * first.col_offset, spec)


def _line_starts(text):
    """Offset of the start of every line, plus len(text) (the start of the line past the end)."""
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


# --- CUDA ---------------------------------------------------------------------------------------

_COMMENT_OR_LITERAL = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                                 re.S)


def _blank(text):
    """``text`` with comments and string/char literals turned into spaces (newlines kept), so
    that names and braces inside them are not seen."""
    return _COMMENT_OR_LITERAL.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def _matching(code, start, opening, closing):
    depth = 0
    for i in range(start, len(code)):
        if code[i] == opening:
            depth += 1
        elif code[i] == closing:
            depth -= 1
            if depth == 0:
                return i
    raise StubError(f"unbalanced {opening}{closing}")


def _cuda_region(text, path, name):
    code = _blank(text)
    definitions = []
    for match in re.finditer(rf"\b{re.escape(name)}\s*\(", code):
        close = _matching(code, match.end() - 1, "(", ")")
        after = close + 1
        while after < len(code) and code[after].isspace():
            after += 1
        if after < len(code) and code[after] == "{":
            declaration_start = max(code.rfind(";", 0, match.start()),
                                    code.rfind("}", 0, match.start())) + 1
            definitions.append((code[declaration_start:match.start()], after))
    if len(definitions) != 1:
        what = "no definition" if not definitions else f"{len(definitions)} definitions"
        raise StubError(f"{path}: {what} of the kernel {name!r}")
    declaration, open_brace = definitions[0]
    if "__global__" not in declaration or not re.search(r"\bvoid\b", declaration):
        raise StubError(f"{path}::{name} is not a __global__ void kernel")
    return Region(open_brace, _matching(code, open_brace, "{", "}") + 1, "    ")
