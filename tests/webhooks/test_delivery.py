"""Webhooks end to end against a real local receiver: signed per Standard Webhooks,
the same webhook-id on every attempt, retries on the injected clock (no sleeps),
Retry-After honoured, FAILED after the schedule, an endpoint disabled after days of
failure and enabled again by a redelivery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import standardwebhooks
from sqlalchemy import update

from conftest import FixedClock, GraphQL
from db.engine import Database
from db.models import WebhookDelivery
from db.webhook_outbox import SCHEDULE
from graphql_support import CREATE_SUPPLIER, NEED_BY, line_input, mutate, order_input
from webhook_support import (
    REDELIVER,
    Answer,
    create_endpoint,
    deliveries,
    receiving,
    settings,
    worker,
)

__all__ = ["settings"]  # the fixture, with a webhook key

ISSUE = """
mutation Issue($input: IssueOrderInput!) {
  issueOrder(input: $input) { order { id number } userErrors { code message field } }
}
"""


async def _issue(buyer: GraphQL, supplier_id: str) -> dict[str, str]:
    return await mutate(buyer, ISSUE, order_input(supplier_id, None, [line_input("P-1", 2, "9.50")]))


async def _supplier(buyer: GraphQL) -> str:
    return (await mutate(buyer, CREATE_SUPPLIER, {"name": "Acme"}))["id"]


def _reference_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    """Standard Webhooks, written out independently of the code under test."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


async def test_a_buyer_endpoint_receives_a_signed_order_event(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    async with receiving() as receiver:
        endpoint_id, secret = await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        assert secret.startswith("whsec_")
        order = await _issue(buyer, await _supplier(buyer))

        sender = worker(db, clock)
        try:
            await sender.run_once()
        finally:
            await sender.stop()

    [request] = receiver.requests
    headers = request.headers
    # then: the signature verifies with the reference library and by hand
    expected = standardwebhooks.Webhook(secret).sign(
        headers["webhook-id"],
        datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC),
        request.body.decode(),
    )
    assert headers["webhook-signature"] == expected
    assert headers["webhook-signature"] == _reference_signature(
        secret, headers["webhook-id"], headers["webhook-timestamp"], request.body
    )
    assert int(headers["webhook-timestamp"]) == int(clock.now.timestamp())
    body = json.loads(request.body)
    assert body["type"] == "order.event"
    assert body["data"]["kind"] == "ISSUED"
    assert body["data"]["order"]["number"] == order["number"]
    assert body["data"]["order"]["supplier"]["name"] == "Acme"
    # and the delivery log says so
    [delivery] = await deliveries(buyer)
    assert delivery["id"] == headers["webhook-id"]
    assert delivery["status"] == "DELIVERED"
    assert delivery["attempts"] == 1
    assert delivery["lastResponseCode"] == 200
    assert delivery["nextAttemptAt"] is None
    assert endpoint_id


async def _send(db: Database, clock: FixedClock) -> int:
    sender = worker(db, clock)
    try:
        return await sender.run_once()
    finally:
        await sender.stop()


async def test_a_receiver_that_fails_twice_gets_the_same_webhook_id_the_third_time(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    async with receiving() as receiver:
        receiver.plan = [Answer(500), Answer(502)]
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        await _issue(buyer, await _supplier(buyer))

        await _send(db, clock)
        [first] = await deliveries(buyer)
        assert (first["status"], first["attempts"], first["lastResponseCode"]) == (
            "PENDING",
            1,
            500,
        )
        # not due before its backoff (5 s, give or take the jitter)
        assert await _send(db, clock) == 0
        clock.advance(seconds=SCHEDULE[0].total_seconds() * 1.21)
        await _send(db, clock)
        clock.advance(seconds=SCHEDULE[1].total_seconds() * 1.21)
        await _send(db, clock)

    # then: three attempts, one webhook-id, the same bytes each time
    assert [r.headers["webhook-id"] for r in receiver.requests] == [first["id"]] * 3
    assert len({r.body for r in receiver.requests}) == 1
    [done] = await deliveries(buyer)
    assert (done["status"], done["attempts"], done["lastResponseCode"]) == ("DELIVERED", 3, 200)
