"""E-mail against a real local SMTP server (aiosmtpd): the supplier's contact gets the
new PO and its amendment, the buyer a burst of alerts as one message, the client's
contact the dispatch with a working tracking link — each from its own projection (no
price in the client's, nothing of another party's). Per-org switches turn it off."""

from __future__ import annotations

import asyncio
import email
from collections.abc import AsyncIterator, Callable
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from webhook_support import Answer, create_endpoint, receiving, settings, worker

from app.email import Mailer, SmtpConfig
from conftest import FixedClock, GraphQL
from db import email_outbox, raised_alerts
from db.engine import Database
from graphql_support import (
    CREATE_CLIENT,
    CREATE_SUPPLIER,
    line_input,
    mutate,
    order_input,
    payload_mutation,
)
from live_support import free_port

__all__ = ["settings"]

PRICE = "7313.37"  # a price no one would type: never in the client's mail
ISSUE = payload_mutation("issueOrder", "IssueOrderInput", "order { id number }")
AMEND = payload_mutation("amendOrder", "AmendOrderInput", "order { id revision }")
ACK = payload_mutation("acknowledgeOrder", "AcknowledgeOrderInput", "order { id }")
START = payload_mutation("startProduction", "OrderActionInput", "order { id }")
DISPATCH = payload_mutation("dispatchOrder", "DispatchOrderInput", "order { id }")


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        content = envelope.content  # type: ignore[attr-defined]
        self.messages.append(
            (list(envelope.rcpt_tos), email.message_from_bytes(content))  # type: ignore[attr-defined]
        )
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for rcpt, m in self.messages if address in rcpt]


@pytest.fixture
async def inbox() -> AsyncIterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    await asyncio.to_thread(controller.start)
    try:
        yield handler, port
    finally:
        await asyncio.to_thread(controller.stop)


def _parts(message: Message) -> tuple[str, str]:
    text = html = ""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
        elif part.get_content_type() == "text/html":
            html = part.get_payload(decode=True).decode()  # type: ignore[union-attr]
    return text, html


async def _deliver(db: Database, clock: FixedClock, port: int) -> None:
    mailer = Mailer(
        db,
        clock,
        SmtpConfig("127.0.0.1", port, None, None, use_tls=False, sender="handoff@test"),
        public_url="https://track.example.com",
    )
    while await mailer.run_once():
        pass


async def test_each_party_gets_its_mail_from_its_own_projection(
    buyer: GraphQL,
    as_role: Callable[..., GraphQL],
    db: Database,
    clock: FixedClock,
    inbox: tuple[Inbox, int],
) -> None:
    box, port = inbox
    # given: e-mail configured from now on, alerts to the buyer
    await _deliver(db, clock, port)
    async with db.write_session() as session, session.begin():
        await email_outbox.configure(session, org="org-a", buyer_email="buyer@a.example")
    supplier_id = (
        await mutate(
            buyer,
            CREATE_SUPPLIER,
            {"name": "Acme Machining", "contactEmail": "orders@acme.example"},
        )
    )["id"]
    client_id = (
        await mutate(buyer, CREATE_CLIENT, {"name": "Client", "contactEmail": "pm@client.example"})
    )["id"]
    supplier = as_role("supplier", supplier_id=supplier_id)
    lines = [{"partNumber": "P-1", "quantity": 2, "unitPrice": PRICE}]
    order = await mutate(
        buyer,
        ISSUE,
        {
            "supplierId": supplier_id,
            "clientId": client_id,
            "needBy": "2026-04-01",
            "currency": "EUR",
            "lines": lines,
        },
    )
    await _deliver(db, clock, port)
    # then: the supplier's contact has the PO, with its price
    [po] = box.to("orders@acme.example")
    text, html = _parts(po)
    assert order["number"] in po["Subject"]
    assert "new" in po["Subject"]
    assert PRICE in text
    assert PRICE in html

    # when: the buyer amends it
    await mutate(
        buyer,
        AMEND,
        {
            "orderId": order["id"],
            "lines": [{"lineNo": 1, "quantity": 3}],
            "reason": "one more",
        },
    )
    await _deliver(db, clock, port)
    amended = box.to("orders@acme.example")
    assert len(amended) == 2
    assert "amended" in amended[1]["Subject"]

    # when: two orders overstay together, the buyer gets one message
    second = await mutate(
        buyer,
        ISSUE,
        {"supplierId": supplier_id, "needBy": "2026-04-01", "currency": "EUR", "lines": lines},
    )
    clock.advance(days=5)
    async with db.write_session() as session, session.begin():
        await raised_alerts.scan(session, clock.now)
    await _deliver(db, clock, port)
    [alerts] = box.to("buyer@a.example")
    text, _ = _parts(alerts)
    assert order["number"] in text
    assert second["number"] in text

    # when: the supplier dispatches, the client's contact hears, with a link, no price
    await mutate(supplier, ACK, {"orderId": order["id"], "promisedDate": "2026-03-30"})
    await mutate(supplier, START, {"orderId": order["id"]})
    await mutate(
        supplier,
        DISPATCH,
        {"orderId": order["id"], "method": "COURIER", "carrier": "DHL", "trackingReference": "R1"},
    )
    await _deliver(db, clock, port)
    [dispatched] = box.to("pm@client.example")
    text, html = _parts(dispatched)
    assert "dispatched" in dispatched["Subject"]
    assert "https://track.example.com/track/" in text
    for content in (text, html, dispatched.as_string()):
        assert PRICE not in content
        assert "Acme Machining" not in content
        assert "orders@acme.example" not in content


