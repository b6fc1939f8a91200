"""The frontend developer's path: GraphQL Code Generator turns each role's committed
SDL into TypeScript, and tsc type-checks the example app code in docs/codegen/ against
it. The per-role SDL is thereby proven usable by the tool portal teams use; and a
hidden field fails there as it fails on the server.

Skipped only where node is not installed (tests/node_support.py installs the tools).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate

from node_support import node, node_tools
from permissions.principal import Role
from schema.build import schema_for, sdl_for

DOCS = Path(__file__).parents[2] / "docs" / "codegen"
ROLES = [Role.CLIENT, Role.SUPPLIER, Role.BUYER]


def project(role: Role, tmp_path: Path) -> Path:
    """A frontend project as the README describes it: the example, the exported SDL."""
    root = tmp_path / role.value
    shutil.copytree(DOCS / role.value, root)
    (root / f"{role.value}.graphql").write_text(sdl_for(role))
    (root / "node_modules").symlink_to(node_tools() / "node_modules", target_is_directory=True)
    return root


def codegen(root: Path) -> subprocess.CompletedProcess[str]:
    cli = root / "node_modules" / "@graphql-codegen" / "cli" / "cjs" / "bin.js"
    return subprocess.run(
        [node(), str(cli), "--config", "codegen.ts"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def tsc(root: Path) -> subprocess.CompletedProcess[str]:
    compiler = root / "node_modules" / "typescript" / "bin" / "tsc"
    return subprocess.run(
        [node(), str(compiler), "--project", "tsconfig.json"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_the_roles_sdl_generates_types_that_type_check_the_example(
    role: Role, tmp_path: Path
) -> None:
    root = project(role, tmp_path)
    generated = codegen(root)
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert (root / "generated" / "operations.ts").exists()
    checked = tsc(root)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_generated_client_types_hold_no_price_or_supplier(tmp_path: Path) -> None:
    root = project(Role.CLIENT, tmp_path)
    assert codegen(root).returncode == 0
    text = (root / "generated" / "schema.ts").read_text()
    text += (root / "generated" / "operations.ts").read_text()
    for hidden in ("unitPrice", "total", "Supplier", "supplierId", "internalNote", "Decimal"):
        assert not re.search(rf"\b{hidden}\b", text), hidden


def test_a_client_operation_selecting_a_hidden_field_fails_to_generate(tmp_path: Path) -> None:
    root = project(Role.CLIENT, tmp_path)
    operations = root / "operations.graphql"
    operations.write_text(operations.read_text().replace("outlook", "outlook total", 1))
    failed = codegen(root)
    assert failed.returncode != 0
    assert "Cannot query field" in failed.stdout + failed.stderr


def test_app_code_using_a_field_it_did_not_select_fails_to_type_check(tmp_path: Path) -> None:
    root = project(Role.CLIENT, tmp_path)
    assert codegen(root).returncode == 0
    (root / "wrong.ts").write_text(
        'import type { PortalOrdersQuery } from "./generated/operations";\n'
        "export const f = (d: PortalOrdersQuery) => d.orders.edges.map((e) => e.node.issuedAt);\n"
    )
    failed = tsc(root)
    assert failed.returncode != 0
    assert "issuedAt" in failed.stdout


def test_both_plugins_in_one_file_would_declare_enums_twice(tmp_path: Path) -> None:
    """Why the examples use two files: the one-file setup fails with TS2567."""
    root = project(Role.CLIENT, tmp_path)
    config = root / "codegen.ts"
    config.write_text(
        'const scalars = { DateTime: "string", Date: "string", Decimal: "string" };\n'
        'export default { schema: "client.graphql", documents: "operations.graphql",\n'
        '  generates: { "generated/operations.ts": { plugins: ["typescript", '
        '"typescript-operations"], config: { scalars } } } };\n'
    )
    (root / "portal.ts").write_text('export * from "./generated/operations";\n')
    assert codegen(root).returncode == 0
    failed = tsc(root)
    assert "TS2567" in failed.stdout


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_every_example_operation_is_named_and_valid_against_its_roles_schema(role: Role) -> None:
    # Unnamed operations come out of codegen as Unnamed_1_Query: name every one.
    document = parse((DOCS / role.value / "operations.graphql").read_text())
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert operations
    assert [o for o in operations if o.name is None] == []
    assert validate(schema_for(role)._schema, document) == []


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_the_custom_scalars_come_out_as_strings(role: Role, tmp_path: Path) -> None:
    root = project(role, tmp_path)
    assert codegen(root).returncode == 0
    schema_ts = (root / "generated" / "schema.ts").read_text()
    for scalar in ("Date", "DateTime") + (() if role is Role.CLIENT else ("Decimal",)):
        assert re.search(rf"\b{scalar}: {{ input: string; output: string; }}", schema_ts), scalar
    assert not re.search(r": (any|unknown);", schema_ts)
    assert "Unnamed" not in (root / "generated" / "operations.ts").read_text()
