"""Errors are a channel too. A client that names something hidden from it (a field, an
input field, an enum value, a type, a mutation; inline, in a fragment or through a
variable) gets exactly the error it gets for a name that never existed, with no
"Did you mean" suggestion; misspellings near hidden names likewise. Introspection shows
the client nothing hidden, and no error response carries a canary.

The hidden names are not listed by hand: they are every member of the full schema that
the client's schema lacks, so a member added to the code is covered on its own.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    get_named_type,
    is_required_argument,
)

from conftest import GraphQL
from db.ids import new_id
from graphql_support import full_schema
from permissions.policy import is_hidden
from permissions.principal import Role
from redaction_support import leaked
from schema.build import schema_for
from worlds.canary import CLIENT_A, World

CLIENT_SCHEMA = schema_for(Role.CLIENT)._schema
FULL_SCHEMA = full_schema()
NONEXISTENT = "zqxjvwk"  # a name in no schema, no role

# Where each input type and enum the client can send is accepted, ``NAME`` standing for
# the member under test.
INPUT_FIELD_SITES = {"OrderFilter": "{ orders(filter: {NAME: null}) { totalCount } }"}
ENUM_VALUE_SITES = {
    "OrderSort": "{ orders(orderBy: NAME) { totalCount } }",
    "OrderStage": "{ orders(filter: {stages: [NAME]}) { totalCount } }",
    "WebhookEvent": 'mutation { createWebhookEndpoint(input: {url: "https://h.example/x",'
    " events: [NAME]}) { secret } }",
}
ENUM_VARIABLE_SITES = {
    "OrderSort": (
        "query Sorted($v: OrderSort!) { orders(orderBy: $v) { totalCount } }",
        lambda name: {"v": name},
    ),
}
INPUT_VARIABLE_SITES = {
    "OrderFilter": (
        "query Filtered($v: OrderFilter) { orders(filter: $v) { totalCount } }",
        lambda name: {"v": {name: None}},
    ),
}
TYPE_SITES = [
    '{ node(id: "x") { ... on NAME { __typename } } }',
    '{ node(id: "x") { ...Hidden } } fragment Hidden on NAME { __typename }',
    "query Typed($v: NAME) { viewer { role } }",
]


# -- the hidden members, from the schemas --------------------------------------------------


def _client_types() -> Iterator[tuple[str, Any, Any]]:
    for name, full_type in FULL_SCHEMA.type_map.items():
        if not name.startswith("__") and name in CLIENT_SCHEMA.type_map:
            yield name, full_type, CLIENT_SCHEMA.type_map[name]


HIDDEN_TYPES = sorted(
    name
    for name in FULL_SCHEMA.type_map
    if not name.startswith("__") and name not in CLIENT_SCHEMA.type_map
)
HIDDEN_FIELDS = sorted(
    (name, field)
    for name, full_type, client_type in _client_types()
    if isinstance(full_type, GraphQLObjectType | GraphQLInterfaceType)
    for field in set(full_type.fields) - set(client_type.fields)
)
HIDDEN_INPUT_FIELDS = sorted(
    (name, field)
    for name, full_type, client_type in _client_types()
    if isinstance(full_type, GraphQLInputObjectType)
    for field in set(full_type.fields) - set(client_type.fields)
)
HIDDEN_ENUM_VALUES = sorted(
    (name, value)
    for name, full_type, client_type in _client_types()
    if isinstance(full_type, GraphQLEnumType)
    for value in set(full_type.values) - set(client_type.values)
)
HIDDEN_ARGUMENTS = sorted(
    (name, field, argument)
    for name, full_type, client_type in _client_types()
    if isinstance(full_type, GraphQLObjectType | GraphQLInterfaceType)
    for field in set(full_type.fields) & set(client_type.fields)
    for argument in set(full_type.fields[field].args) - set(client_type.fields[field].args)
)
# The mutations hidden from a client: all but its own webhook endpoints' (every role
# registers endpoints for itself; tests/webhooks/test_endpoint_permissions.py).
CLIENT_MUTATIONS = set(CLIENT_SCHEMA.mutation_type.fields) if CLIENT_SCHEMA.mutation_type else set()
MUTATIONS = (
    sorted(set(FULL_SCHEMA.mutation_type.fields) - CLIENT_MUTATIONS)
    if FULL_SCHEMA.mutation_type
    else []
)


def _path_to(type_name: str) -> tuple[str, str]:
    """A selection from Query down to a field of type ``type_name``: (opening, closing)."""
    query = CLIENT_SCHEMA.query_type
    assert query is not None
    seen = {query.name}
    queue: deque[tuple[Any, str, int]] = deque([(query, "", 0)])
    while queue:
        gql_type, opening, depth = queue.popleft()
        if gql_type.name == type_name:
            return opening, "}" * depth
        for field_name, gql_field in gql_type.fields.items():
            if any(is_required_argument(a) for a in gql_field.args.values()):
                continue
            named = get_named_type(gql_field.type)
            if isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and (
                named.name not in seen
            ):
                seen.add(named.name)
                queue.append((named, f"{opening} {field_name} {{", depth + 1))
    raise AssertionError(f"no path to {type_name}")


def _field_site(type_name: str) -> str:
    if type_name == "Subscription":  # a root of its own: selected at the top
        return "subscription { NAME }"
    if type_name == "Mutation":  # a client's: only its own webhook endpoints
        return "mutation { NAME }"
    opening, closing = _path_to(type_name)
    return f"{{ {opening} NAME {closing} }}"


def _misspelt(name: str) -> str:
    middle = len(name) // 2
    return name[:middle] + name[middle + 1 :]


# -- comparing a hidden name with a nonexistent one ---------------------------------------


def _normalised(response: httpx.Response, name: str) -> str:
    text = response.content.decode()
    text = re.sub(r'"requestId":"[^"]*"', '"requestId":"…"', text)
    return re.sub(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", "NAME", text)


async def _compare(
    gql: GraphQL,
    names: list[str],
    document: Callable[[str], str],
    variables: Callable[[str], dict[str, Any] | None] = lambda _: None,
) -> dict[str, Any]:
    """For each name: the differences from the nonexistent name's response, if any."""
    baseline_response = await gql.raw(document(NONEXISTENT), variables(NONEXISTENT))
    baseline = _normalised(baseline_response, NONEXISTENT)
    assert "errors" in baseline_response.json()
    assert baseline_response.json().get("data") is None
    problems: dict[str, Any] = {}
    for name in names:
        response = await gql.raw(document(name), variables(name))
        text = _normalised(response, name)
        if "did you mean" in text.lower() or text != baseline:
            problems[name] = {"hidden": text, "nonexistent": baseline}
    return problems


