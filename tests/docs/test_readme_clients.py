"""The README's ``## Clients`` section: its Python compiles, and every GraphQL document
in it (Python strings, TypeScript strings) is a named operation valid in the role's
schema, so ``gql`` validates it and codegen names its types."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from graphql import OperationDefinitionNode, parse, validate

from permissions.principal import Role
from schema.build import schema_for

README = Path(__file__).parents[2] / "README.md"


def clients_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Clients\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", clients_section(), re.DOTALL)


def documents() -> list[str]:
    found: list[str] = []
    for source in blocks("python"):
        for node in ast.walk(ast.parse(source)):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and re.match(r"\s*(query|mutation|subscription)\b", text):
                found.append(text)
    for source in blocks("ts"):
        found += re.findall(r'query: "((?:query|mutation|subscription)[^"]*)"', source)
    return found


def test_the_sections_python_compiles() -> None:
    assert len(blocks("python")) == 2
    for source in blocks("python"):
        compile(source, "README.md", "exec")


def test_every_graphql_document_in_the_section_is_named_and_valid() -> None:
    found = documents()
    assert len(found) >= 4
    for document in found:
        parsed = parse(document)
        for definition in parsed.definitions:
            assert isinstance(definition, OperationDefinitionNode)
            assert definition.name is not None, document
        assert validate(schema_for(Role.BUYER)._schema, parsed) == [], document


def test_the_section_shows_retry_settings_that_stop_on_4403_and_says_batching_is_off() -> None:
    section = clients_section()
    for needle in ("retryAttempts", "shouldRetry", "4403", "connection_init", "batch_interval"):
        assert needle in section, needle
    assert "batchRequests" in section
