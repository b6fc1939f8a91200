"""The tools the redaction tests share: byte search, maximal selection sets built from a
role's schema, cursor decoding, and the sweep of every entry point over the canary world
(``worlds.canary``: the values, the table of who may see each one, the builder).

Not a test module, and not ``conftest.py``: pytest imports that file as the module
``conftest`` (there is no ``__init__.py`` here), so helpers in it could not be imported
next to the root conftest's. ``conftest.py`` only wraps ``worlds.canary.seed_world`` in a
fixture.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)

from conftest import GraphQL
from db.ids import new_id, type_of
from graphql_support import NEED_BY
from permissions.principal import Role
from schema.build import schema_for
from worlds.canary import (
    CLIENT_REFERENCE,
    CROSS_PART,
    MAIN_PART,
    OTHER_PART,
    SUPPLIER_NAME,
    UNIT_PRICE,
    World,
)

# -- byte search ----------------------------------------------------------------------------


def leaked(content: bytes, canaries: Mapping[str, str]) -> dict[str, str]:
    """The canaries found in ``content``, compared case-insensitively, byte by byte."""
    lowered = content.lower()
    return {name: value for name, value in canaries.items() if value.lower().encode() in lowered}


def assert_not_masked(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: HTTP {response.status_code} {response.content!r}"
    assert b"Unexpected error." not in response.content, f"{what}: {response.content[:2000]!r}"


# -- maximal selection sets --------------------------------------------------------------------


class MaximalSelection:
    """Selection sets that select every field of a role's schema, down to ``depth``.

    Each (type, remaining depth) becomes a named fragment, deduplicated by body, so the
    document stays far below the server's token limit. Fields with arguments get
    ``first: 100`` where they take one at the root, ``first: 5`` below (the server's
    query cost bounds nested pages); every abstract type spreads all its members.
    """

    def __init__(self, role: Role, depth: int = 6) -> None:
        self.schema: GraphQLSchema = schema_for(role)._schema
        self.depth = depth
        self._by_body: dict[tuple[str, str], str] = {}
        self._fragments: dict[str, str] = {}

    def of(self, type_name: str, depth: int | None = None) -> str:
        """``{ ...Fragment }`` for ``type_name``; call ``document`` for the definitions."""
        gql_type = self.schema.get_type(type_name)
        assert gql_type is not None, f"{type_name} is not in the schema"
        name = self._fragment(gql_type, self.depth if depth is None else depth)  # type: ignore[arg-type]
        assert name is not None
        return f"{{ ...{name} }}"

    def of_member(self, abstract: str, member: str, depth: int | None = None) -> str:
        """``{ ...Abstract ... on Member { ...Fragment } }``: one member's full selection."""
        inner = self.of(member, depth)
        return f"{self.of(abstract, depth)[:-1]} ... on {member} {inner} }}"

    def document(self, operation: str) -> str:
        """``operation`` followed by every fragment it (transitively) uses."""
        used: list[str] = []
        pending = re.findall(r"\.\.\.(\w+)", operation)
        while pending:
            name = pending.pop()
            if name in used:
                continue
            used.append(name)
            pending += re.findall(r"\.\.\.(\w+)", self._fragments[name])
        return operation + "\n" + "\n".join(self._fragments[n] for n in sorted(used))

    def _fragment(
        self, gql_type: GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType, depth: int
    ) -> str | None:
        if depth <= 0:
            return None
        parts = ["__typename"]
        if isinstance(gql_type, GraphQLInterfaceType | GraphQLUnionType):
            # Members' fields may clash (Order.dispatchedAt is nullable, Shipment's is
            # not), so an abstract type selects its own fields only; ``of_member``
            # spreads one member into it.
            fields = gql_type.fields if isinstance(gql_type, GraphQLInterfaceType) else {}
            parts += [name for name, f in fields.items() if is_leaf_type(get_named_type(f.type))]
        else:
            for field_name, gql_field in gql_type.fields.items():
                if any(is_required_argument(a) for a in gql_field.args.values()):
                    continue
                named = get_named_type(gql_field.type)
                # Full pages at the root, small ones below, within the server's query cost.
                # A bounded list (Order.events) whole on a root object, one item deeper:
                # each object is some query's root, so every item is seen somewhere.
                page = 100 if depth == self.depth else 5
                if not named.name.endswith("Connection") and depth != self.depth:
                    page = 1
                args = f"(first: {page})" if "first" in gql_field.args else ""
                if is_leaf_type(named):
                    parts.append(field_name + args)
                    continue
                inner = self._fragment(named, depth - 1)  # type: ignore[arg-type]
                if inner is not None:
                    parts.append(f"{field_name}{args} {{ ...{inner} }}")
        body = " ".join(parts)
        key = (gql_type.name, body)
        if key not in self._by_body:
            name = f"{gql_type.name}D{depth}"
            self._by_body[key] = name
            self._fragments[name] = f"fragment {name} on {gql_type.name} {{ {body} }}"
        return self._by_body[key]


