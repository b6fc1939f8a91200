"""The package's shape, checked from its source: layers depend one way
(``db <- permissions <- schema <- app``), no module imports its way round in a circle,
and modules stay small enough to hold in mind."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("db", "permissions", "schema", "app")
MAX_LINES = 350


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for layer in LAYERS:
        for path in (ROOT / layer).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str) -> Iterator[str]:
    """Every module imported anywhere in ``tree`` (function bodies included), except
    under ``if TYPE_CHECKING:``; ``from x import y`` counts as x.y when that is a module."""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            yield base
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    yield f"{base}.{alias.name}"
        stack.extend(ast.iter_child_nodes(node))


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {i for i in _imports(tree, name) if i in MODULES and i != name}
    return graph


GRAPH = _graph()


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def test_no_module_imports_from_a_layer_to_its_right() -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        for target in targets
        if _layer(target) > _layer(module)
    )
    assert upward == []


def test_the_domain_layer_imports_no_web_or_graphql_framework() -> None:
    banned = ("strawberry", "starlette", "graphql", "uvicorn", "app", "permissions", "schema")
    found = []
    for name, path in MODULES.items():
        if not name.startswith("db"):
            continue
        for imported in _imports(ast.parse(path.read_text(encoding="utf-8")), name):
            if imported.split(".")[0] in banned:
                found.append(f"{name} imports {imported}")
    assert found == []


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_anywhere_in_the_package() -> None:
    assert _cycles() == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_a_long_module_says_why_in_its_docstring(module: str) -> None:
    path = MODULES[module]
    source = path.read_text(encoding="utf-8")
    lines = len(source.splitlines())
    if lines <= MAX_LINES:
        return
    docstring = ast.get_docstring(ast.parse(source)) or ""
    assert "Long because" in docstring, f"{module}: {lines} lines and no reason given"


def test_the_checks_see_the_whole_package() -> None:
    # Guards the guards: a walk that found nothing would pass everything above.
    assert {"db.models", "permissions.policy", "schema.build", "app.main"} <= set(MODULES)
    assert "db.models" in GRAPH["db.queries.orders"]
    assert "schema.relations" in GRAPH["schema.types.order"]
