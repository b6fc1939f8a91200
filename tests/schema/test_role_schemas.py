"""Walk every (role, member) of the schema against the policy table.

HIDE: absent from the role's schema, and selecting it fails exactly like a member
that never existed, with no suggestion. ALLOW/NULL: present. NULL fields are
nullable and carry the row-policy extension.
"""

from __future__ import annotations

import re
from collections import deque

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)

from graphql_support import full_schema
from permissions.fields import RowPolicyExtension
from permissions.policy import POLICY, Access, access, row_rule_keys
from permissions.principal import Role
from schema.build import schema_for
from schema.execute import DocumentCache
from schema.limits import Limits

FULL = full_schema()
ROOT_ARGS = {"node": '(id: "x")', "order": '(id: "x")', "orderByNumber": '(number: "x")'}


def _members(schema: GraphQLSchema) -> list[tuple[str, str, str]]:
    """(kind, type, member) for every field, input field and enum value, no introspection."""
    found = []
    for name, t in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(t, GraphQLObjectType | GraphQLInterfaceType):
            found += [("field", name, f) for f in t.fields]
        elif isinstance(t, GraphQLInputObjectType):
            found += [("input", name, f) for f in t.fields]
        elif isinstance(t, GraphQLEnumType):
            found += [("enum", name, v) for v in t.values]
    return found


ALL_MEMBERS = _members(FULL)
CASES = [(role, *m) for role in Role for m in ALL_MEMBERS]


def _path_to(schema: GraphQLSchema, target: str) -> str | None:
    """A selection prefix reaching object type ``target`` from Query."""
    query = schema.query_type
    assert query is not None
    queue: deque[tuple[str, list[str]]] = deque([(query.name, [])])
    seen = {query.name}
    while queue:
        name, path = queue.popleft()
        if name == target:
            return " { ".join(path) + (" {" if path else "")
        t = schema.type_map[name]
        assert isinstance(t, GraphQLObjectType | GraphQLInterfaceType)
        for fname, field in t.fields.items():
            nt = get_named_type(field.type)
            if isinstance(nt, GraphQLObjectType) and nt.name not in seen:
                seen.add(nt.name)
                queue.append((nt.name, [*path, fname + ROOT_ARGS.get(fname, "")]))
    return None


def _select(role: Role, type_name: str, field: str) -> list[str]:
    schema = schema_for(role)
    operation, prefix = "", ""
    if type_name == "Subscription":  # a root of its own
        operation = "subscription "
    else:
        found = _path_to(schema._schema, type_name)
        assert found is not None
        prefix = found
    closing = "}" * prefix.count("{")
    field_type = FULL.get_type(type_name).fields[field].type  # type: ignore[union-attr]
    sub = "" if not isinstance(get_named_type(field_type), GraphQLObjectType) else " { __typename }"
    args = ""
    if FULL.get_type(type_name).fields[field].args:  # type: ignore[union-attr]
        required = [
            a
            for a, d in FULL.get_type(type_name).fields[field].args.items()  # type: ignore[union-attr]
            if isinstance(d.type, GraphQLNonNull) and d.default_value is None
        ]
        if required:
            args = "(" + ", ".join(f'{a}: "x"' for a in required) + ")"
    doc = operation + "{ " + prefix + f" {field}{args}{sub} " + closing + " }"
    result = DocumentCache().prepare(schema, doc, Limits())
    return [e.message for e in result] if isinstance(result, list) else []


@pytest.mark.parametrize(("role", "kind", "type_name", "member"), CASES)
def test_every_member_follows_the_policy_table(
    role: Role, kind: str, type_name: str, member: str
) -> None:
    schema = schema_for(role)._schema
    rule = access(role, type_name, member)
    role_type = schema.type_map.get(type_name)
    if kind == "enum":
        present = isinstance(role_type, GraphQLEnumType) and member in role_type.values
    else:
        present = role_type is not None and member in role_type.fields  # type: ignore[union-attr]
    if rule is Access.HIDE:
        assert not present, f"{type_name}.{member} must be hidden from {role}"
    elif role_type is not None:  # a type no visible field reaches is simply not there
        assert present, f"{type_name}.{member} must exist for {role}"


