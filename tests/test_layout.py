"""The house rules of the code, checked on its source (ast), so that they hold as it grows: no import cycle,
SQL only in ``indexer/db``, a face's name changed only by ``naming/labels.py`` (and the statements it
calls), label sources only through their enum, a handful of modules at the top, thin ``__init__`` files."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "indexer"
SQL_WORDS = ("SELECT ", "UPDATE ", "INSERT INTO", "DELETE FROM", "CREATE TABLE")
SQLALCHEMY_STATEMENTS = {"select", "update", "delete", "insert", "text"}
NAME_COLUMNS = {"person_id", "label_source", "label_score"}
LABEL_SOURCES = {"manual", "auto"}


def modules() -> dict[str, Path]:
    """Every module of the package by its dotted name (a package by its own name)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(tree: ast.AST, name: str, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere (at the top or inside functions): for ``from A
    import B``, A.B when that is a module, else A."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                whole = f"{node.module}.{alias.name}"
                found.add(whole if whole in known else node.module)
    return {module for module in found if module in known and module != name}


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the string constants that are docstrings."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                ids.add(id(first.value))
    return ids


@functools.cache
def parsed() -> dict[str, ast.AST]:
    return {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in modules().items()}


def nodes_outside(*allowed: str):
    """(module, its tree, node) for every node of every module but those named or under ``allowed``."""
    for name, tree in parsed().items():
        if not any(name == a or name.startswith(a + ".") for a in allowed):
            for node in ast.walk(tree):
                yield name, tree, node


def test_no_module_imports_itself_through_others_not_even_inside_a_function():
    trees = parsed()
    graph = {name: imported(tree, name, set(trees)) for name, tree in trees.items()}
    state: dict[str, str] = {}
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for other in sorted(graph[module]):
            if state.get(other) == "open":
                cycles.append(path[path.index(other):] + [other] if other in path else [module, other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_sql_is_written_only_in_the_db_package():
    offending = []
    for name, tree, node in nodes_outside("indexer.db"):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            offending += [f"{name}:{node.lineno} imports {a.name}" for a in node.names if a.name in SQLALCHEMY_STATEMENTS]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and any(w in node.value for w in SQL_WORDS):
            offending.append(f"{name}:{node.lineno} SQL text")
    assert offending == []


def test_only_the_labels_module_changes_a_faces_name():
    offending = []
    for name, _, node in nodes_outside("indexer.db", "indexer.naming.labels"):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                if isinstance(element, ast.Attribute) and element.attr in NAME_COLUMNS:
                    offending.append(f"{name}:{node.lineno} sets .{element.attr}")
    assert offending == []


def test_label_sources_are_spelled_only_by_their_enum():
    offending, skip = [], set()
    for name, tree, node in nodes_outside("indexer.db.values"):
        skip |= docstrings(tree) if isinstance(node, ast.Module) else set()
        text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip else ""
        if text in LABEL_SOURCES or any(f"'{source}'" in text for source in LABEL_SOURCES):
            offending.append(f"{name}:{node.lineno} {text!r}")
    assert offending == []


def test_the_package_reads_as_a_handful_of_domains_with_thin_init_files():
    top = sorted(path.stem for path in PACKAGE.glob("*.py") if path.stem not in ("__init__", "__main__"))
    assert len(top) <= 12, top
    for path in PACKAGE.rglob("__init__.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        definitions = [node for node in tree.body if isinstance(node, ast.ClassDef | ast.FunctionDef)]
        assert len(definitions) <= 1 and len(path.read_text().splitlines()) <= 30, path


MAX_MODULE_LINES = 450


def test_the_web_app_imports_nothing_of_the_database_and_reads_through_the_read_model():
    trees = parsed()
    offending = [f"{name} imports {module}" for name, tree in trees.items() if name.startswith("indexer.web")
                 for module in imported(tree, name, set(trees)) if module.startswith("indexer.db")]
    assert offending == []
    gallery = {module for name, tree in trees.items() if name.startswith("indexer.outputs.gallery")
               for module in imported(tree, name, set(trees))}
    assert "indexer.answers.browse" in gallery and not any(module.startswith("indexer.db") for module in gallery)


def test_no_row_is_unpacked_by_position_into_eight_names_or_more_outside_the_database_package():
    offending = []
    for name, _, node in nodes_outside("indexer.db"):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.For | ast.comprehension) else []
        offending += [f"{name}:{getattr(node, 'lineno', '?')} unpacks {len(t.elts)} names" for t in targets
                      if isinstance(t, ast.Tuple) and len(t.elts) >= 8]
    assert offending == []


def test_no_module_grows_past_a_reading_of_it():
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    assert {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}


def test_every_package_and_data_file_is_in_what_pip_installs():
    """An install that is not editable (`pip install .`, the Docker image) holds only the packages and data
    files pyproject.toml names: a package left out there is missing at run time, not in the tests."""
    import fnmatch
    import tomllib

    setuptools = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages = {str(path.parent.relative_to(PACKAGE.parent)).replace("/", ".") for path in PACKAGE.rglob("__init__.py")}
    assert packages <= set(setuptools["packages"]), sorted(packages - set(setuptools["packages"]))
    data = [path for path in PACKAGE.rglob("*") if path.is_file() and path.suffix not in (".py", ".pyc")]
    for path in data:
        package = str(path.parent.relative_to(PACKAGE.parent)).replace("/", ".")
        while package not in setuptools["packages"]:
            package = package.rsplit(".", 1)[0]
        inside = str(path.relative_to(PACKAGE.parent / package.replace(".", "/")))
        globs = setuptools["package-data"].get(package, [])
        assert any(fnmatch.fnmatch(inside, glob) for glob in globs), f"{path} is not in package-data"
