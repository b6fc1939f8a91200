"""Relay-style connections with keyset pagination and a lazy ``totalCount``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from db import models, queries
from db.queries import OrderFilter, OrderSort
from schema.context import Info
from schema.cursors import decode, encode
from schema.errors import PublicError
from schema.loaders import prime_orders
from schema.prefetch import prefetch_orders, selected_names
from schema.types import Client, Order, PageInfo, Supplier

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size(first: int | None, *, default: int = DEFAULT_PAGE) -> int:
    if first is None:
        return default
    if not 0 <= first <= MAX_PAGE:
        raise PublicError(f"first must be between 0 and {MAX_PAGE}.")
    return first


@strawberry.type
class OrderEdge:
    cursor: str
    node: Order


@strawberry.type
class OrderConnection:
    edges: list[OrderEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="Orders matching the filter that the caller may see.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type
class SupplierEdge:
    cursor: str
    node: Supplier


@strawberry.type
class SupplierConnection:
    edges: list[SupplierEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type
class ClientEdge:
    cursor: str
    node: Client


@strawberry.type
class ClientConnection:
    edges: list[ClientEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


def _page_info(cursors: list[str], page: queries.Page[Any]) -> PageInfo:
    return PageInfo(
        has_next_page=page.has_next,
        has_previous_page=page.has_previous,
        start_cursor=cursors[0] if cursors else None,
        end_cursor=cursors[-1] if cursors else None,
    )


async def order_connection(
    info: Info,
    *,
    first: int | None,
    after: str | None,
    flt: OrderFilter | None,
    sort: OrderSort,
) -> OrderConnection:
    size = page_size(first)
    after_id = decode(after, sort.value) if after is not None else None
    ctx = info.context
    page = await ctx.loaders.session_run(
        lambda s: queries.list_orders(
            session=s, scope=ctx.scope, first=size, after_id=after_id, flt=flt, sort=sort
        )
    )

    async def count() -> int:
        return await ctx.loaders.session_run(
            lambda s: queries.count_orders(session=s, scope=ctx.scope, flt=flt)
        )

    return await _orders(info, page, sort, count)


async def _orders(
    info: Info,
    page: queries.Page[models.Order],
    sort: OrderSort,
    count: Callable[[], Awaitable[int]],
) -> OrderConnection:
    prime_orders(info.context.loaders, page.items)
    cursors = [encode(sort.value, o.id) for o in page.items]
    nodes = [Order.from_row(o) for o in page.items]
    await prefetch_orders(info, nodes, selected_names(info, ("edges", "node")))
    return OrderConnection(
        edges=[OrderEdge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        page_info=_page_info(cursors, page),
        count=count,
    )


async def party_order_connection(
    info: Info, *, column: str, party_id: str, first: int | None, after: str | None
) -> OrderConnection:
    """A supplier's or client's orders, newest first. First pages of many parents load
    in one batched query (and their counts in another), so nesting costs no N+1."""
    if after is not None:  # a later page of one parent: its own keyset query
        flt = (
            OrderFilter(supplier_id=party_id)
            if column == "supplier_id"
            else OrderFilter(client_id=party_id)
        )
        return await order_connection(
            info, first=first, after=after, flt=flt, sort=OrderSort.ISSUED_AT_DESC
        )
    size = page_size(first)
    loaders = info.context.loaders
    page = await loaders.party_orders.load((column, party_id, size))

    async def count() -> int:
        return await loaders.party_order_counts.load((column, party_id))

    return await _orders(info, page, OrderSort.ISSUED_AT_DESC, count)


async def _name_ordered(
    info: Info,
    first: int | None,
    after: str | None,
    list_rows: Callable[..., Awaitable[queries.Page[Any]]],
    count_rows: Callable[..., Awaitable[int]],
) -> tuple[list[str], queries.Page[Any], Callable[[], Awaitable[int]]]:
    """A page of suppliers or clients by name, its cursors and a lazy count."""
    size = page_size(first)
    after_id = decode(after, "NAME") if after is not None else None
    ctx = info.context
    page = await ctx.loaders.session_run(
        lambda s: list_rows(session=s, scope=ctx.scope, first=size, after_id=after_id)
    )

    async def count() -> int:
        return await ctx.loaders.session_run(lambda s: count_rows(session=s, scope=ctx.scope))

    return [encode("NAME", r.id) for r in page.items], page, count


async def supplier_connection(
    info: Info, *, first: int | None, after: str | None
) -> SupplierConnection:
    cursors, page, count = await _name_ordered(
        info, first, after, queries.list_suppliers, queries.count_suppliers
    )
    return SupplierConnection(
        edges=[
            SupplierEdge(cursor=c, node=Supplier.from_row(r))
            for c, r in zip(cursors, page.items, strict=True)
        ],
        page_info=_page_info(cursors, page),
        count=count,
    )


async def client_connection(
    info: Info, *, first: int | None, after: str | None
) -> ClientConnection:
    cursors, page, count = await _name_ordered(
        info, first, after, queries.list_clients, queries.count_clients
    )
    return ClientConnection(
        edges=[
            ClientEdge(cursor=c, node=Client.from_row(r))
            for c, r in zip(cursors, page.items, strict=True)
        ],
        page_info=_page_info(cursors, page),
        count=count,
    )
