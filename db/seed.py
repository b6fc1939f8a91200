"""Fast bulk demo data: orders in every stage, with events, shipments, receipts and
invoices consistent with their stage. Core ``insert`` executemany in chunks.

Long because one order's rows (lines, events, shipments, receipts, invoices) are
generated together so they stay consistent with its stage; split, each part would
need the others' state.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.engine import Database
from db.feed import next_positions
from db.ids import new_id, po_number
from db.models import Awaiting, Client, Order, OrderStage, ShipmentMethod, Supplier

# Share of orders per stage: most are open, some closed, a few declined/cancelled.
STAGE_WEIGHTS = {
    OrderStage.ISSUED: 12,
    OrderStage.ACKNOWLEDGED: 12,
    OrderStage.IN_PRODUCTION: 20,
    OrderStage.DISPATCHED: 16,
    OrderStage.DELIVERED: 30,
    OrderStage.CLOSED: 2,
    OrderStage.DECLINED: 3,
    OrderStage.CANCELLED: 5,
}
SUPPLIER_NAMES = [
    "Northwind Machining",
    "Apex Sheet Metal",
    "Riverside Castings",
    "Keystone Plastics",
    "Summit Fasteners",
    "Harbor Fabrication",
    "Pinecrest Electronics",
    "Ironbridge Forge",
]
CLIENT_NAMES = [
    "Contoso Robotics",
    "Fabrikam Medical",
    "Tailspin Aerospace",
    "Wingtip Energy",
    "Litware Instruments",
    "Adatum Automotive",
]
PARTS = ["BRKT", "HSG", "SHAFT", "PLATE", "GEAR", "PCB", "FLANGE", "COVER", "PIN", "SPRING"]
CHUNK = 2000


@dataclass
class SeedResult:
    org: str
    orders: int
    suppliers: list[str]
    clients: list[str]


@dataclass
class _Rows:
    orders: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    shipments: list[dict[str, Any]] = field(default_factory=list)
    shipment_lines: list[dict[str, Any]] = field(default_factory=list)
    receipts: list[dict[str, Any]] = field(default_factory=list)
    receipt_lines: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    invoice_lines: list[dict[str, Any]] = field(default_factory=list)


class _OrderBuilder:
    def __init__(self, rng: random.Random, org: str, now: datetime, rows: _Rows) -> None:
        self.rng = rng
        self.org = org
        self.now = now
        self.rows = rows
        self.taken: set[str] = set()

    def event(
        self,
        order: dict[str, Any],
        at: datetime,
        stage: OrderStage,
        kind: str,
        actor: tuple[str, str],
        note: str | None = None,
        promised: date | None = None,
        *,
        enters: bool = False,
    ) -> None:
        """An event on ``order``; ``enters``: the order enters ``stage`` with it."""
        if enters:
            order["stage_entered_at"] = at
        order["_seq"] += 1
        self.rows.events.append(
            dict(
                id=new_id("evt"),
                org=self.org,
                order_id=order["id"],
                seq=order["_seq"],
                at=at,
                stage=stage,
                kind=kind,
                actor_role=actor[0],
                actor_subject=actor[1],
                note=note,
                promised_date=promised,
                note_audience=frozenset(),  # buyer notes stay the buyer's alone
            )
        )

    def number(self, day: date) -> str:
        """A PO number as ``issue_order`` gives one (random, so it counts nothing),
        reproducible from the seed and unique in the org."""
        while True:
            number = po_number(day, self.rng.randrange)
            if number not in self.taken:
                self.taken.add(number)
                return number

    def build(self, supplier_id: str, client_id: str | None, stage: OrderStage) -> None:
        rng, now = self.rng, self.now
        order_id = new_id("ord")
        issued = now - timedelta(days=rng.uniform(0.5, 120), minutes=rng.randint(0, 600))
        # Closed orders are older than open ones, so their later steps fit before now.
        if stage in (OrderStage.DELIVERED, OrderStage.DISPATCHED, OrderStage.CLOSED):
            issued = now - timedelta(days=rng.uniform(20, 150))
        need_by = (issued + timedelta(days=rng.randint(14, 60))).date()
        lines: list[dict[str, Any]] = []
        for line_no in range(1, rng.randint(1, 5) + 1):
            qty = rng.choice([5, 10, 20, 25, 50, 100, 250])
            price = Decimal(rng.randint(150, 250_000)).scaleb(-2)
            lines.append(
                dict(
                    order_id=order_id,
                    line_no=line_no,
                    org=self.org,
                    part_number=f"{rng.choice(PARTS)}-{rng.randint(1000, 9999)}",
                    description=None,
                    quantity=qty,
                    unit_price=price,
                    dispatched_quantity=0,
                    received_quantity=0,
                    rejected_quantity=0,
                    cancelled_quantity=0,
                )
            )
        order: dict[str, Any] = dict(
            id=order_id,
            org=self.org,
            number=self.number(issued.date()),
            stage=stage,
            supplier_id=supplier_id,
            client_id=client_id,
            client_reference=f"CR-{rng.randint(10000, 99999)}" if client_id else None,
            currency="EUR",
            total=sum((ln["unit_price"] * ln["quantity"] for ln in lines), Decimal(0)),
            terms="Net 30",
            lead_time_days=rng.randint(7, 45),
            need_by=need_by,
            promised_date=None,
            first_promised_date=None,
            promise_slips=0,
            promise_changed_at=None,
            issued_at=issued,
            acknowledged_at=None,
            production_started_at=None,
            dispatched_at=None,
            delivered_at=None,
            closed_at=None,
            stage_entered_at=issued,
            internal_note=None,
            version=1,
            created_by="seed",
            revision=1,
            awaiting=Awaiting.ACKNOWLEDGEMENT if stage is OrderStage.ISSUED else Awaiting.NOTHING,
            _seq=0,
        )
        buyer, supplier = ("buyer", "buyer@seed"), ("supplier", f"shop@{supplier_id}")
        self.event(order, issued, OrderStage.ISSUED, "ISSUED", buyer)
        self.rows.revisions.append(
            dict(
                order_id=order_id,
                number=1,
                org=self.org,
                at=issued,
                actor_role=buyer[0],
                actor_subject=buyer[1],
                reason=None,
                reason_audience=frozenset(),
                changes=[],
            )
        )
        t = issued
        if stage is OrderStage.DECLINED:
            t = self._step(t, now, 2, 60)
            self.event(
                order, t, OrderStage.DECLINED, "DECLINED", supplier, "capacity full", enters=True
            )
            order["closed_at"] = t
        shipped = (OrderStage.DISPATCHED, OrderStage.DELIVERED, OrderStage.CLOSED)
        if stage in (OrderStage.ACKNOWLEDGED, OrderStage.IN_PRODUCTION, *shipped):
            t = self._step(t, now, 1, 72)
            promised = need_by + timedelta(days=rng.choice([0, 0, 0, -3, 2, 7]))
            order.update(
                promised_date=promised,
                first_promised_date=promised,
                acknowledged_at=t,
                promise_changed_at=t,
            )
            self.event(
                order,
                t,
                OrderStage.ACKNOWLEDGED,
                "ACKNOWLEDGED",
                supplier,
                promised=promised,
                enters=True,
            )
        if stage in (OrderStage.IN_PRODUCTION, *shipped):
            t = self._step(t, now, 4, 200)
            order["production_started_at"] = t
            self.event(
                order, t, OrderStage.IN_PRODUCTION, "PRODUCTION_STARTED", supplier, enters=True
            )
            if rng.random() < 0.5:
                t = self._step(t, now, 2, 48)
                self.event(
                    order, t, OrderStage.IN_PRODUCTION, "MILESTONE", supplier, "material ordered"
                )
            if rng.random() < 0.2:  # a slip: the promise moves later, with a reason
                t = self._step(t, now, 2, 48)
                later = order["promised_date"] + timedelta(days=rng.randint(2, 10))
                order.update(promised_date=later, promise_changed_at=t)
                order["promise_slips"] += 1
                self.event(
                    order,
                    t,
                    OrderStage.IN_PRODUCTION,
                    "PROMISE_UPDATED",
                    supplier,
                    "material arrived late",
                    later,
                )
        if stage is OrderStage.CANCELLED:
            t = self._step(t, now, 1, 100)
            self.event(
                order,
                t,
                OrderStage.CANCELLED,
                "CANCELLED",
                buyer,
                "client changed the design",
                enters=True,
            )
            order["closed_at"] = t
        if stage in shipped:
            t = self._step(t, now, 24, 400)
            order["dispatched_at"] = t
            self._ship(order, lines, t)
            self.event(order, t, OrderStage.DISPATCHED, "DISPATCHED", supplier, enters=True)
        if stage is OrderStage.DELIVERED:
            t = self._step(t, now, 12, 200)
            self._receive(order, lines, t, buyer)
            order["delivered_at"] = t
            order["closed_at"] = t
            self.event(order, t, OrderStage.DELIVERED, "DELIVERED", buyer, enters=True)
            if rng.random() < 0.6:
                self._invoice(order, lines, t + timedelta(hours=rng.randint(1, 72)))
        if stage is OrderStage.CLOSED:  # the last line came short; the rest will not come
            t = self._step(t, now, 12, 200)
            self._receive(order, lines, t, buyer, short=True)
            t = self._step(t, now, 1, 48)
            order["closed_at"] = t
            for ln in lines:
                ln["cancelled_quantity"] = ln["quantity"] - ln["received_quantity"]
            self.event(order, t, OrderStage.CLOSED, "CLOSED", buyer, "rest lost", enters=True)
        # As the commands do: every change is a version; the DELIVERED event shares
        # its version with the receipt that completed the order.
        order["version"] = order["_seq"] - (1 if stage is OrderStage.DELIVERED else 0)
        del order["_seq"]
        self.rows.orders.append(order)
        self.rows.lines.extend(lines)

    def _step(self, t: datetime, now: datetime, lo: float, hi: float) -> datetime:
        nxt = t + timedelta(hours=self.rng.uniform(lo, hi))
        return min(nxt, now - timedelta(minutes=1))

    def _paper(
        self, rows: list[dict[str, Any]], prefix: str, order: dict[str, Any], **fields: Any
    ) -> str:
        """A shipment, receipt or invoice of ``order`` added to ``rows``; returns its id."""
        paper_id = new_id(prefix)
        rows.append(dict(id=paper_id, org=self.org, order_id=order["id"], **fields))
        return paper_id

    def _line(
        self, parent: str, parent_id: str, ln: dict[str, Any], **fields: Any
    ) -> dict[str, Any]:
        """The row of order line ``ln`` on a shipment, receipt or invoice."""
        return {parent: parent_id, "line_no": ln["line_no"], "org": self.org, **fields}

    def _ship(self, order: dict[str, Any], lines: list[dict[str, Any]], at: datetime) -> None:
        method = self.rng.choice(list(ShipmentMethod))
        shipment_id = self._paper(
            self.rows.shipments,
            "shp",
            order,
            method=method,
            carrier=None
            if method is ShipmentMethod.OWN_DRIVER
            else self.rng.choice(["DHL", "UPS", "DB Schenker", "Kuehne+Nagel"]),
            tracking_reference=f"TRK{self.rng.randint(10**8, 10**9)}",
            tracking_url=None,
            dispatched_at=at,
        )
        for ln in lines:
            ln["dispatched_quantity"] = ln["quantity"]
            self.rows.shipment_lines.append(
                self._line(
                    "shipment_id", shipment_id, ln, order_id=order["id"], quantity=ln["quantity"]
                )
            )

    def _receive(
        self,
        order: dict[str, Any],
        lines: list[dict[str, Any]],
        at: datetime,
        buyer: tuple[str, str],
        short: bool = False,
    ) -> None:
        receipt_id = self._paper(
            self.rows.receipts,
            "rcp",
            order,
            received_at=at,
            actor_subject=buyer[1],
            note=None,
            note_audience=frozenset(),
        )
        for ln in lines:
            ln["received_quantity"] = ln["quantity"]
            if short and ln is lines[-1]:
                ln["received_quantity"] = ln["quantity"] // 2
            accepted = dict(
                quantity=ln["received_quantity"], rejected_quantity=0, reject_reason=None
            )
            self.rows.receipt_lines.append(
                self._line("receipt_id", receipt_id, ln, order_id=order["id"], **accepted)
            )
        self.event(order, at, OrderStage.DISPATCHED, "RECEIVED", buyer)

    def _invoice(self, order: dict[str, Any], lines: list[dict[str, Any]], at: datetime) -> None:
        number = f"INV-{order['number'][3:]}"
        invoice_id = self._paper(
            self.rows.invoices,
            "inv",
            order,
            supplier_id=order["supplier_id"],
            number=number,
            submitted_at=min(at, self.now),
            total=order["total"],
        )
        self.event(
            order,
            min(at, self.now),
            OrderStage.DELIVERED,
            "INVOICE_SUBMITTED",
            ("supplier", f"shop@{order['supplier_id']}"),
            f"invoice {number}",
        )
        for ln in lines:
            self.rows.invoice_lines.append(
                self._line(
                    "invoice_id",
                    invoice_id,
                    ln,
                    quantity=ln["quantity"],
                    unit_price=ln["unit_price"],
                )
            )


async def seed(
    *,
    db: Database,
    org: str,
    orders: int,
    suppliers: int,
    clients: int,
    seed: int,
    now: datetime,
) -> SeedResult:
    """Add ``orders`` to ``org`` in one transaction, among ``suppliers`` suppliers and
    ``clients`` clients. Seeding an org again reuses its suppliers and clients (oldest
    first) and adds only the ones missing, so re-seeding never duplicates them."""
    if orders < 0 or suppliers < 1 or clients < 0:
        raise ValueError("need orders >= 0, suppliers >= 1, clients >= 0")
    rng = random.Random(seed)
    rows = _Rows()
    stages = list(STAGE_WEIGHTS)
    weights = list(STAGE_WEIGHTS.values())
    async with db.write_session() as session, session.begin():
        existing = await session.scalar(
            select(func.count()).select_from(Order).where(Order.org == org)
        )
        supplier_ids = await _party_ids(session, Supplier, org, suppliers)
        client_ids = await _party_ids(session, Client, org, clients)
        supplier_rows: list[dict[str, Any]] = [
            dict(
                id=new_id("sup"),
                org=org,
                name=_numbered(SUPPLIER_NAMES, i),
                contact_email=f"orders{i + 1}@supplier.example",
                created_at=now,
            )
            for i in range(len(supplier_ids), suppliers)
        ]
        client_rows: list[dict[str, Any]] = [
            dict(id=new_id("cli"), org=org, name=_numbered(CLIENT_NAMES, i), created_at=now)
            for i in range(len(client_ids), clients)
        ]
        supplier_ids += [row["id"] for row in supplier_rows]
        client_ids += [row["id"] for row in client_rows]
        builder = _OrderBuilder(rng, org, now, rows)
        if existing:
            builder.taken.update(
                await session.scalars(select(Order.number).where(Order.org == org))
            )
        for _ in range(orders):
            client = rng.choice(client_ids) if client_ids and rng.random() < 0.8 else None
            builder.build(
                rng.choice(supplier_ids),
                client,
                rng.choices(stages, weights)[0],
            )
        # The org's feed takes the events in the order they happened.
        rows.events.sort(key=lambda e: (e["at"], e["order_id"], e["seq"]))
        if rows.events:
            first = await next_positions(session, org, len(rows.events))
            for offset, event in enumerate(rows.events):
                event["position"] = first + offset
        for name, data in (
            ("suppliers", supplier_rows),
            ("clients", client_rows),
            ("orders", rows.orders),
            ("order_lines", rows.lines),
            ("order_revisions", rows.revisions),
            ("order_events", rows.events),
            ("shipments", rows.shipments),
            ("shipment_lines", rows.shipment_lines),
            ("receipts", rows.receipts),
            ("receipt_lines", rows.receipt_lines),
            ("invoices", rows.invoices),
            ("invoice_lines", rows.invoice_lines),
        ):
            # Core insert on the Table: executemany without the ORM's per-row work.
            table = Base.metadata.tables[name]
            for start in range(0, len(data), CHUNK):
                await session.execute(insert(table), data[start : start + CHUNK])
    # Fresh statistics after a bulk load, or the planner guesses (PostgreSQL estimated
    # one row per alert kind at 100,000 orders and picked slow plans).
    async with db.write_engine.begin() as conn:
        await conn.execute(text("ANALYZE"))
    return SeedResult(org=org, orders=orders, suppliers=supplier_ids, clients=client_ids)


def _numbered(names: list[str], i: int) -> str:
    return names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "")


async def _party_ids(
    session: AsyncSession, model: type[Supplier] | type[Client], org: str, wanted: int
) -> list[str]:
    """The ids of up to ``wanted`` of the org's existing suppliers (or clients), oldest first."""
    found = await session.scalars(
        select(model.id).where(model.org == org).order_by(model.created_at, model.id).limit(wanted)
    )
    return list(found)
