"""The library's layers hold: every import in minigan/ goes down the table in the README.

The README's table (after ``<!-- layers -->``) gives each package of ``minigan/`` a layer number;
every top-level module is a program, above them all. A module may import from a layer with a
smaller number, or from its own package; never up, and never across to a peer package of the
same number. ``minigan/__init__.py`` (the public API) sits just above ``nn`` and ``optim``, whose
names it re-exports. Imports inside functions count too.
"""
import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "minigan"
PROGRAMS_LAYER = 1000


def read_layers(readme_text):
    """``{package: layer}`` from the README's table; raises ValueError when it is missing."""
    _, marker, rest = readme_text.partition("<!-- layers -->")
    if not marker:
        raise ValueError("README.md has no '<!-- layers -->' table")
    layers = {}
    for line in rest.splitlines()[2:]:
        if not line.startswith("|"):
            break
        match = re.match(r"\|\s*(\d+)\s*\|\s*`minigan/(\w+)/`", line)
        if match:
            layers[match.group(2)] = int(match.group(1))
    return layers


LAYERS = read_layers((ROOT / "README.md").read_text(encoding="utf-8"))
API_LAYER = max(LAYERS["nn"], LAYERS["optim"]) + 0.5


def layer_of(module, root=ROOT):
    """(layer, group) of a dotted minigan module name; group tells peers apart."""
    parts = module.split(".")
    if parts == ["minigan"] or parts[1] == "__main__":
        return API_LAYER, "minigan"
    top = parts[1]
    if top == "kernels":           # the installed CUDA sources: data, not code
        return 0, "kernels"
    if top in LAYERS:
        return LAYERS[top], top
    if (root / "minigan" / f"{top}.py").is_file():
        return PROGRAMS_LAYER, top
    raise KeyError(f"{module}: package minigan/{top}/ is not in the README's layer table")


def module_name(path, root=ROOT):
    relative = path.relative_to(root).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path, root=ROOT):
    """Every minigan module ``path`` imports, as dotted names (``from minigan import nn`` gives
    ``minigan.nn`` when that is a module, else ``minigan`` itself)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "minigan"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] != "minigan":
                continue
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                as_path = root / Path(*candidate.split("."))
                is_module = (as_path.with_suffix(".py").is_file()
                             or (as_path / "__init__.py").is_file())
                found.append(candidate if is_module else base)
    return found


def violations(root=ROOT):
    """One line per import that goes up or across the layers, for every module under root."""
    problems = []
    for path in sorted((root / "minigan").rglob("*.py")):
        name = module_name(path, root)
        layer, group = layer_of(name, root)
        for imported in imported_modules(path, root):
            their_layer, their_group = layer_of(imported, root)
            if their_group == group:
                continue
            if their_layer > layer:
                problems.append(f"{name} (layer {layer}) imports {imported} "
                                f"(layer {their_layer}): up")
            elif their_layer == layer:
                problems.append(f"{name} imports {imported}: peers of layer {layer} must not "
                                "know each other")
    return problems


def test_every_package_of_minigan_is_in_the_layer_table():
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    assert packages - {"kernels"} == set(LAYERS), (
        f"packages missing from the README's layer table: {sorted(packages - set(LAYERS))}; "
        f"rows without a package: {sorted(set(LAYERS) - packages)}")


def shared_module_names(root=ROOT):
    """``{file name: [paths]}`` for every module name (``__init__.py`` aside) that more than
    one file of minigan/ has."""
    seen = {}
    for path in sorted((root / "minigan").rglob("*.py")):
        if path.name != "__init__.py":
            seen.setdefault(path.name, []).append(str(path.relative_to(root)))
    return {name: paths for name, paths in seen.items() if len(paths) > 1}


def test_no_two_modules_share_a_name():
    shared = shared_module_names()
    assert not shared, f"module names used more than once: {shared}"


def test_the_name_check_catches_a_shared_name(tmp_path):
    root = _tree(tmp_path, {"minigan/__init__.py": "", "minigan/a/errors.py": "",
                            "minigan/b/errors.py": "", "minigan/b/__init__.py": ""})
    assert shared_module_names(root) == {"errors.py": ["minigan/a/errors.py",
                                                       "minigan/b/errors.py"]}


def test_no_module_imports_up_or_across_the_layers():
    problems = violations()
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def _tree(tmp_path, files):
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_check_catches_an_upward_import(tmp_path):
    """backend importing simgan (a higher layer) is reported, even inside a function."""
    root = _tree(tmp_path, {"minigan/__init__.py": "", "minigan/simgan/__init__.py": "",
                            "minigan/simgan/losses.py": "",
                            "minigan/backend/__init__.py":
                                "def f():\n    from minigan.simgan import losses\n"})
    assert violations(root) == [f"minigan.backend (layer {LAYERS['backend']}) imports "
                                f"minigan.simgan.losses (layer {LAYERS['simgan']}): up"]


def test_the_check_catches_peers_that_know_each_other(tmp_path):
    root = _tree(tmp_path, {"minigan/__init__.py": "", "minigan/data/__init__.py": "",
                            "minigan/simgan/__init__.py": "import minigan.data\n"})
    assert violations(root) == [f"minigan.simgan imports minigan.data: peers of layer "
                                f"{LAYERS['simgan']} must not know each other"]


def test_a_program_may_import_the_library_but_the_library_no_program(tmp_path):
    root = _tree(tmp_path, {"minigan/__init__.py": "", "minigan/train_eyes.py":
                            "from minigan.simgan import trainer\n",
                            "minigan/simgan/__init__.py": "from minigan import train_eyes\n",
                            "minigan/simgan/trainer.py": ""})
    assert violations(root) == [f"minigan.simgan (layer {LAYERS['simgan']}) imports "
                                f"minigan.train_eyes (layer {PROGRAMS_LAYER}): up"]


@pytest.mark.parametrize("text, message", [("no table here", "no '<!-- layers -->' table")])
def test_a_readme_without_the_table_is_an_error(text, message):
    with pytest.raises(ValueError, match=message):
        read_layers(text)
