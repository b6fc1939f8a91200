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
from webhook_support import (
    REDELIVER,
    Answer,
    create_endpoint,
    deliveries,
    receiving,
    settings,
    worker,
)

from conftest import FixedClock, GraphQL
from db.engine import Database
from db.webhook_outbox import SCHEDULE, claim
from graphql_support import CREATE_SUPPLIER, line_input, mutate, order_input

__all__ = ["settings"]  # the fixture, with a webhook key

ISSUE = """
mutation Issue($input: IssueOrderInput!) {
  issueOrder(input: $input) { order { id number } userErrors { code message field } }
}
"""


async def _issue(buyer: GraphQL, supplier_id: str) -> dict[str, str]:
    return await mutate(
        buyer, ISSUE, order_input(supplier_id, None, [line_input("P-1", 2, "9.50")])
    )


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


async def test_a_429_with_retry_after_waits_at_least_that_long(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    async with receiving() as receiver:
        receiver.plan = [Answer(429, {"Retry-After": "3600"})]
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        await _issue(buyer, await _supplier(buyer))
        await _send(db, clock)
        [delivery] = await deliveries(buyer)
        due = datetime.fromisoformat(delivery["nextAttemptAt"])
        assert due >= clock.now + timedelta(seconds=3600)
        # the 5 s step alone would have been due long before
        clock.advance(seconds=600)
        assert await _send(db, clock) == 0
        clock.advance(seconds=3001)
        await _send(db, clock)
    assert receiver.started == 2
    [delivery] = await deliveries(buyer)
    assert delivery["status"] == "DELIVERED"


async def test_a_delivery_fails_for_good_after_the_schedule(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    async with receiving() as receiver:
        receiver.default = Answer(500)
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        await _issue(buyer, await _supplier(buyer))
        for step in [*SCHEDULE, *SCHEDULE[-1:] * 2]:
            await _send(db, clock)
            clock.advance(seconds=step.total_seconds() * 1.21)
    [delivery] = await deliveries(buyer)
    assert (delivery["status"], delivery["attempts"]) == ("FAILED", len(SCHEDULE) + 1)
    assert delivery["nextAttemptAt"] is None
    assert receiver.started == len(SCHEDULE) + 1


async def test_days_of_failure_disable_the_endpoint_and_a_redelivery_enables_it(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    async with receiving() as receiver:
        receiver.default = Answer(503)
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        supplier_id = await _supplier(buyer)
        await _issue(buyer, supplier_id)
        await _send(db, clock)
        # when: deliveries keep failing for more than five days
        for _ in range(6):
            clock.advance(days=1)
            await _issue(buyer, supplier_id)
            await _send(db, clock)
        body = await buyer(
            "{ webhookEndpoints { edges { node { enabled failingSince disabledReason } } } }"
        )
        node = body["data"]["webhookEndpoints"]["edges"][0]["node"]
        assert node["enabled"] is False
        assert node["failingSince"] is not None
        assert "5 days" in node["disabledReason"]
        # then: nothing more is sent while it is disabled
        sent = receiver.started
        clock.advance(days=1)
        assert await _send(db, clock) == 0
        assert receiver.started == sent

        # when: the receiver is back and its owner redelivers one
        receiver.default = Answer(200)
        oldest = (await deliveries(buyer))[-1]
        payload = (await buyer(REDELIVER, {"input": {"deliveryId": oldest["id"]}}))["data"][
            "redeliverWebhook"
        ]
        assert payload["userErrors"] == []
        assert payload["webhookEndpoint"]["enabled"] is True
        assert payload["secret"] is None
        await _send(db, clock)
    assert receiver.requests[-1].headers["webhook-id"] in receiver.ids()
    redelivered = [d for d in await deliveries(buyer) if d["id"] == oldest["id"]]
    assert redelivered[0]["status"] == "DELIVERED"


async def test_redelivering_a_delivered_one_sends_the_same_id_and_body_again(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    async with receiving() as receiver:
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        await _issue(buyer, await _supplier(buyer))
        await _send(db, clock)
        [delivery] = await deliveries(buyer)
        payload = (await buyer(REDELIVER, {"input": {"deliveryId": delivery["id"]}}))["data"]
        assert payload["redeliverWebhook"]["userErrors"] == []
        await _send(db, clock)
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"] == delivery["id"]
    assert first.body == again.body


async def test_a_redirect_is_not_followed(buyer: GraphQL, db: Database, clock: FixedClock) -> None:
    async with receiving() as receiver, receiving() as elsewhere:
        receiver.default = Answer(307, {"Location": elsewhere.url})
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        await _issue(buyer, await _supplier(buyer))
        await _send(db, clock)
    assert elsewhere.started == 0
    [delivery] = await deliveries(buyer)
    assert (delivery["status"], delivery["lastResponseCode"]) == ("PENDING", 307)


async def test_a_deleted_endpoint_is_sent_nothing_more(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    from webhook_support import DELETE_ENDPOINT

    async with receiving() as receiver:
        receiver.default = Answer(500)
        endpoint_id, _ = await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        await _issue(buyer, await _supplier(buyer))
        await _send(db, clock)
        payload = (await buyer(DELETE_ENDPOINT, {"input": {"endpointId": endpoint_id}}))["data"]
        assert payload["deleteWebhookEndpoint"]["webhookEndpoint"]["enabled"] is False
        clock.advance(hours=1)
        assert await _send(db, clock) == 0
    assert receiver.started == 1
    listed = await buyer("{ webhookEndpoints { totalCount } }")
    assert listed["data"]["webhookEndpoints"]["totalCount"] == 0


async def test_a_rotated_secret_signs_the_next_attempt(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    from webhook_support import ROTATE_SECRET

    async with receiving() as receiver:
        receiver.plan = [Answer(500)]
        endpoint_id, old = await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        await _issue(buyer, await _supplier(buyer))
        await _send(db, clock)
        payload = (await buyer(ROTATE_SECRET, {"input": {"endpointId": endpoint_id}}))["data"]
        new = payload["rotateWebhookSecret"]["secret"]
        assert new.startswith("whsec_")
        assert new != old
        clock.advance(seconds=10)
        await _send(db, clock)
    first, second = receiver.requests
    h1, h2 = first.headers, second.headers
    assert h1["webhook-signature"] == _reference_signature(
        old, h1["webhook-id"], h1["webhook-timestamp"], first.body
    )
    assert h2["webhook-signature"] == _reference_signature(
        new, h2["webhook-id"], h2["webhook-timestamp"], second.body
    )


async def test_a_stored_delivery_survives_a_lost_lease(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    """A worker that died mid-send left its lease: once it runs out, another sends."""
    async with receiving() as receiver:
        await create_endpoint(buyer, receiver.url, ["ORDER_EVENT"])
        await _issue(buyer, await _supplier(buyer))
        dead = worker(db, clock)
        await dead.materialise()
        async with db.write_session() as session, session.begin():
            [held] = await claim(
                session, worker="dead", now=clock.now, lease=timedelta(minutes=1), limit=10
            )
        await dead.stop()
        assert await _send(db, clock) == 0  # leased to the dead worker
        clock.advance(minutes=2)
        await _send(db, clock)
    assert receiver.ids() == [held.id]
