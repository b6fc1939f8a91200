"""Every role's schema explains itself: each type, field, argument, input field and
enum value has a description (from ``schema/descriptions.py``), and the scalars say
which specification they follow.

The walk covers whatever the schemas hold when the test runs, so a type added later
without a description fails here with its key, ready to paste into the table.
"""

from __future__ import annotations

import pytest
from graphql import GraphQLScalarType

from permissions.principal import Role
from schema.build import schema_for, sdl_for
from schema.descriptions import DESCRIPTIONS, PATTERNS, members, missing_descriptions


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_every_member_of_the_roles_schema_has_a_description(role: Role) -> None:
    missing = missing_descriptions(schema_for(role)._schema)
    assert missing == [], (
        f"{len(missing)} members of the {role.value} schema have no description. Add an "
        "entry per key to DESCRIPTIONS in schema/descriptions.py (a PerRole where the "
        "text would name something another role cannot see), or list them with "
        "`python -m schema.artifacts`:\n  " + "\n  ".join(missing)
    )


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_the_root_types_connections_and_payloads_are_described_in_the_sdl(role: Role) -> None:
    sdl = sdl_for(role)
    for type_name in ("Query", "OrderConnection", "OrderEdge", "PageInfo"):
        assert f'"""\ntype {type_name} ' in sdl or f'"""\ntype {type_name}\n' in sdl, type_name
    if role is not Role.CLIENT:
        assert '"""\ntype Mutation {' in sdl
        assert '"""\ntype OrderPayload {' in sdl


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_date_datetime_and_decimal_are_described_and_specified_by_a_url(role: Role) -> None:
    gql = schema_for(role)._schema
    names = ["Date", "DateTime"] + ([] if role is Role.CLIENT else ["Decimal"])
    for name in names:
        scalar = gql.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        assert len(scalar.description or "") > 20, name
        assert (scalar.specified_by_url or "").startswith("https://"), name
        assert f'scalar {name} @specifiedBy(url: "{scalar.specified_by_url}")' in sdl_for(role)


def test_every_table_key_on_a_known_type_names_a_member_of_some_roles_schema() -> None:
    # A renamed field must not leave a stale entry behind (it would silently describe
    # nothing). Entries for types not (yet) in any schema wait for their branch's merge.
    schemas = [schema_for(role)._schema for role in Role]
    keys = {m.key for gql in schemas for m in members(gql)}
    types = {name for gql in schemas for name in gql.type_map}
    stale = sorted(k for k in DESCRIPTIONS if k not in keys and k.split(".")[0] in types)
    assert stale == [], f"entries in schema/descriptions.py that match nothing: {stale}"
    assert PATTERNS  # the shared shapes are data too


def test_a_role_specific_wording_reaches_only_that_role() -> None:
    texts = {
        role: schema_for(role)._schema.type_map["Viewer"].fields["clientId"].description  # type: ignore[attr-defined]
        for role in (Role.BUYER, Role.CLIENT)
    }
    assert texts[Role.CLIENT] == "Your Client.id."
    assert texts[Role.BUYER] != texts[Role.CLIENT]
