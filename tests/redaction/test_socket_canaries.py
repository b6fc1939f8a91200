"""Redaction on the socket is redaction on HTTP: every viewer of the canary world
subscribes to ``orderEvents`` (replaying the world's history, then live) and, where its
schema has it, ``alertRaised``, each with every field its schema offers; then the
world moves on (notes, cancellations, alerts raised by time alone). No frame carries a
canary the viewer must not see; a client has no alerts at all; supplier B hears
nothing of supplier A's jobs; and twin orders that differ only in what a client must
not see push the same bytes to the client."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from app.main import create_app
from app.settings import Settings
from conftest import FixedClock
from db.engine import Database
from db.feed import read
from db.models import OrderEvent
from db.queries.scope import order_in_scope
from live_support import WAIT, InProcess, Socket, serving, socket_to
from permissions.principal import Principal, Role
from redaction_support import MaximalSelection, leaked
from schema.live import LiveOperation, visible
from worlds.canary import (
    BUYER_A,
    BUYER_B,
    CLIENT_A,
    CLIENT_B,
    OTHER_SUPPLIER_NOTE,
    SUPPLIER_A,
    SUPPLIER_B,
    SUPPLIER_NOTE,
    World,
)

VIEWERS = {
    BUYER_A: Role.BUYER,
    BUYER_B: Role.BUYER,
    SUPPLIER_A: Role.SUPPLIER,
    SUPPLIER_B: Role.SUPPLIER,
    CLIENT_A: Role.CLIENT,
    CLIENT_B: Role.CLIENT,
}
ACK = """mutation($o: ID!, $n: String) { acknowledgeOrder(input: {orderId: $o,
  promisedDate: "2026-03-25", note: $n}) { userErrors { message } } }"""
MILESTONE = """mutation($o: ID!, $n: String!) { addMilestone(input: {orderId: $o, note: $n})
  { userErrors { message } } }"""
CANCEL = """mutation($o: ID!) { cancelOrder(input: {orderId: $o, reason: "not needed"})
  { userErrors { message } } }"""


def principal_of(world: World, viewer: str) -> Principal:
    """Who ``viewer`` is, as its token says (its scope decides what it may see)."""
    org = "org-b" if viewer == BUYER_B else "org-a"
    role = VIEWERS[viewer]
    party = {
        SUPPLIER_A: {"supplier_id": world.supplier_a},
        SUPPLIER_B: {"supplier_id": world.supplier_b},
        CLIENT_A: {"client_id": world.client_a},
        CLIENT_B: {"client_id": world.client_b},
    }.get(viewer, {})
    return Principal(role=role, org=org, subject=viewer, **party)


def _documents(role: Role) -> dict[str, str]:
    selection = MaximalSelection(role, depth=5)
    found = {
        "events": selection.document(
            f"subscription E($after: ID) {{ orderEvents(after: $after) "
            f"{selection.of('OrderEvent')} }}"
        )
    }
    if role is not Role.CLIENT:
        found["alerts"] = selection.document(
            f"subscription A {{ alertRaised {selection.of('Alert')} }}"
        )
    return found


@pytest.fixture
async def live(
    settings: Settings, db: Database, clock: FixedClock, world: World
) -> AsyncIterator[InProcess]:
    async with serving(create_app(settings, db=db, clock=clock)) as served:
        yield served


async def _first_visible(db: Database, world: World, viewer: str) -> str:
    """The id of the first event (in feed order) ``viewer`` may see."""
    scope = principal_of(world, viewer).scope
    operation = LiveOperation("orderEvents")
    async with db.read_session() as session:
        entries = await read(session, org=scope.org, after=0, limit=10_000)
    return next(e.id for e in entries if visible(scope, e, operation))


async def _expected(db: Database, world: World, viewer: str, after_id: str) -> int:
    """How many order events ``viewer`` sees after ``after_id`` (the log, scoped)."""
    scope = principal_of(world, viewer).scope
    async with db.read_session() as session:
        start = await session.scalar(select(OrderEvent.position).where(OrderEvent.id == after_id))
        entries = await read(session, org=scope.org, after=start or 0, limit=10_000)
    return sum(1 for e in entries if visible(scope, e, LiveOperation("orderEvents")))


async def _drain(socket: Socket, sub_id: str, count: int, frames: list[bytes]) -> None:
    async with asyncio.timeout(WAIT * 2):
        while sum(1 for f in frames if f'"id":"{sub_id}"'.encode() in f) < count:
            message = await socket.ws.recv()
            frames.append(message.encode() if isinstance(message, str) else message)


async def test_no_pushed_frame_carries_a_canary_its_viewer_must_not_see(
    live: InProcess, world: World, db: Database, clock: FixedClock
) -> None:
    # given: every viewer subscribed with every field, replaying from its first event
    frames: dict[str, list[bytes]] = {v: [] for v in VIEWERS}
    starts = {v: await _first_visible(db, world, v) for v in VIEWERS}
    async with contextlib.AsyncExitStack() as stack:
        sockets = {}
        for viewer, role in VIEWERS.items():
            socket = await stack.enter_async_context(
                socket_to(live.ws, world.caller(viewer).token or "")
            )
            documents = _documents(role)
            await socket.subscribe("events", documents["events"], after=starts[viewer])
            if "alerts" in documents:
                await socket.subscribe("alerts", documents["alerts"])
            else:
                # the client's schema has no alertRaised: asking fails like a made-up field
                await socket.subscribe("alerts", "subscription { alertRaised { id } }")
                refused = await socket.receive()
                assert refused["type"] == "error"
                assert refused["payload"][0]["message"] == (
                    "Cannot query field 'alertRaised' on type 'Subscription'."
                )
            sockets[viewer] = socket
        await live.listening("org-a", 8)  # buyer, suppliers: 2 each; clients: 1 each

        # when: the world moves on — supplier notes, a cancellation, then time alone
        sup_a, sup_b, buyer = (world.caller(v) for v in (SUPPLIER_A, SUPPLIER_B, BUYER_A))
        twin_a, twin_b = world.orders["twin_a"].id, world.orders["twin_b"].id
        for gql, order, note in (
            (sup_a, twin_a, SUPPLIER_NOTE),
            (sup_b, twin_b, OTHER_SUPPLIER_NOTE),
        ):
            assert (await gql(ACK, {"o": order, "n": note}))["data"]["acknowledgeOrder"][
                "userErrors"
            ] == []
            assert (await gql(MILESTONE, {"o": order, "n": note}))["data"]["addMilestone"][
                "userErrors"
            ] == []
        await buyer(CANCEL, {"o": world.orders["cross"].id})
        head = await _head(db)
        clock.advance(hours=24 * 90)
        assert await live.app.state.scheduler.tick() > 0

        # then: each viewer gets exactly its share of the log, and its alerts
        for viewer in VIEWERS:
            events = await _expected(db, world, viewer, starts[viewer])
            await _drain(sockets[viewer], "events", events, frames[viewer])
            if VIEWERS[viewer] is not Role.CLIENT:
                alerts = await _alerts_after(db, world, viewer, head)
                await _drain(sockets[viewer], "alerts", alerts, frames[viewer])
            await sockets[viewer].quiet()

    for viewer in VIEWERS:
        content = b"\n".join(frames[viewer])
        assert leaked(content, world.hidden_from(viewer)) == {}, viewer
        assert b'"errors"' not in content, viewer
        if VIEWERS[viewer] is Role.CLIENT:
            assert b"alertRaised" not in content
    supplier_b = b"\n".join(frames[SUPPLIER_B])
    for name in ("main", "cancelled", "twin_a", "cross"):  # supplier A's jobs
        assert world.orders[name].id.encode() not in supplier_b


async def test_twin_orders_push_the_same_bytes_to_the_client(live: InProcess, world: World) -> None:
    # given: the client subscribed to each twin, every field
    twin_a, twin_b = world.orders["twin_a"], world.orders["twin_b"]
    selection = MaximalSelection(Role.CLIENT, depth=5)
    document = selection.document(
        f"subscription T($o: ID) {{ orderEvents(orderId: $o) {selection.of('OrderEvent')} }}"
    )
    client = world.caller(CLIENT_A).token or ""
    async with socket_to(live.ws, client) as on_a, socket_to(live.ws, client) as on_b:
        await on_a.subscribe("t", document, o=twin_a.id)
        await on_b.subscribe("t", document, o=twin_b.id)
        await live.listening("org-a", 2)

        # when: the two suppliers do the same, with notes only they may read; each step
        # is heard before the next (a pushed event shows its order as it is then)
        seen: dict[str, list[dict[str, Any]]] = {"a": [], "b": []}
        for supplier, order, note, socket, key in (
            (SUPPLIER_A, twin_a.id, SUPPLIER_NOTE, on_a, "a"),
            (SUPPLIER_B, twin_b.id, OTHER_SUPPLIER_NOTE, on_b, "b"),
        ):
            await world.caller(supplier)(ACK, {"o": order, "n": note})
            seen[key].append(await socket.receive())
            await world.caller(supplier)(MILESTONE, {"o": order, "n": note})
            seen[key].append(await socket.receive())
        seen_a, seen_b = seen["a"], seen["b"]

    # then: byte-identical once ids and numbers are blanked
    def normal(frames: list[dict[str, Any]], order: Any) -> str:
        text = repr(frames).replace(order.id, "…").replace(order.number, "…")
        return re.sub(r"evt_[a-z2-7]{20}", "evt_…", text)

    assert normal(seen_a, twin_a) == normal(seen_b, twin_b)


async def _head(db: Database) -> int:
    async with db.read_session() as session:
        return int(
            await session.scalar(select(OrderEvent.position).order_by(OrderEvent.position.desc()))
            or 0
        )


async def _alerts_after(db: Database, world: World, viewer: str, after: int) -> int:
    scope = principal_of(world, viewer).scope
    async with db.read_session() as session:
        entries = await read(session, org=scope.org, after=after, limit=10_000)
    return sum(
        1
        for e in entries
        if visible(scope, e, LiveOperation("alertRaised"))
        and order_in_scope(
            scope, org=e.org, order_id=e.order_id, supplier_id=e.supplier_id, client_id=e.client_id
        )
    )