async def test_an_org_can_turn_e_mail_off(
    buyer: GraphQL, db: Database, clock: FixedClock, inbox: tuple[Inbox, int]
) -> None:
    box, port = inbox
    await _deliver(db, clock, port)
    async with db.write_session() as session, session.begin():
        await email_outbox.configure(session, org="org-a", enabled=False)
    supplier_id = (
        await mutate(buyer, CREATE_SUPPLIER, {"name": "Acme", "contactEmail": "o@acme.example"})
    )["id"]
    await mutate(
        buyer,
        ISSUE,
        {
            "supplierId": supplier_id,
            "needBy": "2026-04-01",
            "currency": "EUR",
            "lines": [{"partNumber": "P", "quantity": 1, "unitPrice": "1"}],
        },
    )
    await _deliver(db, clock, port)
    assert box.messages == []


async def test_an_endpoint_disabled_after_days_of_failure_is_told_to_its_owner_by_mail(
    buyer: GraphQL,
    as_role: Callable[..., GraphQL],
    db: Database,
    clock: FixedClock,
    inbox: tuple[Inbox, int],
) -> None:
    box, port = inbox
    # given: a supplier with a contact address whose own endpoint always answers 503
    async with db.write_session() as session, session.begin():
        await email_outbox.configure(session, org="org-a", buyer_email="buyer@a.example")
    supplier_id = (
        await mutate(buyer, CREATE_SUPPLIER, {"name": "Acme", "contactEmail": "ops@acme.example"})
    )["id"]
    supplier = as_role("supplier", supplier_id=supplier_id)
    async with receiving() as receiver:
        receiver.default = Answer(503)
        await create_endpoint(supplier, receiver.url, ["ORDER_EVENT"])
        # when: its deliveries fail for more than five days
        for _ in range(7):
            await mutate(
                buyer,
                ISSUE,
                order_input(supplier_id, None, [line_input("P-1", 2, "9.50")]),
            )
            sender = worker(db, clock)
            try:
                await sender.run_once()
            finally:
                await sender.stop()
            clock.advance(days=1)
        await _deliver(db, clock, port)

    # then: the supplier's contact is told, once, with a way back; the buyer is not
    [notice] = [m for m in box.to("ops@acme.example") if "disabled" in m["Subject"]]
    text, html = _parts(notice)
    assert receiver.url in notice["Subject"]
    assert "redeliverWebhook" in text
    assert "redeliverWebhook" in html
    assert not [m for m in box.to("buyer@a.example") if "disabled" in m["Subject"]]
