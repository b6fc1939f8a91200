"""The main order's journey, written once: issued on two lines (3 and 2 units), then
acknowledged, in production, a milestone, a COURIER and an OWN_DRIVER shipment, received
in full, invoiced at the order's prices. The canary and fast-path worlds each walk it
with their own canary values (a ``MainOrder``), so their main orders differ in bytes only.
And the one step no mutation takes: a buyer's NOTE event (``add_buyer_notes``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from conftest import GraphQL
from db import models
from db.engine import Database
from db.feed import next_positions
from db.ids import new_id
from db.notes import NoteAudience
from graphql_support import (
    ACKNOWLEDGE_ORDER,
    ADD_MILESTONE,
    CANCEL_ORDER,
    DISPATCH_ORDER,
    ISSUE_ORDER,
    RECEIVE_DELIVERY,
    START_PRODUCTION,
    SUBMIT_INVOICE,
    UPDATE_PROMISED_DATE,
    line_input,
    mutate,
    order_input,
)


@dataclass(frozen=True)
class MainOrder:
    """The values the main order carries: each one a canary of its world."""

    part: str  # line 1; line 2 is ``<part>-2``
    unit_price: str  # x 3 on line 1
    second_unit_price: str  # x 2 on line 2
    order_total: str
    client_reference: str
    terms: str
    internal_note: str
    promised: str
    supplier_note: str  # on the acknowledgement, the production start and the milestone
    courier_carrier: str
    courier_tracking: str  # the courier's reference; its link is track.example/<ref>
    own_driver_carrier: str
    own_driver_reference: str
    own_driver_url: str
    invoice_number: str
    promised_later: str | None = None  # a promise update after the production start
    receipt_note: str | None = None  # the buyer's, shared with nobody


@dataclass(frozen=True)
class Delivered:
    """The ids the journey created."""

    order_id: str
    number: str
    courier_shipment: str
    own_driver_shipment: str
    receipt: str
    invoice: str


async def issue_main(
    buyer: GraphQL, supplier_id: str, client_id: str, m: MainOrder
) -> dict[str, Any]:
    """The main order, issued: ``{id, number}``."""
    lines = [
        line_input(m.part, 3, m.unit_price, "Bracket"),
        line_input(f"{m.part}-2", 2, m.second_unit_price),
    ]
    data = order_input(
        supplier_id,
        client_id,
        lines,
        clientReference=m.client_reference,
        terms=m.terms,
        leadTimeDays=21,
        internalNote=m.internal_note,
    )
    return await mutate(buyer, ISSUE_ORDER, data)


async def deliver_and_invoice(
    buyer: GraphQL, supplier: GraphQL, order: dict[str, Any], m: MainOrder
) -> Delivered:
    """Walk an issued main order to DELIVERED and invoice it (the invoice must match)."""
    main = order["id"]
    note = m.supplier_note
    await mutate(
        supplier, ACKNOWLEDGE_ORDER, {"orderId": main, "promisedDate": m.promised, "note": note}
    )
    await mutate(supplier, START_PRODUCTION, {"orderId": main, "note": note})
    if m.promised_later is not None:
        await mutate(
            supplier,
            UPDATE_PROMISED_DATE,
            {"orderId": main, "promisedDate": m.promised_later, "reason": note},
        )
    await mutate(supplier, ADD_MILESTONE, {"orderId": main, "note": note})
    courier = await mutate(
        supplier,
        DISPATCH_ORDER,
        {
            "orderId": main,
            "method": "COURIER",
            "carrier": m.courier_carrier,
            "trackingReference": m.courier_tracking,
            "trackingUrl": f"https://track.example/{m.courier_tracking}",
            "lines": [{"lineNo": 1, "quantity": 3}],
        },
    )
    own = await mutate(
        supplier,
        DISPATCH_ORDER,
        {
            "orderId": main,
            "method": "OWN_DRIVER",
            "carrier": m.own_driver_carrier,
            "trackingReference": m.own_driver_reference,
            "trackingUrl": m.own_driver_url,
        },
    )
    receipt: dict[str, Any] = {
        "lines": [{"lineNo": 1, "quantity": 3}, {"lineNo": 2, "quantity": 2}]
    }
    if m.receipt_note is not None:
        receipt["note"] = m.receipt_note
    received = await mutate(buyer, RECEIVE_DELIVERY, {"orderId": main, **receipt})
    invoice = await mutate(
        supplier,
        SUBMIT_INVOICE,
        {
            "orderId": main,
            "number": m.invoice_number,
            "lines": [
                {"lineNo": 1, "quantity": 3, "unitPrice": m.unit_price},
                {"lineNo": 2, "quantity": 2, "unitPrice": m.second_unit_price},
            ],
        },
    )
    assert invoice["total"] == m.order_total
    [courier_shipment] = courier["shipments"]
    own_driver = next(s for s in own["shipments"] if s["method"] == "OWN_DRIVER")
    return Delivered(
        order_id=main,
        number=order["number"],
        courier_shipment=courier_shipment["id"],
        own_driver_shipment=own_driver["id"],
        receipt=received["receipts"][0]["id"],
        invoice=invoice["id"],
    )


async def cancel_after_acknowledgement(
    buyer: GraphQL,
    supplier: GraphQL,
    order_id: str,
    *,
    promised: str,
    reason: str,
    milestone_note: str | None = None,
) -> None:
    """Acknowledged (and a milestone, if noted), then cancelled by the buyer."""
    await mutate(supplier, ACKNOWLEDGE_ORDER, {"orderId": order_id, "promisedDate": promised})
    if milestone_note is not None:
        await mutate(supplier, ADD_MILESTONE, {"orderId": order_id, "note": milestone_note})
    await mutate(buyer, CANCEL_ORDER, {"orderId": order_id, "reason": reason})


async def add_buyer_notes(
    db: Database,
    order_id: str,
    now: datetime,
    notes: Sequence[tuple[str, frozenset[NoteAudience]]],
) -> None:
    """The buyer's NOTE events on ``order_id``, each ``(note, audience)``: a kind no
    mutation writes, inserted as the audit trail's writer would (the order's next seqs,
    the org's next feed positions)."""
    async with db.write_session() as session, session.begin():
        order = await session.get_one(models.Order, order_id)
        last = await session.scalar(
            select(func.max(models.OrderEvent.seq)).where(models.OrderEvent.order_id == order_id)
        )
        first = await next_positions(session, order.org, len(notes))
        for n, (note, audience) in enumerate(notes):
            session.add(
                models.OrderEvent(
                    id=new_id("evt"),
                    org=order.org,
                    order_id=order_id,
                    seq=(last or 0) + 1 + n,
                    at=now,
                    stage=order.stage,
                    kind="NOTE",
                    actor_role="buyer",
                    actor_subject="buyer-user@org-a",
                    note=note,
                    promised_date=None,
                    note_audience=audience,
                    position=first + n,
                )
            )
