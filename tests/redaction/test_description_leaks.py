"""Descriptions are a redaction path too: what a client's or a supplier's schema says
about itself (SDL, introspection) must not name what that role cannot see, and never
carries a value at all (no canary of any test world appears in any schema)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from graphql import get_introspection_query, introspection_from_schema

from conftest import GraphQL
from permissions.principal import Role
from schema.build import schema_for, sdl_for
from schema.descriptions import described_texts
from worlds import canary, fast_path, notes

# Words for what the role's schema hides (SPEC: "what they must never learn").
HIDDEN_WORDS = {
    Role.CLIENT: re.compile(
        r"supplier|price|cost|invoice|internal|margin|\btotals?\b|\bterms\b|currency|alert"
        r"|threshold|receipt|propos|toleran|matching|three-way|scorecard|lead ?time",
        re.IGNORECASE,
    ),
    Role.SUPPLIER: re.compile(
        r"client|customer|internal|tracking ?link|trackingLinks|scorecard|toleran",
        re.IGNORECASE,
    ),
}

# Every world's canaries (module.NAME -> value).
CANARIES = {
    f"{world.__name__}.{name}": value
    for world in (canary, fast_path, notes)
    for name, value in vars(world).items()
    if name.isupper() and isinstance(value, str) and re.search(r"canary|\d+\.\d\d", value, re.I)
}


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SUPPLIER], ids=str)
def test_no_description_in_the_roles_schema_names_what_the_role_cannot_see(role: Role) -> None:
    texts = described_texts(schema_for(role)._schema)
    leaks = {k: t for k, t in texts.items() if HIDDEN_WORDS[role].search(t)}
    assert leaks == {}, (
        f"{role.value} descriptions mention hidden things; give these keys a PerRole "
        f"wording in schema/descriptions.py: {leaks}"
    )


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SUPPLIER], ids=str)
def test_the_roles_sdl_and_introspection_descriptions_hold_no_hidden_word(role: Role) -> None:
    # Through the public outputs too, not only the table: SDL and introspection JSON.
    introspection = introspection_from_schema(schema_for(role)._schema)
    descriptions: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "description" and isinstance(value, str):
                    descriptions.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(introspection)
    assert len(descriptions) > 100
    assert [d for d in descriptions if HIDDEN_WORDS[role].search(d)] == []
    sdl_docs = re.findall(r'"""(.*?)"""|"([^"\n]*)"\n', sdl_for(role), re.DOTALL)
    assert [d for pair in sdl_docs for d in pair if d and HIDDEN_WORDS[role].search(d)] == []


def test_the_buyer_wording_does_name_suppliers_and_prices() -> None:
    # The check above is not vacuous: the buyer's own texts use these words.
    texts = " ".join(described_texts(schema_for(Role.BUYER)._schema).values())
    assert HIDDEN_WORDS[Role.CLIENT].search(texts)
    assert HIDDEN_WORDS[Role.SUPPLIER].search(texts)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_no_canary_value_appears_in_any_roles_sdl_or_introspection(role: Role) -> None:
    assert len(CANARIES) > 20
    published = sdl_for(role) + json.dumps(introspection_from_schema(schema_for(role)._schema))
    assert {n: v for n, v in CANARIES.items() if v in published} == {}


@pytest.mark.parametrize(
    ("role", "claims"),
    [(Role.CLIENT, {"client_id": "cli_x"}), (Role.SUPPLIER, {"supplier_id": "sup_x"})],
    ids=str,
)
async def test_introspection_over_http_describes_only_what_the_role_sees(
    role: Role, claims: dict[str, str], as_role: Callable[..., GraphQL]
) -> None:
    # The path GraphiQL's docs pane and every client tool take.
    body = await as_role(role.value, **claims)(get_introspection_query(descriptions=True))
    assert "errors" not in body, body
    text = json.dumps(body)
    descriptions = re.findall(r'"description": "((?:[^"\\]|\\.)*)"', text)
    assert len(descriptions) > 100
    assert [d for d in descriptions if HIDDEN_WORDS[role].search(d)] == []
    assert {n: v for n, v in CANARIES.items() if v in text} == {}
