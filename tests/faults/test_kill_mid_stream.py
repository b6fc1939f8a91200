"""``kill -9`` of a server in the middle of a stream of mutations (issue 17, faults):
every mutation the client saw succeed is in the log with its event, no order is
half-written, and retrying every mutation with its idempotency key on another process
makes each exactly once — those the client never heard back about included."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from conftest import make_token
from db.engine import Database
from db.models import Order, OrderEvent, OrderLine
from live_support import WAIT, Server

SUPPLIER = 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'
ISSUE = """mutation($s: ID!, $key: String!) { issueOrder(input: {supplierId: $s,
  needBy: "2099-01-01", currency: "EUR", idempotencyKey: $key,
  lines: [{partNumber: "P-1", quantity: 2, unitPrice: "3.00"},
          {partNumber: "P-2", quantity: 1, unitPrice: "9.50"}]}) {
  order { id number events { kind } } userErrors { code message } } }"""
STREAMS = 4


async def _issue(http: httpx.AsyncClient, token: str, supplier: str, key: str) -> str:
    response = await http.post(
        "/graphql",
        json={"query": ISSUE, "variables": {"s": supplier, "key": key}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200, body
    payload = body["data"]["issueOrder"]
    assert payload["userErrors"] == [], payload
    assert [e["kind"] for e in payload["order"]["events"]] == ["ISSUED"]
    return str(payload["order"]["id"])


async def test_a_killed_server_loses_no_seen_mutation_and_retries_make_each_exactly_once(
    database_url: str, db: Database, tmp_path: Path
) -> None:
    buyer = make_token("buyer")
    first = await asyncio.to_thread(Server(database_url, tmp_path / "first.log").start)
    seen: dict[str, str] = {}  # idempotency key -> order id the client was told
    sent: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=first.http, timeout=WAIT) as http:
            created = await http.post(
                "/graphql", json={"query": SUPPLIER}, headers={"Authorization": f"Bearer {buyer}"}
            )
            supplier = created.json()["data"]["createSupplier"]["supplier"]["id"]

            async def stream(n: int) -> None:
                for i in range(10_000):
                    key = f"po-{n}-{i}"
                    sent.append(key)
                    try:
                        seen[key] = await _issue(http, buyer, supplier, key)
                    except httpx.HTTPError:
                        return  # the server is gone: this one's fate is unknown

            # given: mutations streaming in from four clients
            streams = [asyncio.create_task(stream(n)) for n in range(STREAMS)]
            async with asyncio.timeout(60):
                while len(seen) < 40:  # noqa: ASYNC110 (counted by the streams)
                    await asyncio.sleep(0.01)

            # when: kill -9, mid-stream
            await asyncio.to_thread(first.kill)
            await asyncio.wait_for(asyncio.gather(*streams), WAIT)
    finally:
        first.stop()

    # then: every mutation the client saw succeed is there, with its event
    unseen = [key for key in sent if key not in seen]
    assert unseen, "the kill should interrupt some request"
    async with db.read_session() as session:
        orders = dict((await session.execute(select(Order.id, Order.number))).all())
        events = dict(
            (
                await session.execute(
                    select(OrderEvent.order_id, func.count()).group_by(OrderEvent.order_id)
                )
            ).all()
        )
        lines = dict(
            (
                await session.execute(
                    select(OrderLine.order_id, func.count()).group_by(OrderLine.order_id)
                )
            ).all()
        )
    assert set(seen.values()) <= set(orders)
    # and nothing is half-written: every order has both its lines and its one event
    assert all(events.get(order) == 1 and lines.get(order) == 2 for order in orders)

    # when: every mutation is retried with its key, on another process
    second = await asyncio.to_thread(Server(database_url, tmp_path / "second.log").start)
    try:
        async with httpx.AsyncClient(base_url=second.http, timeout=WAIT) as http:
            retried = {key: await _issue(http, buyer, supplier, key) for key in sent}
    finally:
        second.stop()

    # then: the ones seen answer with the same order; every key made exactly one order
    assert all(retried[key] == order for key, order in seen.items())
    async with db.read_session() as session:
        total = await session.scalar(select(func.count()).select_from(Order))
        issued = await session.scalar(
            select(func.count()).select_from(OrderEvent).where(OrderEvent.kind == "ISSUED")
        )
    assert total == issued == len(sent) == len(set(retried.values()))