def _client(as_role: Callable[..., GraphQL]) -> GraphQL:
    return as_role("client", client_id=new_id("cli"))


async def test_hidden_fields_fail_exactly_like_fields_that_never_existed(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)
    by_type: dict[str, list[str]] = {}
    for type_name, field in HIDDEN_FIELDS:
        by_type.setdefault(type_name, []).append(field)
    assert {"Query", "Order", "OrderLine", "Viewer"} <= set(by_type)

    # when
    problems = {
        type_name: await _compare(
            gql, fields, lambda n, t=type_name: _field_site(t).replace("NAME", n)
        )
        for type_name, fields in by_type.items()
    }

    # then
    assert {t: p for t, p in problems.items() if p} == {}


async def test_misspellings_of_hidden_and_visible_names_get_no_suggestion(
    as_role: Callable[..., GraphQL],
) -> None:
    # given: "suplier" for supplier, "totl" for total, ... and a few visible ones
    gql = _client(as_role)
    by_type: dict[str, list[str]] = {}
    for type_name, field in HIDDEN_FIELDS:
        by_type.setdefault(type_name, []).append(_misspelt(field))
    by_type["Order"] += ["suplier", "totl", "unitPrise", "internalNot", "numbr", "clientt"]
    by_type["Query"] += ["ordr", "suppliers_", "clientz"]

    # when
    problems = {
        type_name: await _compare(
            gql, names, lambda n, t=type_name: _field_site(t).replace("NAME", n)
        )
        for type_name, names in by_type.items()
    }
    types = await _compare(
        gql,
        [_misspelt(t) for t in HIDDEN_TYPES] + ["Shipmen", "Suppliers"],
        lambda n: TYPE_SITES[0].replace("NAME", n),
    )
    sorts = await _compare(
        gql,
        ["TOTAL_DSC", "TOTAL_ASC", "ISSUED_AT_DES"],
        lambda n: ENUM_VALUE_SITES["OrderSort"].replace("NAME", n),
    )
    filters = await _compare(
        gql,
        ["suplierId", "minTotl", "stage"],
        lambda n: INPUT_FIELD_SITES["OrderFilter"].replace("NAME", n),
    )

    # then
    assert {t: p for t, p in problems.items() if p} == {}
    assert types == {}
    assert sorts == {}
    assert filters == {}


async def test_hidden_filter_fields_fail_exactly_like_nonexistent_ones(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)
    sites = {t for t, _ in HIDDEN_INPUT_FIELDS}
    assert sites <= set(INPUT_FIELD_SITES), f"input types with no site: {sites}"
    assert ("OrderFilter", "supplierId") in HIDDEN_INPUT_FIELDS
    assert ("OrderFilter", "minTotal") in HIDDEN_INPUT_FIELDS

    # when
    problems = {
        type_name: await _compare(
            gql,
            [f for t, f in HIDDEN_INPUT_FIELDS if t == type_name],
            lambda n, t=type_name: INPUT_FIELD_SITES[t].replace("NAME", n),
        )
        for type_name in sites
    }

    # then
    assert {t: p for t, p in problems.items() if p} == {}


