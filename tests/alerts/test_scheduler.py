"""The alert scheduler, on the injected clock: a time-based alert is raised at the first
tick after its threshold passes, never before and never twice; a new leader catches up
on what no one raised; a threshold change raises and ends episodes in its own
transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from app.scheduler import AlertScheduler
from conftest import FixedClock, make_token
from db.engine import Database
from db.models import RaisedAlert

SUPPLIER = 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'
ISSUE = """mutation($s: ID!) { issueOrder(input: {supplierId: $s, needBy: "2099-01-01",
  currency: "EUR", lines: [{partNumber: "P", quantity: 1, unitPrice: "1.00"}]}) {
  order { id } userErrors { message } } }"""
THRESHOLDS = """mutation($h: Float!) { setAlertThresholds(input: {acknowledgeWithinHours: $h}) {
  userErrors { message } } }"""


@pytest.fixture
async def scheduler(db: Database, clock: FixedClock) -> AsyncIterator[AlertScheduler]:
    found = AlertScheduler(db, clock, interval_seconds=1.0)
    try:
        yield found
    finally:
        await found.stop()


async def _post(client: httpx.AsyncClient, query: str, **variables: object) -> dict[str, object]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {make_token('buyer')}"},
    )
    body: dict[str, object] = response.json()
    assert "errors" not in body, body
    return body


async def _issue(client: httpx.AsyncClient) -> str:
    supplier = (await _post(client, SUPPLIER))["data"]["createSupplier"]["supplier"]["id"]  # type: ignore[index]
    order = await _post(client, ISSUE, s=supplier)
    return str(order["data"]["issueOrder"]["order"]["id"])  # type: ignore[index]


async def _raised(db: Database, order_id: str, *, open_only: bool = False) -> int:
    stmt = select(func.count()).select_from(RaisedAlert).where(RaisedAlert.order_id == order_id)
    if open_only:
        stmt = stmt.where(RaisedAlert.cleared_at.is_(None))
    async with db.read_session() as session:
        return int(await session.scalar(stmt) or 0)


async def test_a_tick_raises_an_alert_just_after_its_threshold_and_once(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, scheduler: AlertScheduler
) -> None:
    order = await _issue(client)
    assert await scheduler.tick() == 0  # the first tick: a full scan of nothing

    clock.advance(hours=48, seconds=-1)  # one second before the 48 h threshold
    assert await scheduler.tick() == 0
    clock.advance(seconds=2)  # one second after
    assert await scheduler.tick() == 1
    clock.advance(seconds=1)
    assert await scheduler.tick() == 0
    assert await _raised(db, order) == 1


async def test_a_new_leader_raises_what_nobody_raised_while_there_was_none(
    client: httpx.AsyncClient, db: Database, clock: FixedClock, scheduler: AlertScheduler
) -> None:
    order = await _issue(client)
    assert await scheduler.tick() == 0
    await scheduler.stop()  # the leader goes; for 100 h no one scans

    clock.advance(hours=100)
    successor = AlertScheduler(db, clock, interval_seconds=1.0)
    try:
        assert await successor.tick() == 1  # its first tick scans everything
        assert await successor.tick() == 0
    finally:
        await successor.stop()
    assert await _raised(db, order) == 1


async def test_changing_a_threshold_raises_and_ends_episodes_in_its_own_transaction(
    client: httpx.AsyncClient, db: Database, clock: FixedClock
) -> None:
    order = await _issue(client)
    clock.advance(hours=10)
    assert await _raised(db, order) == 0

    await _post(client, THRESHOLDS, h=5.0)  # now 10 h is over the threshold: raised, no tick
    assert await _raised(db, order, open_only=True) == 1

    await _post(client, THRESHOLDS, h=20.0)  # and now it is not: the episode ends
    assert await _raised(db, order, open_only=True) == 0

    await _post(client, THRESHOLDS, h=5.0)  # the same episode holds again: not raised twice
    assert await _raised(db, order) == 1
    assert await _raised(db, order, open_only=True) == 1
