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
from sqlalchemy import select, update
from webhook_support import Answer, create_endpoint, receiving, settings, worker

from app.email import Mailer, SmtpConfig
from conftest import FixedClock, GraphQL
from db import email_outbox, raised_alerts
from db.engine import Database
from db.models import EmailMessage, Supplier
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


POISON = "=?utf-8?q?a=0D=0ABcc:_x?=@b.example"  # an encoded word hiding CR LF


async def test_an_address_hiding_a_header_is_refused(buyer: GraphQL) -> None:
    body = await buyer(CREATE_SUPPLIER, {"input": {"name": "Acme", "contactEmail": POISON}})
    [error] = body["data"]["createSupplier"]["userErrors"]
    assert (error["code"], error["field"]) == ("VALIDATION", ["input", "contactEmail"])


async def test_one_message_that_cannot_be_built_does_not_stall_the_others(
    buyer: GraphQL,
    as_role: Callable[..., GraphQL],
    db: Database,
    clock: FixedClock,
    inbox: tuple[Inbox, int],
) -> None:
    """Found by an outside probe: a recipient the e-mail library refuses aborted every
    pass before anything was settled, holding back every org's mail."""
    box, port = inbox
    async with db.write_session() as session, session.begin():
        await email_outbox.configure(session, org="org-a")
    poisoned = (
        await mutate(buyer, CREATE_SUPPLIER, {"name": "Bad", "contactEmail": "x@b.example"})
    )["id"]
    fine = (await mutate(buyer, CREATE_SUPPLIER, {"name": "Good", "contactEmail": "ok@g.example"}))[
        "id"
    ]
    # given: one contact address as an older release might have stored it
    async with db.write_session() as session, session.begin():
        await session.execute(
            update(Supplier).where(Supplier.id == poisoned).values(contact_email=POISON)
        )
    for supplier_id in (poisoned, fine):
        lines = [line_input("P-1", 2, "9.50")]
        await mutate(buyer, ISSUE, order_input(supplier_id, None, lines))
    # when / then: the good one is sent; the bad one is settled as a failed attempt
    await _deliver(db, clock, port)
    assert len(box.to("ok@g.example")) == 1
    async with db.read_session() as session:
        attempts = await session.scalar(
            select(EmailMessage.attempts).where(EmailMessage.recipient == POISON)
        )
    assert attempts == 1


async def test_an_smtp_server_that_is_down_means_a_retry_later(
    buyer: GraphQL, db: Database, clock: FixedClock
) -> None:
    # given: a PO e-mail due, and nothing listening where SMTP_URL points
    async with db.write_session() as session, session.begin():
        await email_outbox.configure(session, org="org-a")
    supplier_id = (
        await mutate(buyer, CREATE_SUPPLIER, {"name": "Acme", "contactEmail": "o@acme.example"})
    )["id"]
    await mutate(buyer, ISSUE, order_input(supplier_id, None, [line_input("P-1", 2, "9.50")]))
    # when
    await _deliver(db, clock, free_port())
    # then: one failed attempt, settled, another one scheduled
    async with db.read_session() as session:
        row = (
            await session.execute(
                select(EmailMessage.attempts, EmailMessage.status, EmailMessage.next_attempt_at)
            )
        ).one()
    assert (row.attempts, row.status.value) == (1, "PENDING")
    assert row.next_attempt_at > clock.now
