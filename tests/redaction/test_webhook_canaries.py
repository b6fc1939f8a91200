"""Redaction in webhook bodies is redaction on HTTP: each viewer of the canary world
registers an endpoint (everything its role may take) and receives the world's whole
history (its cursor wound back to the start) plus alerts raised by time alone. No body
carries a canary its owner must not see; a client's endpoint gets no alert at all."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import update

from conftest import FixedClock
from db import raised_alerts
from db.engine import Database
from db.models import WebhookEndpoint
from redaction_support import leaked
from worlds.canary import BUYER_A, CLIENT_A, CLIENT_B, SUPPLIER_A, SUPPLIER_B, SUPPLIER_NAME, World

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webhooks"))
from webhook_support import create_endpoint, receiving, settings, worker

__all__ = ["settings"]  # the fixture, with a webhook key

VIEWERS = {
    BUYER_A: ["ORDER_EVENT", "ALERT_RAISED"],
    SUPPLIER_A: ["ORDER_EVENT", "ALERT_RAISED"],
    SUPPLIER_B: ["ORDER_EVENT", "ALERT_RAISED"],
    CLIENT_A: ["ORDER_EVENT"],
    CLIENT_B: ["ORDER_EVENT"],
}


async def test_webhook_bodies_carry_nothing_their_owner_may_not_see(
    world: World, db: Database, clock: FixedClock
) -> None:
    async with receiving() as receiver:
        base = receiver.url.rsplit("/", 1)[0]
        paths = {viewer: f"/{i}" for i, viewer in enumerate(VIEWERS)}
        for viewer, events in VIEWERS.items():
            await create_endpoint(world.caller(viewer), base + paths[viewer], events)
        # the whole history of the world, and a month later, the alerts time raises
        async with db.write_session() as session, session.begin():
            await session.execute(update(WebhookEndpoint).values(cursor=0))
        clock.advance(days=30)
        async with db.write_session() as session, session.begin():
            await raised_alerts.scan(session, clock.now)
        sender = worker(db, clock)
        try:
            while await sender.run_once():
                clock.advance(seconds=1)
        finally:
            await sender.stop()

    bodies = {
        viewer: [r.body for r in receiver.requests if r.path == path]
        for viewer, path in paths.items()
    }
    for viewer, received in bodies.items():
        assert received, f"{viewer} received nothing"
        assert leaked(b"\n".join(received), world.hidden_from(viewer)) == {}, viewer
    # sanity: the buyer's bodies do carry what only the buyer (and supplier A) may see
    assert SUPPLIER_NAME.encode() in b"".join(bodies[BUYER_A])
    assert any(b'"alert.raised"' in b for b in bodies[BUYER_A])
    for client in (CLIENT_A, CLIENT_B):
        assert not any(b'"alert.raised"' in b for b in bodies[client])
