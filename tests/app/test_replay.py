"""Replay-then-live: ``orderEvents(after:)`` hands over from the log to the live feed
with no gap and no duplicate, in commit order — with events committed while it
replays, and a subscriber that keeps dropping its socket and coming back."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from app.main import create_app
from app.settings import Settings
from conftest import FixedClock, make_token
from db.engine import Database
from db.feed import FeedEvent
from db.models import OrderEvent
from live_support import WAIT, InProcess, serving, socket_to

SUPPLIER = 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'
ISSUE = """mutation($s: ID!) { issueOrder(input: {supplierId: $s, needBy: "2099-01-01",
  currency: "EUR", lines: [{partNumber: "P", quantity: 1, unitPrice: "1.00"}]}) {
  order { id } } }"""
ACK = """mutation($o: ID!) { acknowledgeOrder(input: {orderId: $o, promisedDate: "2098-12-01"})
  { order { stage } } }"""
MILESTONE = """mutation($o: ID!, $n: String!) { addMilestone(input: {orderId: $o, note: $n})
  { order { version } userErrors { message } } }"""
EVENTS = "subscription($after: ID) { orderEvents(after: $after) { id kind } }"
ORDERS, PER_ORDER = 40, 5  # 200 events in the storm


@pytest.fixture
async def live(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[InProcess]:
    async with serving(create_app(settings, db=db, clock=clock)) as served:
        yield served


async def _world(live: InProcess) -> tuple[str, str, list[str]]:
    buyer = make_token("buyer")
    supplier_id = (await live.post(buyer, SUPPLIER))["createSupplier"]["supplier"]["id"]
    supplier = make_token("supplier", supplier_id=supplier_id)
    orders = []
    for _ in range(ORDERS):
        order = (await live.post(buyer, ISSUE, s=supplier_id))["issueOrder"]["order"]["id"]
        await live.post(supplier, ACK, o=order)
        orders.append(order)
    return buyer, supplier, orders


async def _log(db: Database, after_id: str) -> list[str]:
    """Every event id of the org after ``after_id``, in feed (commit) order."""
    async with db.read_session() as session:
        start = await session.scalar(select(OrderEvent.position).where(OrderEvent.id == after_id))
        rows = await session.scalars(
            select(OrderEvent.id)
            .where(OrderEvent.org == "org-a", OrderEvent.position > start)
            .order_by(OrderEvent.position)
        )
        return list(rows)


async def test_a_reconnecting_subscriber_gets_each_of_200_concurrent_events_once_in_order(
    live: InProcess, db: Database
) -> None:
    # given: 40 acknowledged orders; the subscriber starts after the last acknowledgement
    buyer, supplier, orders = await _world(live)
    async with db.read_session() as session:
        start = await session.scalar(
            select(OrderEvent.id).order_by(OrderEvent.position.desc()).limit(1)
        )
    assert start is not None

    async def storm() -> None:
        async def one_writer(mine: list[str]) -> None:
            for round_ in range(PER_ORDER):
                for order in mine:
                    body = await live.post(supplier, MILESTONE, o=order, n=f"step {round_}")
                    assert body["addMilestone"]["userErrors"] == []

        await asyncio.gather(*(one_writer(orders[i::8]) for i in range(8)))

    # when: 200 milestones are committed by 8 writers while the subscriber, again and
    # again, drops its socket after a random number of events and resumes with after
    rng = random.Random(7)
    received: list[str] = []
    writing = asyncio.create_task(storm())
    reconnects = 0
    async with asyncio.timeout(WAIT * 8):
        while len(received) < ORDERS * PER_ORDER:
            after = received[-1] if received else start
            async with socket_to(live.ws, buyer) as ws:
                await ws.subscribe("s", EVENTS, after=after)
                for _ in range(rng.randint(1, 40)):
                    event = (await ws.next_data())["orderEvents"]
                    received.append(event["id"])
                    if len(received) == ORDERS * PER_ORDER:
                        break
            reconnects += 1
    await writing

    # then: exactly the log, in its order, once each
    assert reconnects > 3
    assert received == await _log(db, start)
    assert len(set(received)) == ORDERS * PER_ORDER


async def test_an_event_committed_while_the_replay_runs_is_delivered_exactly_once(
    live: InProcess, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a few orders; a stream that replays from their first event
    _, supplier, orders = await _world(live)
    async with db.read_session() as session:
        first = await session.scalar(select(OrderEvent.position).order_by(OrderEvent.position))
    assert first is not None
    hub = live.app.state.hub
    replay = hub._replay
    committed: list[str] = []

    async def replay_and_commit_meanwhile(org: str, after: int) -> AsyncIterator[object]:
        async for entry in replay(org, after):
            if not committed:  # during the replay, after its first entry
                await live.post(supplier, MILESTONE, o=orders[0], n="during replay")
                async with db.read_session() as session:
                    newest = await session.scalar(
                        select(OrderEvent.id).order_by(OrderEvent.position.desc()).limit(1)
                    )
                committed.append(str(newest))
                await asyncio.sleep(0.2)  # let the relay dispatch it to the buffering stream
            yield entry

    monkeypatch.setattr(hub, "_replay", replay_and_commit_meanwhile)

    # when
    seen: list[str] = []
    stream = hub.entries("org-a", after=first - 1)
    async with asyncio.timeout(WAIT):
        async for entry in stream:
            assert isinstance(entry, FeedEvent)
            seen.append(entry.id)
            if len(seen) == ORDERS * 2 + 1:  # issued and acknowledged each, and the one
                break
    await stream.aclose()

    # then: every event once, the one committed mid-replay included, in log order
    assert seen.count(committed[0]) == 1
    async with db.read_session() as session:
        log = list(await session.scalars(select(OrderEvent.id).order_by(OrderEvent.position)))
    assert seen == log[: len(seen)]
