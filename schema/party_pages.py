"""Pages of suppliers and clients, by name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from db.queries import parties as queries
from db.queries.page import Page
from schema.context import Info
from schema.cursors import encode
from schema.pagination import Connection, Window, keyset_page, page_connection
from schema.types.parties import Client, Supplier


async def _name_ordered(
    info: Info,
    window: Window,
    list_rows: Callable[..., Awaitable[Page[Any]]],
    count_rows: Callable[..., Awaitable[int]],
) -> tuple[list[str], Page[Any], Callable[[], Awaitable[int]]]:
    """A page of suppliers or clients by name, its cursors and a lazy count."""
    ctx = info.context
    page = await keyset_page(info, window, "NAME", list_rows)

    async def count() -> int:
        return await ctx.loaders.session_run(lambda s: count_rows(session=s, scope=ctx.scope))

    return [encode("NAME", r.id) for r in page.items], page, count


async def supplier_connection(info: Info, *, window: Window) -> Connection[Supplier]:
    cursors, page, count = await _name_ordered(
        info, window, queries.list_suppliers, queries.count_suppliers
    )
    return page_connection(page, [Supplier.from_row(r) for r in page.items], cursors, count)


async def client_connection(info: Info, *, window: Window) -> Connection[Client]:
    cursors, page, count = await _name_ordered(
        info, window, queries.list_clients, queries.count_clients
    )
    return page_connection(page, [Client.from_row(r) for r in page.items], cursors, count)
