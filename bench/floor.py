"""The floor: the buyer dashboard's data fetched with hand-written SQLAlchemy Core and
serialised with orjson; no GraphQL, no ORM objects, no DataLoaders.

It answers the same question as ``documents.DASHBOARD`` for a buyer and returns the same
bytes' worth of JSON (the harness checks that both decode to equal values), so the
ratio between the two is the cost of the GraphQL layer and its safety checks.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import select

from db import alerts as rules
from db.engine import Database
from db.models import AlertThresholds, Client, Order, OrderEvent, OrderLine, Shipment, Supplier
from db.money import format_money
from schema.cursors import encode

SORT = "ISSUED_AT_DESC"


def _dt(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _d(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(value: Decimal) -> str:
    return format_money(value)


async def dashboard(db: Database, org: str, first: int, now: datetime) -> bytes:
    o = Order.__table__.c
    async with db.engine.connect() as conn:
        orders = (
            await conn.execute(
                select(
                    o.id,
                    o.number,
                    o.stage,
                    o.client_reference,
                    o.currency,
                    o.total,
                    o.need_by,
                    o.promised_date,
                    o.issued_at,
                    o.stage_entered_at,
                    o.version,
                    o.supplier_id,
                    o.client_id,
                    o.first_promised_date,
                    o.promise_changed_at,
                )
                .where(o.org == org)
                .order_by(o.issued_at.desc(), o.id.desc())
                .limit(first + 1)
            )
        ).all()
        has_next = len(orders) > first
        orders = orders[:first]
        ids = [o.id for o in orders]

        s = Supplier.__table__.c
        suppliers = {
            r.id: {"id": r.id, "name": r.name}
            for r in await conn.execute(
                select(s.id, s.name).where(s.org == org, s.id.in_({o.supplier_id for o in orders}))
            )
        }
        c = Client.__table__.c
        clients = {
            r.id: {"id": r.id, "name": r.name}
            for r in await conn.execute(
                select(c.id, c.name).where(
                    c.org == org, c.id.in_({o.client_id for o in orders if o.client_id})
                )
            )
        }
        ln = OrderLine.__table__.c
        lines: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for line in await conn.execute(
            select(
                ln.order_id,
                ln.line_no,
                ln.part_number,
                ln.description,
                ln.quantity,
                ln.unit_price,
                ln.dispatched_quantity,
                ln.received_quantity,
            )
            .where(ln.org == org, ln.order_id.in_(ids))
            .order_by(ln.order_id, ln.line_no)
        ):
            lines[line.order_id].append(
                {
                    "lineNo": line.line_no,
                    "partNumber": line.part_number,
                    "description": line.description,
                    "quantity": line.quantity,
                    "unitPrice": _money(line.unit_price),
                    "lineTotal": _money(line.unit_price * line.quantity),
                    "dispatchedQuantity": line.dispatched_quantity,
                    "receivedQuantity": line.received_quantity,
                }
            )
        sh = Shipment.__table__.c
        shipments: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for ship in await conn.execute(
            select(
                sh.order_id,
                sh.id,
                sh.method,
                sh.carrier,
                sh.tracking_reference,
                sh.tracking_url,
                sh.dispatched_at,
            )
            .where(sh.org == org, sh.order_id.in_(ids))
            .order_by(sh.order_id, sh.dispatched_at, sh.id)
        ):
            shipments[ship.order_id].append(
                {
                    "id": ship.id,
                    "method": ship.method.value,
                    "carrier": ship.carrier,
                    "trackingReference": ship.tracking_reference,
                    "trackingUrl": ship.tracking_url,
                    "dispatchedAt": _dt(ship.dispatched_at),
                }
            )
        ev = OrderEvent.__table__.c
        events: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        for event in await conn.execute(
            select(
                ev.order_id,
                ev.at,
                ev.stage,
                ev.kind,
                ev.actor_role,
                ev.actor_subject,
                ev.note,
                ev.promised_date,
            )
            .where(ev.org == org, ev.order_id.in_(ids))
            .order_by(ev.order_id, ev.seq)
        ):
            events[event.order_id].append(
                {
                    "at": _dt(event.at),
                    "stage": event.stage.value,
                    "kind": event.kind,
                    "actorRole": event.actor_role,
                    "actorSubject": event.actor_subject,
                    "note": event.note,
                    "promisedDate": _d(event.promised_date),
                }
            )
        t = AlertThresholds.__table__.c
        row = (
            await conn.execute(
                select(
                    t.acknowledge_within_hours,
                    t.start_production_within_hours,
                    t.deliver_within_hours,
                ).where(t.org == org)
            )
        ).first()
    thresholds = rules.Thresholds(*row) if row is not None else rules.Thresholds()

    edges = []
    for order in orders:
        facts = rules.OrderFacts(
            order.id,
            order.number,
            order.stage,
            order.stage_entered_at,
            order.need_by,
            order.promised_date,
            order.first_promised_date,
            order.promise_changed_at,
        )
        edges.append(
            {
                "cursor": encode(SORT, order.id),
                "node": {
                    "id": order.id,
                    "number": order.number,
                    "stage": order.stage.value,
                    "clientReference": order.client_reference,
                    "currency": order.currency,
                    "total": _money(order.total),
                    "needBy": _d(order.need_by),
                    "promisedDate": _d(order.promised_date),
                    "issuedAt": _dt(order.issued_at),
                    "stageEnteredAt": _dt(order.stage_entered_at),
                    "version": order.version,
                    "outlook": rules.outlook_for(facts, thresholds, now).value,
                    "supplier": suppliers.get(order.supplier_id),
                    "client": clients.get(order.client_id) if order.client_id else None,
                    "lines": lines.get(order.id, []),
                    "shipments": shipments.get(order.id, []),
                    "events": events.get(order.id, []),
                    "alerts": [
                        {
                            "kind": a.kind.value,
                            "stage": a.stage.value,
                            "since": _dt(a.since),
                            "ageHours": a.age_hours,
                            "thresholdHours": a.threshold_hours,
                            "message": a.message,
                        }
                        for a in rules.alerts_for(facts, thresholds, now)
                    ],
                },
            }
        )
    page = {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": has_next,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
    }
    return orjson.dumps({"data": {"orders": page}})
