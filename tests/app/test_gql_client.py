"""The Python client people use, pointed at a real server: ``gql`` with only a WebSocket
transport fetches the schema, queries, mutates and subscribes; over HTTP it fetches the
schema and validates documents locally against the caller's own role schema; a refused
socket tells it why. The README's ``## Clients`` section shows these same calls."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport
from graphql import GraphQLError

from app.main import create_app
from app.settings import Settings
from conftest import FixedClock, make_token
from db.engine import Database
from live_support import WAIT, InProcess, serving

VIEWER = "query Viewer { viewer { role org } }"
CREATE_SUPPLIER = """
mutation CreateSupplier($input: CreateSupplierInput!) {
  createSupplier(input: $input) { supplier { id name } userErrors { code message } }
}"""
ISSUE_ORDER = """
mutation IssueOrder($input: IssueOrderInput!) {
  issueOrder(input: $input) { order { id number stage } userErrors { code message } }
}"""
ORDERS = """
query RecentOrders($first: Int) {
  orders(first: $first) { totalCount edges { node { number stage } } }
}"""
ORDER_EVENTS = "subscription OrderEvents { orderEvents { kind stage order { number } } }"
CLIENT_PRICES = "query Prices { orders { edges { node { lines { unitPrice } } } } }"


@pytest.fixture
async def live(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[InProcess]:
    async with serving(create_app(settings, db=db, clock=clock)) as served:
        yield served


def over_websocket(live: InProcess, token: str) -> WebsocketsTransport:
    return WebsocketsTransport(
        url=live.ws,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"Authorization": f"Bearer {token}"},
    )


def over_http(live: InProcess, token: str) -> HTTPXAsyncTransport:
    return HTTPXAsyncTransport(
        url=live.ws.replace("ws://", "http://"), headers={"Authorization": f"Bearer {token}"}
    )


def issue_input(supplier_id: str) -> dict[str, Any]:
    return {
        "supplierId": supplier_id,
        "needBy": "2099-01-01",
        "currency": "EUR",
        "lines": [{"partNumber": "P-1", "quantity": 2, "unitPrice": "10.00"}],
    }


async def test_gql_over_websocket_only_fetches_the_schema_queries_mutates_and_subscribes(
    live: InProcess,
) -> None:
    # given: a gql client whose only transport is the WebSocket
    client = Client(
        transport=over_websocket(live, make_token("buyer")), fetch_schema_from_transport=True
    )
    async with asyncio.timeout(WAIT), client as session:
        # then: the schema came over the socket, descriptions included
        assert client.schema is not None
        order = client.schema.type_map["Order"]
        assert order.description

        # when: a query and two mutations over the same socket
        viewer = await session.execute(GraphQLRequest(VIEWER))
        created = await session.execute(
            GraphQLRequest(CREATE_SUPPLIER, variable_values={"input": {"name": "Acme"}})
        )
        supplier_id = created["createSupplier"]["supplier"]["id"]

        events = session.subscribe(GraphQLRequest(ORDER_EVENTS))
        first_event = asyncio.ensure_future(anext(events))
        await live.listening("org-a", 1)
        issued = await session.execute(
            GraphQLRequest(ISSUE_ORDER, variable_values={"input": issue_input(supplier_id)})
        )
        event = await first_event
        await events.aclose()
        listed = await session.execute(GraphQLRequest(ORDERS, variable_values={"first": 5}))

    assert viewer == {"viewer": {"role": "buyer", "org": "org-a"}}
    assert created["createSupplier"]["userErrors"] == []
    number = issued["issueOrder"]["order"]["number"]
    assert issued["issueOrder"]["order"]["stage"] == "ISSUED"
    expected = {"kind": "ISSUED", "stage": "ISSUED", "order": {"number": number}}
    assert event["orderEvents"] == expected
    assert listed["orders"]["totalCount"] == 1


async def test_gql_over_http_validates_locally_against_the_callers_own_schema(
    live: InProcess,
) -> None:
    client = Client(
        transport=over_http(live, make_token("client", client_id="cli-x")),
        fetch_schema_from_transport=True,
    )
    async with asyncio.timeout(WAIT), client as session:
        listed = await session.execute(GraphQLRequest(ORDERS, variable_values={"first": 5}))
        # a price is not in a client's schema: gql refuses the document before sending it
        with pytest.raises(GraphQLError, match="Cannot query field 'unitPrice'"):
            await session.execute(GraphQLRequest(CLIENT_PRICES))
    assert client.schema is not None
    assert "Supplier" not in client.schema.type_map
    assert listed == {"orders": {"totalCount": 0, "edges": []}}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-token", "Forbidden: invalid token"),
        (None, "Forbidden: invalid token"),
    ],
    ids=["bad token", "no token"],
)
async def test_gql_sees_why_a_socket_was_refused(
    live: InProcess, token: str | None, reason: str
) -> None:
    transport = WebsocketsTransport(
        url=live.ws,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"Authorization": f"Bearer {token}"} if token else {},
    )
    with pytest.raises(Exception) as refused:  # gql's type differs by phase
        async with asyncio.timeout(WAIT), Client(transport=transport) as session:
            await session.execute(GraphQLRequest(VIEWER))
    chain = []
    error: BaseException | None = refused.value
    while error is not None:
        chain.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    assert any(reason in line and "4403" in line for line in chain), chain


README = Path(__file__).parents[2] / "README.md"


def readme_program(index: int, live: InProcess) -> dict[str, Any]:
    """The README ``## Clients`` Python block ``index``, pointed at ``live``, loaded
    without its ``asyncio.run`` line (the test awaits ``main`` itself)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Clients\n") :]
    source = re.findall(r"```python\n(.*?)```", section, re.DOTALL)[index]
    source = source.replace('asyncio.run(main("<JWT>"))', "")
    source = source.replace("http://127.0.0.1:8000", live.ws.replace("ws://", "http://")[:-8])
    source = source.replace("ws://127.0.0.1:8000", live.ws[:-8])
    namespace: dict[str, Any] = {}
    exec(compile(source, "README.md", "exec"), namespace)
    return namespace


async def test_the_readmes_http_snippet_runs(
    live: InProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("buyer")
    created = await live.post(token, CREATE_SUPPLIER, input={"name": "Acme"})
    issue = {"input": issue_input(created["createSupplier"]["supplier"]["id"])}
    await live.post(token, ISSUE_ORDER, **issue)
    async with asyncio.timeout(WAIT):
        await readme_program(0, live)["main"](token)
    assert capsys.readouterr().out == "1\n"


async def test_the_readmes_websocket_snippet_runs_and_receives_events(
    live: InProcess, capsys: pytest.CaptureFixture[str]
) -> None:
    token = make_token("buyer")
    created = await live.post(token, CREATE_SUPPLIER, input={"name": "Acme"})
    program = asyncio.ensure_future(readme_program(1, live)["main"](token))
    out = ""
    try:
        await live.listening("org-a", 1)
        issue = {"input": issue_input(created["createSupplier"]["supplier"]["id"])}
        issued = await live.post(token, ISSUE_ORDER, **issue)
        number = issued["issueOrder"]["order"]["number"]
        async with asyncio.timeout(WAIT):
            while number not in out:
                out += capsys.readouterr().out
                await asyncio.sleep(0.05)
    finally:
        program.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await program
    assert "'role': 'buyer'" in out
    assert f"'number': '{number}'" in out
