"""Suppliers and clients: lookups and name-ordered keyset pages, within scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Client, Supplier
from db.queries.page import Page, read_keyset_page
from db.queries.scope import client_scope, supplier_scope
from db.scope import Scope


async def suppliers_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Supplier]:
    stmt = select(Supplier).where(supplier_scope(scope), Supplier.id.in_(list(set(ids))))
    return {s.id: s for s in await session.scalars(stmt)}


async def clients_by_ids(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, Client]:
    stmt = select(Client).where(client_scope(scope), Client.id.in_(list(set(ids))))
    return {c.id: c for c in await session.scalars(stmt)}


async def _by_name(
    session: AsyncSession,
    model: type[Supplier] | type[Client],
    in_scope: ColumnElement[bool],
    *,
    first: int,
    after_id: str | None,
    before_id: str | None,
    backward: bool,
) -> Page[Any]:
    """A keyset page of ``model`` by (name, id); backward reads from the end."""
    return await read_keyset_page(
        session,
        select(model).where(in_scope),
        key=model.name,
        id_column=model.id,
        descending=False,
        # Within scope: an out-of-scope id must read like a made-up one, or pages
        # would reveal where hidden names sort.
        anchor_key=lambda anchor_id: (
            select(model.name).where(in_scope, model.id == anchor_id).scalar_subquery()
        ),
        first=first,
        after_id=after_id,
        before_id=before_id,
        backward=backward,
    )


async def list_suppliers(
    *,
    session: AsyncSession,
    scope: Scope,
    first: int,
    after_id: str | None = None,
    before_id: str | None = None,
    backward: bool = False,
) -> Page[Supplier]:
    return await _by_name(
        session,
        Supplier,
        supplier_scope(scope),
        first=first,
        after_id=after_id,
        before_id=before_id,
        backward=backward,
    )


async def count_suppliers(*, session: AsyncSession, scope: Scope) -> int:
    stmt = select(func.count()).select_from(Supplier).where(supplier_scope(scope))
    return int((await session.scalar(stmt)) or 0)


async def list_clients(
    *,
    session: AsyncSession,
    scope: Scope,
    first: int,
    after_id: str | None = None,
    before_id: str | None = None,
    backward: bool = False,
) -> Page[Client]:
    return await _by_name(
        session,
        Client,
        client_scope(scope),
        first=first,
        after_id=after_id,
        before_id=before_id,
        backward=backward,
    )


async def count_clients(*, session: AsyncSession, scope: Scope) -> int:
    stmt = select(func.count()).select_from(Client).where(client_scope(scope))
    return int((await session.scalar(stmt)) or 0)
