"""The parties around an order: the supplier that makes the parts and the client (the
buyer's own customer) that receives them."""

from __future__ import annotations

from typing import Any

import strawberry

from db import models
from db.queries import parties as q
from schema.context import Info
from schema.errors import PublicError
from schema.order_pages import party_order_connection
from schema.pagination import Connection, window
from schema.relations import relation
from schema.types.common import FromRow, Node, copy_fields
from schema.types.order import Order


@strawberry.type(description="How a supplier has kept its promises over a window.")
class SupplierScorecard:
    window_days: int
    orders: int
    median_hours_to_acknowledge: float | None
    on_time_dispatch_rate: float | None = strawberry.field(
        description="Share (0-1) of dispatched orders that left by their promised date."
    )
    promise_slips: int


@strawberry.type(description="A company that makes parts for the buyer.")
class Supplier(Node, FromRow):
    name: str
    contact_email: str | None

    @strawberry.field(description="Performance over orders issued in the last windowDays.")
    async def scorecard(self, info: Info, window_days: int = 90) -> SupplierScorecard:
        if not 1 <= window_days <= 3660:
            raise PublicError("windowDays must be between 1 and 3660.")
        card = await info.context.loaders.scorecards.load((str(self.id), window_days))
        return copy_fields(SupplierScorecard, card, window_days=window_days)

    @strawberry.field(description="This supplier's orders, newest first.")
    async def orders(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Order]:
        page = window(info, first=first, after=after, last=last, before=before)
        return await party_order_connection(
            info, column="supplier_id", party_id=str(self.id), window=page
        )


@strawberry.type(description="The buyer's own customer, who watches delivery progress.")
class Client(Node, FromRow):
    name: str
    contact_email: str | None = strawberry.field(
        default=None, description="Who at the client hears of dispatches by e-mail."
    )

    @strawberry.field(description="This client's orders, newest first.")
    async def orders(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Order]:
        page = window(info, first=first, after=after, last=last, before=before)
        return await party_order_connection(
            info, column="client_id", party_id=str(self.id), window=page
        )


async def _suppliers(session: Any, scope: Any, keys: list[str]) -> dict[str, models.Supplier]:
    return await q.suppliers_by_ids(session=session, scope=scope, ids=keys)


async def _clients(session: Any, scope: Any, keys: list[str]) -> dict[str, models.Client]:
    return await q.clients_by_ids(session=session, scope=scope, ids=keys)


relation(
    "Order",
    "supplier",
    fetch=_suppliers,
    key=lambda order: order.supplier_id,
    wrap=Supplier.from_row,
    many=False,
)
relation(
    "Order",
    "client",
    fetch=_clients,
    key=lambda order: order.client_id,
    wrap=Client.from_row,
    many=False,
)
relation("Node", "Supplier", fetch=_suppliers, key=str, wrap=Supplier.from_row, many=False)
relation("Node", "Client", fetch=_clients, key=str, wrap=Client.from_row, many=False)
