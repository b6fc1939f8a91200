"""A buyer who selects another role's operation is told whose it is; clients and
suppliers learn nothing about names hidden from them. Driven by the policy table."""

from __future__ import annotations

import pytest

from graphql_support import full_schema
from permissions.policy import Access, access
from permissions.principal import Role
from schema.build import schema_for
from schema.execute import DocumentCache, Limits

FULL = full_schema()
MUTATIONS = list(FULL.mutation_type.fields)  # type: ignore[union-attr]
SUPPLIER_ONLY = [
    name
    for name in MUTATIONS
    if access(Role.BUYER, "Mutation", name) is Access.HIDE
    and access(Role.SUPPLIER, "Mutation", name) is not Access.HIDE
]


def messages(role: Role, document: str) -> list[str]:
    errors = DocumentCache().prepare(schema_for(role), document, Limits())
    assert isinstance(errors, list)
    return [e.message for e in errors]


def test_the_policy_table_has_supplier_only_mutations_to_hint_at() -> None:
    assert "acknowledgeOrder" in SUPPLIER_ONLY
    assert "issueOrder" not in SUPPLIER_ONLY


@pytest.mark.parametrize("name", SUPPLIER_ONLY)
def test_a_buyer_selecting_a_supplier_mutation_is_told_it_needs_a_suppliers_token(
    name: str,
) -> None:
    found = messages(Role.BUYER, f"mutation {{ {name}(input: {{}}) {{ __typename }} }}")
    assert found == [
        f"Cannot query field '{name}' on type 'Mutation'. "
        f"{name} is a supplier operation: it needs a supplier's token."
    ]


def test_a_buyer_selecting_a_field_nobody_has_gets_no_hint() -> None:
    assert messages(Role.BUYER, "mutation { zzzNope(input: {}) { __typename } }") == [
        "Cannot query field 'zzzNope' on type 'Mutation'."
    ]
    assert messages(Role.BUYER, "{ zzzNope }") == ["Cannot query field 'zzzNope' on type 'Query'."]


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SUPPLIER])
@pytest.mark.parametrize("name", MUTATIONS)
def test_clients_and_suppliers_get_no_hint_about_any_mutation(role: Role, name: str) -> None:
    document = f"mutation {{ {name}(input: {{}}) {{ __typename }} }}"
    found = (
        " ".join(messages(role, document)) if access(role, "Mutation", name) is Access.HIDE else ""
    )
    bogus = " ".join(messages(role, "mutation { zzzNope(input: {}) { __typename } }"))
    if found:
        assert found.replace(name, "X") == bogus.replace("zzzNope", "X")
    for word in ("needs", "token", "buyer", "supplier", "client"):
        assert word not in found


@pytest.mark.parametrize("role", [Role.CLIENT, Role.SUPPLIER])
def test_clients_and_suppliers_get_no_hint_about_hidden_queries(role: Role) -> None:
    hidden = [name for name in FULL.query_type.fields if access(role, "Query", name) is Access.HIDE]
    assert hidden
    for name in hidden:
        assert messages(role, f"{{ {name} {{ __typename }} }}") == [
            f"Cannot query field '{name}' on type 'Query'."
        ]