async def test_hidden_enum_values_fail_exactly_like_nonexistent_ones(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)
    sites = {t for t, _ in HIDDEN_ENUM_VALUES}
    assert sites <= set(ENUM_VALUE_SITES), f"enums with no site: {sites}"
    assert ("OrderSort", "TOTAL_DESC") in HIDDEN_ENUM_VALUES

    # when
    problems = {
        enum: await _compare(
            gql,
            [v for t, v in HIDDEN_ENUM_VALUES if t == enum],
            lambda n, t=enum: ENUM_VALUE_SITES[t].replace("NAME", n),
        )
        for enum in sites
    }

    # then
    assert {t: p for t, p in problems.items() if p} == {}


async def test_hidden_arguments_fail_exactly_like_nonexistent_ones(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)

    # when
    problems = {
        (type_name, field, argument): await _compare(
            gql,
            [argument],
            lambda n, t=type_name, f=field: _field_site(t).replace("NAME", f"{f}({n}: null)"),
        )
        for type_name, field, argument in HIDDEN_ARGUMENTS
    }

    # then
    assert {k: p for k, p in problems.items() if p} == {}


async def test_hidden_types_fail_exactly_like_nonexistent_ones_in_fragments_and_variables(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)
    assert {"Supplier", "Invoice", "Receipt", "Decimal"} <= set(HIDDEN_TYPES)

    # when
    problems = {
        site: await _compare(gql, HIDDEN_TYPES, lambda n, s=site: s.replace("NAME", n))
        for site in TYPE_SITES
    }

    # then
    assert {s: p for s, p in problems.items() if p} == {}


async def test_hidden_values_in_variables_fail_exactly_like_nonexistent_ones(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)

    # when
    problems: dict[str, Any] = {}
    for enum, (document, variables) in ENUM_VARIABLE_SITES.items():
        values = [v for t, v in HIDDEN_ENUM_VALUES if t == enum]
        problems[enum] = await _compare(gql, values, lambda _, d=document: d, variables)
    for input_type, (document, variables) in INPUT_VARIABLE_SITES.items():
        fields = [f for t, f in HIDDEN_INPUT_FIELDS if t == input_type]
        problems[input_type] = await _compare(gql, fields, lambda _, d=document: d, variables)

    # then
    assert {k: p for k, p in problems.items() if p} == {}


async def test_every_mutation_fails_for_a_client_exactly_like_a_nonexistent_one(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)
    assert {"issueOrder", "acknowledgeOrder", "submitInvoice"} <= set(MUTATIONS)

    # when
    problems = await _compare(gql, MUTATIONS, lambda n: f"mutation {{ {n}(input: {{}}) {{ x }} }}")

    # then
    assert problems == {}


# -- variable errors are reported, not masked ----------------------------------------------

SORTED_BY_VARIABLE = "query Sorted($v: OrderSort!) { orders(orderBy: $v) { totalCount } }"


async def test_an_invalid_variable_value_is_reported_not_masked(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)

    # when
    body = await gql(SORTED_BY_VARIABLE, {"v": NONEXISTENT})

    # then: graphql-core's own coercion message, which names only what the caller sent
    assert body == {
        "errors": [
            {
                "message": f"Variable '$v' has invalid value: Value '{NONEXISTENT}' does not "
                "exist in 'OrderSort' enum.",
                "locations": [{"line": 1, "column": 14}],
            }
        ]
    }


BUYER_SHAPED = "{ orders { edges { node { id total supplier { name } } } } }"


async def test_a_document_the_buyer_sent_first_is_validated_again_for_the_client(
    as_role: Callable[..., GraphQL],
) -> None:
    # given: the buyer's valid document is in the parse/validation cache
    buyer = as_role("buyer")
    assert "errors" not in await buyer(BUYER_SHAPED)

    # when
    body = await _client(as_role)(BUYER_SHAPED)

    # then
    assert body.get("data") is None
    assert [e["message"] for e in body["errors"]] == [
        "Cannot query field 'total' on type 'Order'.",
        "Cannot query field 'supplier' on type 'Order'.",
    ]


# -- introspection ----------------------------------------------------------------------

INTROSPECTION = """
query Introspection {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types {
      name
      fields(includeDeprecated: true) { name args { name } }
      inputFields { name }
      enumValues(includeDeprecated: true) { name }
      interfaces { name }
      possibleTypes { name }
    }
  }
}
"""

