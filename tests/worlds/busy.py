"""Busy worlds: organisations filled in bulk by the demo seed (``db.seed``), orders in
every stage with their lines, events, shipments, receipts, invoices and alerts. Where the
canary worlds are about which bytes reach whom, these are about volume: pages that hold
many orders, and scopes that cut through many.

``busy_org``       one org of 60 orders among 3 suppliers and 2 clients (no-N+1, the
                   connection pool).
``tenancy_world``  org A (40 orders) and org B (6, plus one made through the API whose
                   PO number is also an org-A order's), and every row of both as
                   ``OrderRow`` truth to compare responses with.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update

from conftest import GraphQL
from db import models
from db.engine import Database
from db.seed import SeedResult, seed
from graphql_support import CREATE_CLIENT, CREATE_SUPPLIER, ISSUE_ORDER, line_input, mutate


async def busy_org(db: Database, now: datetime, *, org: str = "org-a") -> SeedResult:
    """60 orders among 3 suppliers and 2 clients: a page of 50 holds orders in every
    stage and every relation, and alerts are raised."""
    return await seed(db=db, org=org, orders=60, suppliers=3, clients=2, seed=7, now=now)


@dataclass(frozen=True)
class OrderRow:
    id: str
    org: str
    number: str
    supplier_id: str
    client_id: str | None
    client_reference: str | None
    stage: str
    need_by: date
    total: Decimal
    parts: tuple[str, ...]


@dataclass
class TenancyWorld:
    a: SeedResult
    b: SeedResult
    orders: list[OrderRow]
    shipments: dict[str, str]  # shipment id -> order id
    suppliers: dict[str, str]  # supplier id -> org
    clients: dict[str, str]  # client id -> org


async def tenancy_world(db: Database, now: datetime, buyer_b: GraphQL) -> TenancyWorld:
    """Org A and org B seeded in bulk, and one more row of each kind in org B through the
    API (by ``buyer_b``, a buyer of org B), its order numbered like an org-A order."""
    a = await seed(db=db, org="org-a", orders=40, suppliers=3, clients=2, seed=7, now=now)
    b = await seed(db=db, org="org-b", orders=6, suppliers=2, clients=1, seed=3, now=now)
    supplier = await mutate(
        buyer_b, CREATE_SUPPLIER, {"name": "B-Only Foundry", "contactEmail": "hi@b-only.example"}
    )
    client = await mutate(buyer_b, CREATE_CLIENT, {"name": "B-Only Client"})
    issued = await mutate(
        buyer_b,
        ISSUE_ORDER,
        {
            "supplierId": supplier["id"],
            "clientId": client["id"],
            "clientReference": "CR-B-ONLY",
            "needBy": "2026-05-01",
            "currency": "EUR",
            "lines": [line_input("BRKT-0001", 2, "5.00")],
        },
    )
    # PO numbers are random per org; give this one an org-A order's number, so that a
    # number that exists in both organisations is looked up too.
    async with db.write_session() as session, session.begin():
        taken = await session.scalar(
            select(models.Order.number).where(models.Order.org == "org-a").limit(1)
        )
        await session.execute(
            update(models.Order).where(models.Order.number == issued["number"]).values(number=taken)
        )
    return await _load(db, a, b)


async def _load(db: Database, a: SeedResult, b: SeedResult) -> TenancyWorld:
    async with db.read_session() as session:
        parts: dict[str, list[str]] = {}
        for line in await session.scalars(select(models.OrderLine)):
            parts.setdefault(line.order_id, []).append(line.part_number)
        orders = [
            OrderRow(
                id=o.id,
                org=o.org,
                number=o.number,
                supplier_id=o.supplier_id,
                client_id=o.client_id,
                client_reference=o.client_reference,
                stage=o.stage.value,
                need_by=o.need_by,
                total=o.total,
                parts=tuple(parts.get(o.id, ())),
            )
            for o in await session.scalars(select(models.Order))
        ]
        shipments = {s.id: s.order_id for s in await session.scalars(select(models.Shipment))}
        suppliers = {s.id: s.org for s in await session.scalars(select(models.Supplier))}
        clients = {c.id: c.org for c in await session.scalars(select(models.Client))}
    return TenancyWorld(a, b, orders, shipments, suppliers, clients)
