"""Every GraphQL document the README shows — its ```graphql blocks, the query in its curl
lines and in its Python strings — is a named operation that some role's schema accepts
as written, so a reader who pastes one gets an answer, and codegen names its types."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import DocumentNode, OperationDefinitionNode, parse, print_ast, validate

from permissions.principal import Role
from schema.build import schema_for

README = Path(__file__).parents[2] / "README.md"
TEXT = README.read_text(encoding="utf-8")


def _operations() -> list[OperationDefinitionNode]:
    """Each operation on its own: one block may show the buyer's step, then the
    supplier's."""
    found = re.findall(r"```graphql\n(.*?)```", TEXT, re.DOTALL)
    found += re.findall(r'"query":\s*"((?:query|mutation|subscription)\b[^"]*)"', TEXT)
    operations = []
    for document in found:
        for definition in parse(document).definitions:
            assert isinstance(definition, OperationDefinitionNode), document
            operations.append(definition)
    return operations


OPERATIONS = _operations()


def test_the_readme_shows_its_operations() -> None:
    assert len(OPERATIONS) >= 25


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=[o.name.value if o.name else "unnamed" for o in OPERATIONS]
)
def test_each_readme_operation_is_named_and_valid_for_a_role(
    operation: OperationDefinitionNode,
) -> None:
    text = print_ast(operation)
    assert operation.name is not None, text
    document = DocumentNode(definitions=(operation,))
    accepted_by = [r for r in Role if not validate(schema_for(r)._schema, document)]
    assert accepted_by, f"no role's schema accepts:\n{text}"