@pytest.mark.parametrize("role", list(Role))
def test_every_role_reaches_the_delivery_types(role: Role) -> None:
    types = schema_for(role)._schema.type_map
    for name in (
        "Order",
        "OrderLine",
        "OrderEvent",
        "Shipment",
        "ShipmentLine",
        "OrderConnection",
        "PageInfo",
        "Viewer",
        "OrderFilter",
        "OrderSort",
        "Outlook",
    ):
        assert name in types, f"{name} missing for {role}"


HIDDEN_FIELDS = [
    (role, t, f)
    for role in Role
    for kind, t, f in ALL_MEMBERS
    if kind == "field"
    and access(role, t, f) is Access.HIDE
    and t in schema_for(role)._schema.type_map
    and t != "Mutation"
]


@pytest.mark.parametrize(("role", "type_name", "field"), HIDDEN_FIELDS)
def test_selecting_a_hidden_field_fails_like_a_field_that_never_existed(
    role: Role, type_name: str, field: str
) -> None:
    hidden = _select(role, type_name, field)
    assert hidden == [f"Cannot query field '{field}' on type '{type_name}'."]
    assert not any("Did you mean" in m for m in hidden)


def test_hidden_mutations_fail_like_nonexistent_ones_for_clients_and_suppliers() -> None:
    # The buyer, who owns the data, is told whose operation it is (tests/schema/test_hints.py).
    cache = DocumentCache()
    for role in (Role.CLIENT, Role.SUPPLIER):
        schema = schema_for(role)
        for name in FULL.mutation_type.fields:  # type: ignore[union-attr]
            if access(role, "Mutation", name) is not Access.HIDE:
                continue
            errors = cache.prepare(
                schema, f"mutation {{ {name}(input: {{}}) {{ __typename }} }}", Limits()
            )
            bogus = cache.prepare(
                schema, "mutation { zzzNope(input: {}) { __typename } }", Limits()
            )
            assert isinstance(errors, list)
            assert isinstance(bogus, list)
            norm = [re.sub(name, "X", e.message) for e in errors]
            assert norm == [re.sub("zzzNope", "X", e.message) for e in bogus]


def test_every_policy_key_names_a_real_member() -> None:
    members = {f"{t}.{m}" for _, t, m in ALL_MEMBERS}
    types = {t for _, t, _ in ALL_MEMBERS}
    for key in POLICY:
        type_name, _, member = key.partition(".")
        if member == "*":
            assert type_name in types, f"policy row {key} names no type"
        else:
            assert key in members, f"policy row {key} names no schema member"


def test_row_rule_fields_are_nullable_and_wired_to_their_rule() -> None:
    for key in row_rule_keys():
        type_name, _, field = key.partition(".")
        gql_field = FULL.get_type(type_name).fields[field]  # type: ignore[union-attr]
        assert not isinstance(gql_field.type, GraphQLNonNull), f"{key} must be nullable"
        definition = gql_field.extensions["strawberry-definition"]
        assert any(
            isinstance(e, RowPolicyExtension) and e.key == key for e in definition.extensions
        ), key


def test_client_schema_has_no_supplier_or_price_anywhere() -> None:
    from schema.build import sdl_for

    sdl = sdl_for(Role.CLIENT)
    for word in (
        "Supplier",
        "supplier",
        "Decimal",
        "price",
        "Price",
        "total:",
        "Invoice",
        "internalNote",
        "Receipt",
        "TOTAL_DESC",
        "minTotal",
        "currency",
    ):
        assert word not in sdl, word


def test_supplier_schema_has_no_client_identity_or_internal_note() -> None:
    from schema.build import sdl_for

    sdl = sdl_for(Role.SUPPLIER)
    for word in ("Client", "clientId", "clientReference", "internalNote", "clients"):
        assert word not in sdl, word
