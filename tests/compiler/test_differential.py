"""The compiled path answers byte for byte what the ordinary path answers.

Two apps over one database and one clock: one with ``COMPILED_QUERIES`` on (the
default), one with it off (graphql-core + Strawberry + DataLoaders: the oracle). Every
caller of the canary world (buyer, both suppliers, both clients, another org's
supplier), over a bulk-seeded org as well, sends every document of
``bench/documents.py``, hand-written variants (fragments, aliases, typenames, sorts,
cursors, empty pages) and a corpus hypothesis-graphql generates from the role's
committed SDL. The response bodies must be identical bytes, no compiled response may
carry a canary its caller must not see, and the documents the compiler covers must
really have been compiled (the ``X-Execution-Path`` header).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis_graphql
import pytest
from graphql import GraphQLObjectType, build_schema, print_schema
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from redaction.redaction_support import leaked

from app.main import create_app
from app.settings import Settings
from bench.documents import DASHBOARD, DASHBOARD_PAGE, PORTAL, PORTAL_PAGE
from conftest import FixedClock, GraphQL, make_token
from db.engine import Database
from db.seed import seed
from graphql_support import generated_documents
from schema.compiler.covered import (
    ALERT_ATTRIBUTES,
    CLIENT_COLUMNS,
    EVENT_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    RELATIONS,
    SHIPMENT_COLUMNS,
    SUPPLIER_COLUMNS,
)
from worlds.canary import BUYER_A, CLIENT_A, CLIENT_B, SUPPLIER_A, SUPPLIER_B, World, seed_world

SDL_DIR = Path(__file__).resolve().parents[2] / "schema" / "sdl"
GENERATED = 60

ROLE_OF = {
    BUYER_A: "buyer",
    SUPPLIER_A: "supplier",
    SUPPLIER_B: "supplier",
    CLIENT_A: "client",
    CLIENT_B: "client",
    "org B supplier": "supplier",
}

CANARY_VIEWERS = frozenset({BUYER_A, SUPPLIER_A, SUPPLIER_B, CLIENT_A, CLIENT_B})
FRAGMENTS = """
query Frag($first: Int) {
  page: orders(first: $first) { ...Conn __typename }
}
fragment Conn on OrderConnection {
  totalCount
  pageInfo { endCursor hasNextPage hasPreviousPage startCursor __typename }
  edges { __typename node { ...Row ... on Order { stage } } cursor }
}
fragment Row on Order {
  __typename id number s: stage outlook issuedAt dispatchedAt deliveredAt needBy
  lines { __typename lineNo partNumber quantity receivedQuantity cancelledQuantity }
  shipments { __typename id method carrier trackingReference trackingUrl status
              estimatedArrival dispatchedAt }
  events { __typename id at stage kind actorRole actorSubject note promisedDate }
}
"""
BUYER_WIDE = """
query Wide($first: Int!, $sort: OrderSort) {
  orders(first: $first, orderBy: $sort) {
    totalCount
    edges { cursor node {
      id number stage clientReference currency total terms leadTimeDays needBy promisedDate
      issuedAt acknowledgedAt productionStartedAt dispatchedAt deliveredAt stageEnteredAt
      internalNote version revision awaiting outlook
      supplier { __typename id name contactEmail } client { id name __typename }
      lines { lineNo unitPrice lineTotal rejectedQuantity dispatchedQuantity }
      alerts { __typename id raisedAt kind stage since ageHours thresholdHours message }
      events { at note actorSubject }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
SUPPLIER_WIDE = """
query Wide($first: Int!, $sort: OrderSort) {
  orders(first: $first, orderBy: $sort) {
    edges { cursor node {
      id number stage total terms leadTimeDays currency version outlook
      supplier { id name contactEmail }
      lines { lineNo unitPrice lineTotal }
      shipments { carrier trackingReference trackingUrl method }
      events { kind note actorSubject }
      alerts { kind message ageHours }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
CLIENT_WIDE = """
query Wide($first: Int!, $sort: OrderSort) {
  orders(first: $first, orderBy: $sort) {
    edges { cursor node {
      id clientReference client { id name } outlook
      shipments { carrier trackingReference trackingUrl method }
      events { kind note actorSubject actorRole }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
DEFAULTS = "{ orders { edges { node { id } } } }"
ZERO = "{ orders(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage endCursor } } }"
NULL_FIRST = "{ orders(first: null) { edges { cursor node { number } } } }"
# Outside the compiler: they must fall back, and still match.
FALLBACKS = [
    "{ orders(first: 5, filter: {stages: [ISSUED]}) { edges { node { id } } } }",
    "query($skip: Boolean!) { orders(first: 3) { edges { node { id @skip(if: $skip) } } } }",
    "{ orders(first: 3) { edges { node { id events { order { id } } } } } }",
    "{ viewer { role } orders(first: 2) { edges { node { id } } } }",
    '{ orders(first: 2, after: "not-a-cursor") { edges { node { id } } } }',
    "{ orders(first: 500) { edges { node { id } } } }",
]
SORTS = ["ISSUED_AT_DESC", "ISSUED_AT_ASC", "NEED_BY_ASC", "STAGE_ENTERED_AT_ASC", "TOTAL_DESC"]


@pytest.fixture
async def ordinary(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[Any]:
    """The same app with the compiler off: the oracle."""
    app = create_app(settings.model_copy(update={"compiled_queries": False}), db=db, clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://handoff.test") as c:
        yield c


@pytest.fixture
async def world(client: httpx.AsyncClient, db: Database, clock: FixedClock) -> World:
    found = await seed_world(client)
    await seed(db=db, org="org-a", orders=40, suppliers=3, clients=2, seed=11, now=clock.now)
    clock.advance(days=3)  # unacknowledged orders now have alerts
    return found


class Pair:
    """Posts one document as one caller to both apps and compares the bodies."""

    def __init__(self, world: World, ordinary: httpx.AsyncClient, viewer: str) -> None:
        self.compiled = world.caller(viewer)
        self.ordinary = GraphQL(ordinary, self.compiled.token)
        self.world = world
        self.viewer = viewer
        self.paths: dict[str, int] = {}

    async def same(self, document: str, variables: dict[str, Any] | None = None) -> Any:
        fast = await self.compiled.raw(document, variables)
        slow = await self.ordinary.raw(document, variables)
        assert fast.status_code == slow.status_code, document
        assert fast.content == slow.content, (self.viewer, document, variables)
        assert slow.headers.get("x-execution-path") in (None, "ordinary")
        path = fast.headers.get("x-execution-path", "refused")
        self.paths[path] = self.paths.get(path, 0) + 1
        if self.viewer in CANARY_VIEWERS:  # the world's canaries are modelled for these
            assert leaked(fast.content, self.world.hidden_from(self.viewer)) == {}, document
        return fast


def _wide(role: str) -> str:
    return {"buyer": BUYER_WIDE, "supplier": SUPPLIER_WIDE, "client": CLIENT_WIDE}[role]


@pytest.mark.parametrize("viewer", list(ROLE_OF))
async def test_every_bench_document_and_variant_is_answered_alike_on_both_paths(
    viewer: str, world: World, ordinary: httpx.AsyncClient
) -> None:
    # given
    role = ROLE_OF[viewer]
    pair = Pair(world, ordinary, viewer)
    compiled_expected = 0

    # when / then: the bench documents, where the role's schema has their fields
    for document, first in ((DASHBOARD, DASHBOARD_PAGE), (PORTAL, PORTAL_PAGE)):
        response = await pair.same(document, {"first": first})
        if "errors" not in response.json():
            assert response.headers["x-execution-path"] == "compiled", document
            compiled_expected += 1
    # every sort, walked page by page through the cursors
    for sort in SORTS:
        variables: dict[str, Any] = {"first": 7, "sort": sort}
        for _ in range(3):
            response = await pair.same(_wide(role), variables)
            body = response.json()
            if "errors" in body:
                break
            assert response.headers["x-execution-path"] == "compiled"
            compiled_expected += 1
            info = body["data"]["orders"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            variables = {**variables, "after": info["endCursor"]}
            document_after = (
                _wide(role)
                .replace(
                    "orders(first: $first, orderBy: $sort)",
                    "orders(first: $first, orderBy: $sort, after: $after)",
                )
                .replace("$sort: OrderSort)", "$sort: OrderSort, $after: String)")
            )
            response = await pair.same(document_after, variables)
            assert response.headers["x-execution-path"] == "compiled"
    for document, variables in (
        (FRAGMENTS, {"first": 9}),
        (FRAGMENTS, {}),
        (DEFAULTS, None),
        (ZERO, None),
        (NULL_FIRST, None),
    ):
        response = await pair.same(document, variables)
        if "errors" not in response.json():
            assert response.headers["x-execution-path"] == "compiled", document
    for document in FALLBACKS:
        response = await pair.same(document, {"skip": False})
        assert response.headers.get("x-execution-path") != "compiled", document

    # not vacuous
    assert pair.paths.get("compiled", 0) >= compiled_expected > 0


def _covered_sdl(sdl: str) -> str:
    """The role's SDL cut to what the compiler covers (no ``filter``, only the fields
    ``schema.compiler.plan`` knows), so that generated documents mostly compile."""
    schema = build_schema(sdl)
    keep = {
        "Order": {*ORDER_COLUMNS, "outlook", "alerts", *RELATIONS},
        "OrderLine": set(LINE_COLUMNS),
        "Shipment": set(SHIPMENT_COLUMNS),
        "OrderEvent": set(EVENT_COLUMNS),
        "Supplier": set(SUPPLIER_COLUMNS),
        "Client": set(CLIENT_COLUMNS),
        "Alert": set(ALERT_ATTRIBUTES),
    }
    for type_name, names in keep.items():
        gql_type = schema.type_map.get(type_name)
        if isinstance(gql_type, GraphQLObjectType):
            for name in [f for f in gql_type.fields if f not in names]:
                del gql_type.fields[name]
    assert schema.query_type is not None
    # no filter; random text is never a cursor; backward pages run on the ordinary path
    for argument in ("filter", "after", "last", "before"):
        del schema.query_type.fields["orders"].args[argument]
    return print_schema(schema)


def _generate(role: str, *, covered: bool) -> list[str]:
    sdl = (SDL_DIR / f"{role}.graphql").read_text()
    sdl = re.sub(r"\bID\b", "String", sdl)
    if covered:
        sdl = _covered_sdl(sdl)
    strategy = hypothesis_graphql.queries(
        sdl,
        fields=["orders"],
        custom_scalars={
            "Date": st.just(nodes.String("2026-04-01")),
            "DateTime": st.just(nodes.String("2026-04-01T00:00:00+00:00")),
            "Decimal": st.just(nodes.String("10.00")),
        },
        allow_x00=False,
    )
    documents = generated_documents(strategy, GENERATED)
    if covered:  # fold page sizes into range, so that most pages are real ones
        documents = [
            re.sub(r"first: (-?\d+)", lambda m: f"first: {abs(int(m[1])) % 30}", d)
            for d in documents
        ]
    return documents


@pytest.mark.parametrize("viewer", [BUYER_A, SUPPLIER_A, CLIENT_A])
async def test_generated_order_queries_are_answered_alike_on_both_paths(
    viewer: str, world: World, ordinary: httpx.AsyncClient
) -> None:
    # given
    pair = Pair(world, ordinary, viewer)
    documents = _generate(ROLE_OF[viewer], covered=True)
    documents += _generate(ROLE_OF[viewer], covered=False)

    # when / then
    for document in documents:
        await pair.same(document)
    assert pair.paths.get("compiled", 0) >= GENERATED // 2, pair.paths


async def test_a_caller_of_another_org_gets_its_own_page_compiled(
    world: World, ordinary: httpx.AsyncClient, as_role: Any
) -> None:
    # given: a buyer of an org with no orders, and the org B supplier
    pair = Pair(world, ordinary, "org B supplier")
    stranger = GraphQL(pair.compiled.http, make_token("buyer", org="org-nobody"))

    # when
    theirs = await pair.same(PORTAL.replace("clientReference ", ""), {"first": 20})
    empty = await stranger.raw(DASHBOARD, {"first": 50})

    # then
    assert theirs.headers["x-execution-path"] == "compiled"
    assert empty.json() == {
        "data": {"orders": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
    }
    assert empty.headers["x-execution-path"] == "compiled"


@pytest.mark.parametrize("viewer", list(ROLE_OF))
async def test_a_bounded_event_list_is_compiled_with_its_page(
    viewer: str, world: World, ordinary: httpx.AsyncClient
) -> None:
    # given: Order.events pages (default 20, or a literal first); a variable or after
    # runs on the ordinary path
    pair = Pair(world, ordinary, viewer)
    compiled = (
        "query E { orders(first: 30) { edges { node { id events(first: 2) { kind at } } } } }"
    )
    default = "query D { orders(first: 30) { edges { node { id events { kind at } } } } }"
    ordinary_only = (
        "query V($n: Int) { orders(first: 30) { edges { node { id events(first: $n) { kind } }"
        " } } }"
    )
    # when / then: the same bytes either way, on the path each should take
    for document, path in ((compiled, "compiled"), (default, "compiled")):
        response = await pair.same(document)
        assert response.headers["x-execution-path"] == path, document
        pages = [len(e["node"]["events"]) for e in response.json()["data"]["orders"]["edges"]]
        assert max(pages) <= (2 if document is compiled else 20)
        if document is compiled:
            assert 2 in pages  # the page bites: some order has more events than that
    response = await pair.same(ordinary_only, {"n": 1})
    assert response.headers["x-execution-path"] == "ordinary"
