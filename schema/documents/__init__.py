"""The GraphQL documents Handoff executes itself (webhook bodies, e-mails, the tracking
page), committed as ``<name>.graphql`` next to this module, and the fragments several
of them share (``fragments.graphql``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    Node,
    Visitor,
    parse,
    validate,
    visit,
)

from db.scope import Role
from schema.build import schema_for

HERE = Path(__file__).parent


def _read(name: str) -> DocumentNode:
    return parse((HERE / f"{name}.graphql").read_text(encoding="utf-8"))


@cache
def _fragments() -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d
        for d in _read("fragments").definitions
        if isinstance(d, FragmentDefinitionNode)
    }


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.append(node.name.value)


def _spread(node: Node) -> list[str]:
    spreads = _Spreads()
    visit(node, spreads)
    return spreads.names


def document(name: str) -> DocumentNode:
    """``<name>.graphql`` followed by the shared fragments it spreads (and those they
    spread): only those, so an unused fragment never fails its validation."""
    found = _read(name)
    shared = _fragments()
    used: dict[str, FragmentDefinitionNode] = {}
    pending = _spread(found)
    while pending:
        spread = pending.pop(0)
        if spread in shared and spread not in used:
            used[spread] = shared[spread]
            pending += _spread(shared[spread])
    return DocumentNode(definitions=(*found.definitions, *used.values()))


@cache
def role_document(name: str, role: Role, what: str) -> DocumentNode:
    """``document(name)``, validated against ``role``'s schema once: a field the role can
    no longer see makes its every use fail loudly (and the tests)."""
    found = document(name)
    errors = validate(schema_for(role)._schema, found)
    if errors:
        raise RuntimeError(f"the {role.value} {what} document is invalid: {errors}")
    return found
