"""Pages of orders: the ``orders`` list (filters, sorts, keyset cursors) and a party's
orders (``Supplier.orders``, ``Client.orders``, batched across parents). Each page
prefetches the relations its document selects (``schema.prefetch``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from db import models
from db.queries import orders as queries
from db.queries.orders import OrderFilter, OrderSort
from db.queries.page import Page
from schema.context import Info
from schema.cursors import encode
from schema.loaders import prime_orders
from schema.pagination import Connection, Window, connection_field, keyset_page, page_connection
from schema.prefetch import prefetch_orders, selected_names
from schema.types.order import Order


async def order_connection(
    info: Info,
    *,
    window: Window,
    flt: OrderFilter | None,
    sort: OrderSort,
) -> Connection[Order]:
    ctx = info.context
    page = await keyset_page(info, window, sort.value, queries.list_orders, flt=flt, sort=sort)

    async def count() -> int:
        return await ctx.loaders.session_run(
            lambda s: queries.count_orders(session=s, scope=ctx.scope, flt=flt)
        )

    return await _orders(info, page, sort, count)


async def _orders(
    info: Info,
    page: Page[models.Order],
    sort: OrderSort,
    count: Callable[[], Awaitable[int]],
) -> Connection[Order]:
    prime_orders(info.context.loaders, page.items)
    cursors = [encode(sort.value, o.id) for o in page.items]
    nodes = [Order.from_row(o) for o in page.items]
    await prefetch_orders(info, nodes, selected_names(info, ("edges", "node")))
    return page_connection(page, nodes, cursors, count)


async def party_order_connection(
    info: Info, *, column: str, party_id: str, window: Window
) -> Connection[Order]:
    """A supplier's or client's orders, newest first. First (or, backward, last) pages
    of many parents load in one batched query (and their counts in another), so nesting
    costs no N+1."""
    if window.cursor is not None:  # a later page of one parent: its own keyset query
        flt = (
            OrderFilter(supplier_id=party_id)
            if column == "supplier_id"
            else OrderFilter(client_id=party_id)
        )
        return await order_connection(info, window=window, flt=flt, sort=OrderSort.ISSUED_AT_DESC)
    loaders = info.context.loaders
    page = await loaders.party_orders.load((column, party_id, window.size, window.backward))

    async def count() -> int:
        return await loaders.party_order_counts.load((column, party_id))

    return await _orders(info, page, OrderSort.ISSUED_AT_DESC, count)


def party_orders(column: str, *, description: str) -> Any:
    """``Supplier.orders`` and ``Client.orders``: the party's orders, newest first."""
    return connection_field(
        Order,
        lambda party, info, page: party_order_connection(
            info, column=column, party_id=str(party.id), window=page
        ),
        description=description,
    )
