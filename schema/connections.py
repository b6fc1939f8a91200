"""Relay-style connections with keyset pagination and a lazy ``totalCount``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry

from db import queries
from db.queries import OrderFilter, OrderSort
from schema.context import Info
from schema.cursors import decode, encode
from schema.errors import PublicError
from schema.loaders import prime_orders
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


def _page_info(cursors: list[str], page: queries.Page[object]) -> PageInfo:
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
    prime_orders(ctx.loaders, page.items)
    cursors = [encode(sort.value, o.id) for o in page.items]

    async def count() -> int:
        return await ctx.loaders.session_run(
            lambda s: queries.count_orders(session=s, scope=ctx.scope, flt=flt)
        )

    return OrderConnection(
        edges=[
            OrderEdge(cursor=c, node=Order.from_row(o))
            for c, o in zip(cursors, page.items, strict=True)
        ],
        page_info=_page_info(cursors, page),  # type: ignore[arg-type]
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
    prime_orders(loaders, page.items)
    cursors = [encode(OrderSort.ISSUED_AT_DESC.value, o.id) for o in page.items]

    async def count() -> int:
        return await loaders.party_order_counts.load((column, party_id))

    return OrderConnection(
        edges=[
            OrderEdge(cursor=c, node=Order.from_row(o))
            for c, o in zip(cursors, page.items, strict=True)
        ],
        page_info=_page_info(cursors, page),  # type: ignore[arg-type]
        count=count,
    )


async def supplier_connection(
    info: Info, *, first: int | None, after: str | None
) -> SupplierConnection:
    size = page_size(first)
    after_id = decode(after, "NAME") if after is not None else None
    ctx = info.context
    page = await ctx.loaders.session_run(
        lambda s: queries.list_suppliers(session=s, scope=ctx.scope, first=size, after_id=after_id)
    )
    cursors = [encode("NAME", r.id) for r in page.items]

    async def count() -> int:
        return await ctx.loaders.session_run(
            lambda s: queries.count_suppliers(session=s, scope=ctx.scope)
        )

    return SupplierConnection(
        edges=[
            SupplierEdge(cursor=c, node=Supplier.from_row(r))
            for c, r in zip(cursors, page.items, strict=True)
        ],
        page_info=_page_info(cursors, page),  # type: ignore[arg-type]
        count=count,
    )


async def client_connection(
    info: Info, *, first: int | None, after: str | None
) -> ClientConnection:
    size = page_size(first)
    after_id = decode(after, "NAME") if after is not None else None
    ctx = info.context
    page = await ctx.loaders.session_run(
        lambda s: queries.list_clients(session=s, scope=ctx.scope, first=size, after_id=after_id)
    )
    cursors = [encode("NAME", r.id) for r in page.items]

    async def count() -> int:
        return await ctx.loaders.session_run(
            lambda s: queries.count_clients(session=s, scope=ctx.scope)
        )

    return ClientConnection(
        edges=[
            ClientEdge(cursor=c, node=Client.from_row(r))
            for c, r in zip(cursors, page.items, strict=True)
        ],
        page_info=_page_info(cursors, page),  # type: ignore[arg-type]
        count=count,
    )
