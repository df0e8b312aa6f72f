"""What of a student's file, besides the bodies of a task's targets, grading uses.

In a Python file, the module-level names the student *added*: an import, a function, a class, a
constant (a top-level statement that binds only names the original file does not bind), and
new members of a class that holds a target (a helper method). They are added after the
original file's code (or at the end of their class), in the student's order, so a body that
uses them finds them when it runs. A change to the original's own module-level code (an edited
helper, a rebound name, a top-level call) is not used, and each is named in a note.

In a CUDA file, only the kernels' bodies: code outside them that differs from the original is
not used, and the note names its first line (a helper can live inside the kernel, as a lambda).

    text, notes = python_additions(student_text, base_text, path, targets)
    notes = cuda_differences(student_text, base_text, path, targets)

``targets`` are the qualified names of every stub target in the file (their bodies are the
student's anyway); ``base_text`` is the file being graded, whose own code is kept.
"""
import ast
import difflib
import re
import textwrap

from minigan.grading import stubs

NOT_USED = "is not used (grading keeps the file's own module-level code; it adds only new names)"


def bound_names(node):
    """The names a statement binds in the scope it runs in."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Import):
        return {a.asname or a.name.split(".")[0] for a in node.names}
    if isinstance(node, ast.ImportFrom):
        return {a.asname or a.name for a in node.names}
    if isinstance(node, ast.Lambda):
        return set()
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Store) else set()
    names = set()
    for child in ast.iter_child_nodes(node):
        names |= bound_names(child)
    return names


def _source(lines, node):
    """The full lines of ``node``, decorators included."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return "".join(lines[first - 1:node.end_lineno])


def _body(node):
    """A module's or class's statements, without its docstring."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return body


def _note(path, node, lines):
    return f"{path}:{node.lineno}: `{lines[node.lineno - 1].strip()[:80]}` {NOT_USED}"


def _new_statements(student, base, student_lines, path, skip):
    """(new statements, notes): the student's statements among ``student`` that bind only new
    names, and a note for each other one that differs from every statement of ``base``."""
    dumps = {ast.dump(node) for node in base}
    names = set().union(*(bound_names(node) for node in base))
    new, notes = [], []
    for node in student:
        if ast.dump(node) in dumps or skip(node):
            continue
        binds = bound_names(node)
        if binds and not binds & names:
            new.append(node)
        else:
            notes.append(_note(path, node, student_lines))
    return new, notes


def python_additions(student_text, base_text, path, targets):
    """``base_text`` with the student's new module-level names and class members added, and a
    note for each change of the original's module-level code that is not used."""
    student, base = ast.parse(student_text), ast.parse(base_text)
    lines = student_text.splitlines(keepends=True)
    functions = {t for t in targets if "." not in t}
    owners = {t.split(".")[0] for t in targets if "." in t}
    base_classes = {n.name: n for n in base.body if isinstance(n, ast.ClassDef)}

    def is_target(node):
        return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
            and node.name in functions

    def holds_targets(node):
        return isinstance(node, ast.ClassDef) and node.name in owners \
            and node.name in base_classes

    new, notes = _new_statements(_body(student), _body(base), lines, path,
                                 lambda n: is_target(n) or holds_targets(n))
    members = {}
    for node in student.body:
        if holds_targets(node):
            methods = {t.split(".", 1)[1] for t in targets if t.startswith(node.name + ".")}
            added, class_notes = _new_statements(
                _body(node), _body(base_classes[node.name]), lines, path,
                lambda n, methods=methods: isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and n.name in methods)
            notes += class_notes
            if added:
                members[node.name] = added
    text = base_text
    for name, added in members.items():
        text = _add_to_class(text, name, [_source(lines, n) for n in added])
    if new:
        text = text.rstrip("\n") + "\n\n\n" + "\n\n".join(_source(lines, n) for n in new)
    return text, notes


def _add_to_class(text, name, sources):
    """``text`` with ``sources`` (members of a class, as the student indented them) at the end
    of class ``name``."""
    node = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef) and n.name == name)
    indent = " " * node.body[-1].col_offset
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    members = "".join("\n" + textwrap.indent(textwrap.dedent(s), indent) for s in sources)
    end = starts[node.end_lineno]
    before = text[:end] if text[:end].endswith("\n") else text[:end] + "\n"
    return before + members + text[end:]


def _outside_bodies(text, path, targets):
    """``text`` with comments, literals and the bodies of ``targets`` blanked, lines kept."""
    code = stubs._blank(text)
    for name in targets:
        try:
            region = stubs.locate(text, path, name)
        except stubs.StubError:
            continue
        inside = re.sub(r"[^\n]", " ", code[region.start:region.end])
        code = code[:region.start] + inside + code[region.end:]
    return [" ".join(line.split()) for line in code.splitlines()]


def cuda_differences(student_text, base_text, path, targets):
    """A note when the student's CUDA file differs from ``base_text`` outside the bodies of
    ``targets`` (empty list when it does not)."""
    student = _outside_bodies(student_text, path, targets)
    base = _outside_bodies(base_text, path, targets)
    keep = [i for i, line in enumerate(student) if line]
    matcher = difflib.SequenceMatcher(None, [student[i] for i in keep],
                                      [line for line in base if line], autojunk=False)
    for tag, first, _, _, _ in matcher.get_opcodes():
        if tag in ("replace", "delete"):   # lines of the student's that the original lacks
            number = keep[first] + 1
            line = student_text.splitlines()[number - 1].strip()[:80]
            return [f"{path}:{number}: `{line}` is outside the kernels' bodies and not used "
                    f"(grading copies only the bodies; a helper can be a lambda inside the "
                    f"kernel)"]
    return []
