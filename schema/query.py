"""Query root. Resolvers translate arguments and call scoped data-layer functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from db import alerts as alert_rules
from db import models
from db.ids import type_of
from db.queries import orders as queries
from db.queries.orders import OrderSort
from db.validation import money, no_nul
from permissions.policy import searchable_columns
from schema import relations
from schema.alert_pages import alert_connection, dashboard
from schema.context import Info
from schema.errors import PublicError
from schema.order_pages import order_connection
from schema.pagination import Connection, connection_field, window
from schema.party_pages import client_connection, supplier_connection
from schema.types.alerts import Alert, AlertThresholds, Dashboard
from schema.types.common import Node, Viewer
from schema.types.order import Order
from schema.types.parties import Client, Supplier
from schema.types.webhooks import WebhookEndpoint, endpoint_connection


@strawberry.input(description="Narrow the orders list. All given conditions must hold.")
class OrderFilter:
    stages: list[models.OrderStage] | None = None
    supplier_id: strawberry.ID | None = None
    client_id: strawberry.ID | None = None
    need_by_before: date | None = None
    need_by_after: date | None = None
    search: str | None = strawberry.field(
        default=None,
        description="Substring of a PO number or part number (or a client reference, where shown).",
    )
    min_total: Decimal | None = None
    has_alert: bool | None = strawberry.field(
        default=None, description="Only orders with (true) or without (false) an open alert."
    )


async def _db_filter(flt: OrderFilter | None, info: Info) -> queries.OrderFilter:
    columns = searchable_columns(info.context.principal.role)
    if flt is None:
        return queries.OrderFilter(search_columns=columns)
    predicate = None
    if flt.has_alert is not None:
        limits = await info.context.loaders.org_thresholds()
        predicate = alert_rules.any_condition(limits, info.context.now)
    search = flt.search.strip() if flt.search else None
    if search is not None and len(search) > 100:
        raise PublicError("search must be at most 100 characters.")
    if not no_nul(search):
        raise PublicError("search must not contain NUL characters.")
    if flt.min_total is not None and money(flt.min_total, ("min_total",)) is not None:
        raise PublicError("minTotal must be a non-negative amount with at most 4 decimals.")
    return queries.OrderFilter(
        stages=flt.stages,
        supplier_id=flt.supplier_id,
        client_id=flt.client_id,
        need_by_before=flt.need_by_before,
        need_by_after=flt.need_by_after,
        search=search or None,
        min_total=flt.min_total,
        search_columns=columns,
        has_alert=flt.has_alert,
        alert_predicate=predicate,
    )


@strawberry.type
class Query:
    @strawberry.field(description="The caller, as its token describes it.")
    def viewer(self, info: Info) -> Viewer:
        p = info.context.principal
        return Viewer(
            role=p.role.value,
            org=p.org,
            subject=p.subject,
            client_id=strawberry.ID(p.client_id) if p.client_id else None,
            supplier_id=strawberry.ID(p.supplier_id) if p.supplier_id else None,
        )

    @strawberry.field(description="Any object by ID; null when absent or out of scope.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        # A type missing from the caller's schema resolves to null, like an unknown id.
        type_name = type_of(str(id))
        if type_name is None or type_name not in info.schema._schema.type_map:
            return None
        try:
            relations.get("Node", type_name)
        except KeyError:  # a type without a lookup by id
            return None
        found: Node | None = await relations.resolve("Node", type_name, str(id), info)
        return found

    @strawberry.field(description="One order by ID; null when absent or out of scope.")
    async def order(self, info: Info, id: strawberry.ID) -> Order | None:
        if type_of(str(id)) != "Order":
            return None
        found: Order | None = await relations.resolve("Node", "Order", str(id), info)
        return found

    @strawberry.field(description="One order by its PO number; null when absent or out of scope.")
    async def order_by_number(self, info: Info, number: str) -> Order | None:
        if len(number) > 64 or not no_nul(number):  # no such number can exist
            return None
        ctx = info.context
        row = await ctx.loaders.session_run(
            lambda s: queries.order_by_number(session=s, scope=ctx.scope, number=number)
        )
        return Order.from_row(row) if row is not None else None

    @strawberry.field(description="Orders the caller may see, paginated by cursor.")
    async def orders(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: OrderFilter | None = None,
        order_by: OrderSort = OrderSort.ISSUED_AT_DESC,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Order]:
        page = window(info, first=first, after=after, last=last, before=before)
        return await order_connection(
            info, window=page, flt=await _db_filter(filter, info), sort=order_by
        )

    @strawberry.field(description="The caller's own party's webhook endpoints, newest first.")
    async def webhook_endpoints(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[WebhookEndpoint]:
        return await endpoint_connection(info, first=first, after=after)

    suppliers = connection_field(
        Supplier,
        lambda _, info, page: supplier_connection(info, window=page),
        description="Suppliers, by name.",
    )
    clients = connection_field(
        Client,
        lambda _, info, page: client_connection(info, window=page),
        description="Clients, by name.",
    )

    @strawberry.field(description="Open alerts, oldest first.")
    async def alerts(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        kind: alert_rules.AlertKind | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Alert]:
        page = window(info, first=first, after=after, last=last, before=before, default=50)
        return await alert_connection(info, window=page, kind=kind)

    @strawberry.field(description="Orders per stage and open alerts per kind.")
    async def dashboard(self, info: Info) -> Dashboard:
        return await dashboard(info)

    @strawberry.field(description="The organisation's alert thresholds, in hours.")
    async def alert_thresholds(self, info: Info) -> AlertThresholds:
        return AlertThresholds.of(await info.context.loaders.org_thresholds())