TYPE_LOOKUP = "query TypeLookup($name: String!) { __type(name: $name) { name } }"

ORDER_TYPE = """
query OrderType {
  order: __type(name: "Order") { fields(includeDeprecated: true) { name } }
  filter: __type(name: "OrderFilter") { inputFields { name } }
  sort: __type(name: "OrderSort") { enumValues(includeDeprecated: true) { name } }
}
"""


async def test_introspection_shows_a_client_no_hidden_type_field_or_value(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)

    # when
    body = await gql(INTROSPECTION)

    # then
    schema = body["data"]["__schema"]
    assert schema["mutationType"] == {"name": "Mutation"}  # its own webhook endpoints only
    assert {
        "createWebhookEndpoint",
        "deleteWebhookEndpoint",
        "rotateWebhookSecret",
        "redeliverWebhook",
    } == CLIENT_MUTATIONS
    assert schema["subscriptionType"] == {"name": "Subscription"}  # orderEvents, redacted
    names = {t["name"] for t in schema["types"]}
    assert names.isdisjoint(HIDDEN_TYPES)
    members = {
        (t["name"], m["name"])
        for t in schema["types"]
        if not t["name"].startswith("__")
        for kind in ("fields", "inputFields", "enumValues")
        for m in t[kind] or []
    }
    assert members
    assert {m for m in members if is_hidden(Role.CLIENT, *m)} == set()
    assert members.isdisjoint(HIDDEN_FIELDS + HIDDEN_INPUT_FIELDS + HIDDEN_ENUM_VALUES)
    for t in schema["types"]:
        for related in (t["interfaces"] or []) + (t["possibleTypes"] or []):
            assert related["name"] not in HIDDEN_TYPES


async def test_a_client_looking_up_a_hidden_type_gets_null(
    as_role: Callable[..., GraphQL],
) -> None:
    # given
    gql = _client(as_role)

    # when
    found = {name: await gql(TYPE_LOOKUP, {"name": name}) for name in HIDDEN_TYPES}
    order_type = await gql(ORDER_TYPE)

    # then
    assert {n: b for n, b in found.items() if b != {"data": {"__type": None}}} == {}
    data = order_type["data"]
    assert {f["name"] for f in data["order"]["fields"]}.isdisjoint(
        f for t, f in HIDDEN_FIELDS if t == "Order"
    )
    assert {f["name"] for f in data["filter"]["inputFields"]}.isdisjoint({"supplierId", "minTotal"})
    assert "TOTAL_DESC" not in {v["name"] for v in data["sort"]["enumValues"]}


# -- canaries in errors --------------------------------------------------------------------


async def test_no_error_response_to_a_client_carries_a_canary(world: World) -> None:
    # given: every bad document above, and runtime errors around real ids
    gql = world.caller(CLIENT_A)
    hidden = world.hidden_from(CLIENT_A)
    documents: list[tuple[str, dict[str, Any] | None]] = []
    documents += [(_field_site(t).replace("NAME", f), None) for t, f in HIDDEN_FIELDS]
    documents += [(INPUT_FIELD_SITES[t].replace("NAME", f), None) for t, f in HIDDEN_INPUT_FIELDS]
    documents += [(ENUM_VALUE_SITES[t].replace("NAME", v), None) for t, v in HIDDEN_ENUM_VALUES]
    documents += [(s.replace("NAME", t), None) for s in TYPE_SITES for t in HIDDEN_TYPES]
    documents += [(f"mutation {{ {m}(input: {{}}) {{ x }} }}", None) for m in MUTATIONS]
    documents += [(SORTED_BY_VARIABLE, {"v": "TOTAL_DESC"})]
    for name, id_ in world.all_ids().items():
        documents += [
            ("query Bad($id: ID!) { order(id: $id) { id total } }", {"id": id_}),
            ("query Bad($a: String) { orders(after: $a) { totalCount } }", {"a": id_}),
            ('{ orders(first: 101, after: "NAME") { totalCount } }'.replace("NAME", name), None),
        ]
    documents += [
        ("query Long($s: String) { orders(filter: {search: $s}) { totalCount } }",
         {"s": "x" * 101}),
        ("query Bad($id: ID!) { node(id: $id) { id ... on Supplier { name } } }",
         {"id": world.supplier_a}),
        ("{ orders { edges { node { id supplier { name } } } } }", None),
    ]  # fmt: skip

    # when
    responses = [await gql.raw(document, variables) for document, variables in documents]

    # then
    assert all("errors" in r.json() for r in responses)
    leaks = {
        documents[i][0]: found
        for i, r in enumerate(responses)
        if (found := leaked(r.content, hidden))
    }
    assert leaks == {}