# -- cursors -------------------------------------------------------------------------------------


def decode_cursor(cursor: str) -> str:
    padded = cursor + "=" * (-len(cursor) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")


def cursors_in(value: Any) -> Iterable[str]:
    """Every ``cursor`` / ``startCursor`` / ``endCursor`` string in a JSON value."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("cursor", "startCursor", "endCursor") and isinstance(item, str):
                yield item
            else:
                yield from cursors_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from cursors_in(item)


def strings_in(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, str):
        yield value


# -- every entry point of a role's schema, maximally selected ---------------------------


@dataclass(frozen=True)
class EntryPoints:
    """The Query entry points of one role, each selecting everything the role can see."""

    role: Role
    viewer: str
    lookups: dict[str, str]  # by Node type: node(id:) as that type and order(id:), one $id
    order_by_number: str
    orders: str
    parties: str  # clients / suppliers, whichever the role has
    sorts: tuple[str, ...]
    filter_fields: frozenset[str]


def entry_points(role: Role, depth: int = 6, list_depth: int = 4) -> EntryPoints:
    """``orders`` is swept many times (every sort, page and filter), so it goes
    ``list_depth`` levels deep: every relation of each order, not the nested parties'
    own order lists, which ``lookups`` and ``parties`` walk at full ``depth``."""
    m = MaximalSelection(role, depth)
    schema = m.schema
    query = schema.query_type
    assert query is not None
    parties = [name for name in ("clients", "suppliers") if name in query.fields]
    party_fields = " ".join(
        f"{name}(first: $first, after: $after) "
        + m.of("ClientConnection" if name == "clients" else "SupplierConnection")
        for name in parties
    )
    sort_type = schema.get_type("OrderSort")
    filter_type = schema.get_type("OrderFilter")
    return EntryPoints(
        role=role,
        viewer=m.document(f"query Viewer {{ viewer {m.of('Viewer')} }}"),
        lookups={
            member.name: m.document(
                f"query Lookup($id: ID!) {{ node(id: $id) {m.of_member('Node', member.name)} "
                f"order(id: $id) {m.of('Order')} }}"
            )
            for member in schema.get_possible_types(schema.get_type("Node"))  # type: ignore[arg-type]
        },
        order_by_number=m.document(
            "query OrderByNumber($number: String!) "
            f"{{ orderByNumber(number: $number) {m.of('Order')} }}"
        ),
        orders=m.document(
            "query Orders($first: Int, $after: String, $filter: OrderFilter, "
            "$orderBy: OrderSort!) { orders(first: $first, after: $after, filter: $filter, "
            f"orderBy: $orderBy) {m.of('OrderConnection', list_depth)} }}"
        ),
        parties=m.document(f"query Parties($first: Int, $after: String) {{ {party_fields} }}"),
        sorts=tuple(sort_type.values),  # type: ignore[union-attr]
        filter_fields=frozenset(filter_type.fields),  # type: ignore[union-attr]
    )


# -- the sweep ---------------------------------------------------------------------------

STAGES = [
    "ISSUED",
    "ACKNOWLEDGED",
    "IN_PRODUCTION",
    "DISPATCHED",
    "DELIVERED",
    "DECLINED",
    "CANCELLED",
]
SEARCHES = [
    "PART",
    "CANARY",
    "TWIN",
    "PO-2",
    MAIN_PART,
    CROSS_PART,
    OTHER_PART,
    CLIENT_REFERENCE,
    SUPPLIER_NAME,
    "13377",
]


def _filters(world: World, fields: frozenset[str]) -> Iterator[dict[str, Any]]:
    """Every filter the role's OrderFilter allows, one condition at a time."""
    cases: dict[str, list[Any]] = {
        "stages": [[s] for s in STAGES] + [STAGES, []],
        "clientId": [world.client_a, world.client_b, world.supplier_a],
        "supplierId": [world.supplier_a, world.supplier_b, world.client_a],
        "needByBefore": ["2026-04-02", NEED_BY],
        "needByAfter": ["2026-03-31", NEED_BY],
        "search": SEARCHES,
        "minTotal": ["0", UNIT_PRICE, "99999999"],
        "hasAlert": [True, False],
    }
    for name, values in cases.items():
        if name in fields:
            for value in values:
                yield {name: value}
    assert fields <= set(cases), f"an OrderFilter field no test covers: {fields - set(cases)}"


async def _walk_pages(gql: GraphQL, doc: str, **variables: Any) -> list[httpx.Response]:
    """Every page of ``orders`` one order at a time, following endCursor."""
    responses, after = [], None
    for _ in range(50):
        response = await gql.raw(doc, {**variables, "first": 1, "after": after})
        responses.append(response)
        page = response.json()["data"]["orders"]["pageInfo"]
        if not page["hasNextPage"]:
            return responses
        after = page["endCursor"]
    raise AssertionError("paging did not end")


async def sweep_entry_points(
    world: World, gql: GraphQL, docs: EntryPoints
) -> list[tuple[str, httpx.Response]]:
    """Every Query entry point of ``docs``, maximally selected: each id of the world (and
    unknown ones) by node/order, PO numbers, every sort (also paged one by one), every
    filter, and the party lists (also after each cursor). (label, response) pairs."""
    responses: list[tuple[str, httpx.Response]] = [("viewer", await gql.raw(docs.viewer))]
    ids = world.all_ids() | {"unknown order": new_id("ord"), "garbage": "x"}
    for name, id_ in ids.items():
        lookup = docs.lookups.get(type_of(id_) or "", docs.lookups["Order"])
        responses.append((f"node/order {name}", await gql.raw(lookup, {"id": id_})))
    for number in [*sorted(o.number for o in world.orders.values()), "PO-000001"]:
        responses.append(
            (f"orderByNumber {number}", await gql.raw(docs.order_by_number, {"number": number}))
        )
    for sort in docs.sorts:
        variables = {"orderBy": sort, "first": 100}
        responses.append((f"orders {sort}", await gql.raw(docs.orders, variables)))
        for page in await _walk_pages(gql, docs.orders, orderBy=sort):
            responses.append((f"orders {sort} page", page))
    for flt in _filters(world, docs.filter_fields):
        variables = {"orderBy": docs.sorts[0], "first": 100, "filter": flt}
        responses.append((f"orders {flt}", await gql.raw(docs.orders, variables)))
    parties = await gql.raw(docs.parties, {"first": 100})
    responses.append(("parties", parties))
    for connection in parties.json()["data"].values():
        for edge in connection["edges"]:
            after = {"first": 100, "after": edge["cursor"]}
            responses.append(("parties after", await gql.raw(docs.parties, after)))
    return responses
