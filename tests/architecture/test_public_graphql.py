"""The package uses graphql-core through its public API only (issue 15).

An upgrade of graphql-core may rename or remove anything private. So no module of
``app``, ``db``, ``permissions`` or ``schema``:

* imports a ``_``-prefixed name from graphql-core, or a ``_``-prefixed graphql module;
* reads a ``_``-prefixed attribute that graphql-core defines (its private methods and
  fields), or Strawberry's handle on graphql-core's resolve info (``_raw_info``);
* subclasses graphql-core's ``ExecutionContext`` (or Strawberry's): its methods are
  execution internals, not hooks.

``_schema`` is exempt: on our objects it is Strawberry's attribute holding the
graphql-core schema (``RoleSchema.graphql_schema`` wraps it), not graphql-core's own.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import graphql
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "db", "permissions", "schema")
STRAWBERRY_PRIVATE = frozenset({"_raw_info"})
EXEMPT = frozenset({"_schema"})


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


@cache
def graphql_private_names() -> frozenset[str]:
    """Every ``_``-prefixed function, class, attribute and module-level name in graphql-core."""
    found: set[str] = set()
    for path in Path(graphql.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = node.name
            elif isinstance(node, ast.Attribute):
                name = node.attr
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                name = node.id
            else:
                continue
            if _private(name):
                found.add(name)
    return frozenset(found - EXEMPT)


def modules() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def violations(source: str) -> list[str]:
    """What ``source`` does that depends on graphql-core's internals."""
    private = graphql_private_names() | STRAWBERRY_PRIVATE
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "graphql":
            parts = (node.module or "").split(".")
            if any(_private(p) for p in parts):
                found.append(f"line {node.lineno}: from {node.module} import ...")
            found += [
                f"line {node.lineno}: imports {a.name} from {node.module}"
                for a in node.names
                if _private(a.name)
            ]
        elif isinstance(node, ast.Import):
            found += [
                f"line {node.lineno}: import {a.name}"
                for a in node.names
                if a.name.split(".")[0] == "graphql" and any(_private(p) for p in a.name.split("."))
            ]
        elif isinstance(node, ast.Attribute) and node.attr in private:
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue  # our own attribute that happens to share a name
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                text = ast.unparse(base)
                if text.split(".")[-1].endswith("ExecutionContext"):
                    found.append(f"line {node.lineno}: class {node.name}({text})")
    return found


def test_the_checker_knows_graphql_cores_private_names() -> None:
    assert len(graphql_private_names()) > 50


@pytest.mark.parametrize(
    "source",
    [
        "from graphql.execution.execute import _something",
        "from graphql.pyutils._internal import thing",
        "import graphql._private",
        "def f(info):\n    return info._raw_info",
        "from graphql import ExecutionContext\nclass Fast(ExecutionContext):\n    pass",
        "import strawberry.schema.schema as s\n"
        "class F(s.StrawberryGraphQLCoreExecutionContext): ...",
    ],
)
def test_the_checker_catches_each_kind_of_private_use(source: str) -> None:
    assert violations(source)


def test_no_module_depends_on_graphql_core_internals() -> None:
    found = {
        str(path.relative_to(ROOT)): problems
        for path in modules()
        if (problems := violations(path.read_text(encoding="utf-8")))
    }
    assert found == {}
