"""``X-Request-Id`` from the caller (issue 17, finding 6): kept only when short and plain,
on every transport — HTTP echoes a safe one and replaces any other; the WebSocket and
the tracking page never take the caller's at all (each operation gets its own)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from app.main import create_app
from app.settings import Settings
from conftest import FixedClock, make_token
from db.engine import connect
from live_support import free_port, serving

HOSTILE = [
    'x" onload="alert(1)',
    "a" * 65,
    "line\r\nSet-Cookie: a=b",
    "spaces are not ids",
]
QUERY = {"query": "{ viewer { role } }"}


@pytest.mark.parametrize("given", HOSTILE)
async def test_an_unsafe_request_id_is_replaced_on_http(
    client: httpx.AsyncClient, given: str
) -> None:
    headers = {"Authorization": f"Bearer {make_token('buyer')}", "X-Request-Id": given}
    response = await client.post("/graphql", json=QUERY, headers=headers)
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    assert given.encode() not in response.content


async def test_a_safe_request_id_is_echoed_on_http(client: httpx.AsyncClient) -> None:
    headers = {"Authorization": f"Bearer {make_token('buyer')}", "X-Request-Id": "portal-7.a:b"}
    response = await client.post("/graphql", json=QUERY, headers=headers)
    assert response.headers["x-request-id"] == "portal-7.a:b"


async def test_a_socket_never_takes_the_callers_request_id(
    settings: Settings, clock: FixedClock
) -> None:
    # given: an app whose operations fail (no database), so the answer names a request id
    database = connect(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone")
    app = create_app(settings, db=database, clock=clock)
    given = 'x" onload="alert(1)'
    try:
        async with (
            serving(app) as live,
            ws_connect(
                live.ws,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                additional_headers={"X-Request-Id": given},
            ) as ws,
        ):
            auth = {"Authorization": f"Bearer {make_token('buyer')}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": auth}))
            await ws.recv()
            await ws.send(
                '{"id": "1", "type": "subscribe", "payload": '
                '{"query": "{ orders { totalCount } }"}}'
            )
            answer = str(await ws.recv())
    finally:
        await database.dispose()

    # then
    assert '"SERVICE_UNAVAILABLE"' in answer
    found = re.search(r'"requestId": ?"([^"]*)"', answer)
    assert found is not None
    assert re.fullmatch(r"[0-9a-f]{32}", found.group(1))
    assert "onload" not in answer


async def test_the_tracking_page_never_echoes_the_callers_request_id(
    client: httpx.AsyncClient,
) -> None:
    given = 'x" onload="alert(1)'
    response = await client.get("/track/not-a-token", headers={"X-Request-Id": given})
    assert response.status_code == 404
    assert given not in response.headers.get("x-request-id", "")
    assert b"onload" not in response.content
