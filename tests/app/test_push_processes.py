"""Push across real processes on one database: a subscriber on any server hears what
another committed; time alone raises an alert once, whichever process leads; a
killed leader's successor does not raise it again.

On PostgreSQL the servers hear each other through LISTEN/NOTIFY; on SQLite through
the feed's poll (several processes on one SQLite file are supported for this, not
recommended for load)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from conftest import make_token
from db.engine import Database
from db.models import RaisedAlert
from live_support import WAIT, Server, post, socket_to

SUPPLIER = 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'
ISSUE = """mutation($s: ID!) { issueOrder(input: {supplierId: $s, needBy: "2099-01-01",
  currency: "EUR", lines: [{partNumber: "P", quantity: 1, unitPrice: "1.00"}]}) {
  order { id number } userErrors { message } } }"""
ACK = """mutation($o: ID!) { acknowledgeOrder(input: {orderId: $o, promisedDate: "2098-12-01"})
  { order { stage } userErrors { message } } }"""
THRESHOLDS = """mutation { setAlertThresholds(input: {acknowledgeWithinHours: 0.0008}) {
  thresholds { acknowledgeWithinHours } userErrors { message } } }"""
EVENTS = "subscription { orderEvents { id kind order { number stage } } }"
ALERTS = "subscription { alertRaised { id kind raisedAt order { id number } message } }"


@pytest.fixture
def servers(database_url: str, db: Database, tmp_path: Path) -> Iterator[list[Server]]:
    """Two servers on the test's (emptied) database."""
    started = [Server(database_url, tmp_path / f"server-{i}.log") for i in range(2)]
    try:
        for server in started:
            server.start()
        yield started
    finally:
        for server in started:
            server.stop()


def _listening(server: Server) -> int:
    text = httpx.get(f"{server.http}/metrics", timeout=WAIT).text
    found = re.search(r"^handoff_live_listeners\{[^}]*\} (\d+)", text, re.M)
    return int(found.group(1)) if found else 0


async def _wait_listening(server: Server, count: int) -> None:
    import asyncio

    async with asyncio.timeout(WAIT):
        while _listening(server) < count:  # noqa: ASYNC110 (a poll of another process)
            await asyncio.sleep(0.05)


async def test_a_subscriber_on_each_server_hears_what_the_other_committed(
    servers: list[Server],
) -> None:
    one, two = servers
    buyer = make_token("buyer")
    supplier_id = (await post(one.http, buyer, SUPPLIER))["createSupplier"]["supplier"]["id"]
    supplier = make_token("supplier", supplier_id=supplier_id)
    async with socket_to(one.ws, buyer) as on_one, socket_to(two.ws, supplier) as on_two:
        await on_one.subscribe("a", EVENTS)
        await on_two.subscribe("b", EVENTS)
        await _wait_listening(one, 1)
        await _wait_listening(two, 1)

        # when: the buyer issues through server two, the supplier acknowledges through one
        order = (await post(two.http, buyer, ISSUE, s=supplier_id))["issueOrder"]["order"]
        issued_on_one = (await on_one.next_data())["orderEvents"]
        issued_on_two = (await on_two.next_data())["orderEvents"]
        await post(one.http, supplier, ACK, o=order["id"])
        acked_on_one = (await on_one.next_data())["orderEvents"]
        acked_on_two = (await on_two.next_data())["orderEvents"]

    # then: both heard both, once each, with the order as each may see it
    assert [issued_on_one["kind"], acked_on_one["kind"]] == ["ISSUED", "ACKNOWLEDGED"]
    assert issued_on_one == issued_on_two
    assert acked_on_one["id"] == acked_on_two["id"]
    assert acked_on_two["order"] == {"number": order["number"], "stage": "ACKNOWLEDGED"}


async def test_handoff_serve_declines_per_message_compression_by_default(
    servers: list[Server],
) -> None:
    # given: a client that offers permessage-deflate (the websockets default, like browsers)
    async with socket_to(servers[0].ws, make_token("buyer")) as socket_:
        response = socket_.ws.response
    # then: the server did not accept it (WS_COMPRESSION is off): no per-socket deflate
    assert response is not None
    assert "sec-websocket-extensions" not in {k.lower() for k in response.headers}


async def test_time_alone_raises_an_alert_once_and_a_new_leader_does_not_raise_it_again(
    servers: list[Server], db: Database
) -> None:
    one, two = servers
    buyer = make_token("buyer")
    supplier_id = (await post(one.http, buyer, SUPPLIER))["createSupplier"]["supplier"]["id"]
    supplier = make_token("supplier", supplier_id=supplier_id)
    # ISSUED for more than 0.0008 h (2.88 s) is UNACKNOWLEDGED
    await post(one.http, buyer, THRESHOLDS)
    async with socket_to(one.ws, buyer) as on_one, socket_to(two.ws, supplier) as on_two:
        await on_one.subscribe("a", ALERTS)
        await on_two.subscribe("b", ALERTS)
        await _wait_listening(one, 1)
        await _wait_listening(two, 1)

        # when: an order is issued and nobody does anything
        order = (await post(two.http, buyer, ISSUE, s=supplier_id))["issueOrder"]["order"]

        # then: both hear the alert, by itself
        seen_by_buyer = (await on_one.next_data(within=WAIT + 5))["alertRaised"]
        seen_by_supplier = (await on_two.next_data(within=WAIT + 5))["alertRaised"]
        assert seen_by_buyer["kind"] == "UNACKNOWLEDGED"
        assert seen_by_buyer["order"]["id"] == order["id"]
        assert seen_by_supplier["id"] == seen_by_buyer["id"]

        # when: every server is killed and started again (whoever led is gone)
        for server in servers:
            server.kill()
        for server in servers:
            server.start()
    scans_before = [_scans(s) for s in servers]
    async with socket_to(one.ws, buyer) as again:
        await again.subscribe("a", ALERTS)
        await _wait_listening(one, 1)
        await _wait_scans(servers, scans_before, more=5)
        # then: the episode is still raised once; nothing new was pushed
        await again.quiet()
    async with db.read_session() as session:
        raised = await session.scalar(
            select(func.count()).select_from(RaisedAlert).where(RaisedAlert.order_id == order["id"])
        )
    assert raised == 1


def _scans(server: Server) -> int:
    text = httpx.get(f"{server.http}/metrics", timeout=WAIT).text
    found = re.search(r"^handoff_alert_scans_total\{[^}]*\} (\d+)", text, re.M)
    return int(found.group(1)) if found else 0


async def _wait_scans(servers: list[Server], before: list[int], more: int) -> None:
    """Until the servers together ran ``more`` scans as leader since ``before``."""
    import asyncio

    async with asyncio.timeout(WAIT):
        while sum(_scans(s) for s in servers) - sum(before) < more:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
