"""The parties around an order: the supplier that makes the parts and the client (the
buyer's own customer) that receives them."""

from __future__ import annotations

import strawberry

from db.queries import parties as q
from schema.context import Info
from schema.errors import PublicError
from schema.order_pages import party_orders
from schema.relations import batched, by_id, owner
from schema.types.common import FromRow, Node, copy_fields


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

    orders = party_orders("supplier_id", description="This supplier's orders, newest first.")


@strawberry.type(description="The buyer's own customer, who watches delivery progress.")
class Client(Node, FromRow):
    name: str
    contact_email: str | None = strawberry.field(
        default=None, description="Who at the client hears of dispatches by e-mail."
    )

    orders = party_orders("client_id", description="This client's orders, newest first.")


# One fetch each for the relation and the lookup by id: they share one load.
_suppliers = batched(q.suppliers_by_ids, "ids")
_clients = batched(q.clients_by_ids, "ids")

owner("Order", "supplier", _suppliers, column="supplier_id", wrap=Supplier.from_row)
owner("Order", "client", _clients, column="client_id", wrap=Client.from_row)
by_id("Node", "Supplier", _suppliers, Supplier.from_row)
by_id("Node", "Client", _clients, Client.from_row)
