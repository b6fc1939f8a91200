"""Per-request DataLoaders: one batched, scoped query per relation per level.

Each batch opens its own session: graphql-core resolves sibling fields
concurrently and an ``AsyncSession`` must not be shared between tasks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db import models, queries
from db.engine import Database
from db.scope import Scope

T = TypeVar("T")


class Loaders:
    """Every relation the schema resolves, batched by parent key."""

    def __init__(self, db: Database, scope: Scope) -> None:
        self._db = db
        self._scope = scope
        self.order_by_id = self._one(queries.orders_by_ids)
        self.supplier_by_id = self._one(queries.suppliers_by_ids)
        self.client_by_id = self._one(queries.clients_by_ids)
        self.shipment_by_id = self._one(queries.shipments_by_ids)
        self.lines_by_order: DataLoader[str, list[models.OrderLine]] = self._many(
            queries.lines_for_orders, "order_ids"
        )
        self.events_by_order: DataLoader[str, list[models.OrderEvent]] = self._many(
            queries.events_for_orders, "order_ids"
        )
        self.shipments_by_order: DataLoader[str, list[models.Shipment]] = self._many(
            queries.shipments_for_orders, "order_ids"
        )
        self.shipment_lines: DataLoader[str, list[models.ShipmentLine]] = self._many(
            queries.shipment_lines_for, "shipment_ids"
        )
        self.receipts_by_order: DataLoader[str, list[models.Receipt]] = self._many(
            queries.receipts_for_orders, "order_ids"
        )
        self.receipt_lines: DataLoader[str, list[models.ReceiptLine]] = self._many(
            queries.receipt_lines_for, "receipt_ids"
        )
        self.invoices_by_order: DataLoader[str, list[models.Invoice]] = self._many(
            queries.invoices_for_orders, "order_ids"
        )
        self.invoice_lines: DataLoader[str, list[models.InvoiceLine]] = self._many(
            queries.invoice_lines_for, "invoice_ids"
        )
        self.thresholds: DataLoader[str, models.AlertThresholds | None] = self._one(
            queries.thresholds_for_orgs
        )

    def _one(self, fetch: Callable[..., Awaitable[Mapping[str, T]]]) -> DataLoader[str, T | None]:
        async def load(keys: list[str]) -> list[T | None]:
            async with self._db.read_session() as session:
                found = await fetch(session=session, scope=self._scope, ids=keys)
            return [found.get(k) for k in keys]

        return DataLoader(load_fn=load)

    def _many(
        self, fetch: Callable[..., Awaitable[Mapping[str, list[T]]]], arg: str
    ) -> DataLoader[str, list[T]]:
        async def load(keys: list[str]) -> list[list[T]]:
            kwargs: dict[str, Any] = {arg: list(keys)}
            async with self._db.read_session() as session:
                grouped = await fetch(session=session, scope=self._scope, **kwargs)
            return [list(grouped.get(k, ())) for k in keys]

        return DataLoader(load_fn=load)

    async def session_run(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run one ad-hoc read (a page, a count) on a session of its own."""
        async with self._db.read_session() as session:
            return await fn(session)


def prime_orders(loaders: Loaders, orders: Sequence[models.Order]) -> None:
    for order in orders:
        loaders.order_by_id.prime(order.id, order)
