"""Suppliers and clients: lookups and name-ordered keyset pages, within scope."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Client, Supplier
from db.queries.page import Page
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


async def list_suppliers(
    *, session: AsyncSession, scope: Scope, first: int, after_id: str | None = None
) -> Page[Supplier]:
    stmt = select(Supplier).where(supplier_scope(scope))
    if after_id is not None:
        # The anchor is looked up within scope: an out-of-scope id must read like a
        # made-up one, or pages would reveal where hidden names sort.
        anchor = (
            select(Supplier.name)
            .where(supplier_scope(scope), Supplier.id == after_id)
            .scalar_subquery()
        )
        stmt = stmt.where(
            or_(Supplier.name > anchor, and_(Supplier.name == anchor, Supplier.id > after_id))
        )
    rows = list(
        (await session.scalars(stmt.order_by(Supplier.name, Supplier.id).limit(first + 1))).all()
    )
    return Page(items=rows[:first], has_next=len(rows) > first, has_previous=after_id is not None)


async def count_suppliers(*, session: AsyncSession, scope: Scope) -> int:
    stmt = select(func.count()).select_from(Supplier).where(supplier_scope(scope))
    return int((await session.scalar(stmt)) or 0)


async def list_clients(
    *, session: AsyncSession, scope: Scope, first: int, after_id: str | None = None
) -> Page[Client]:
    stmt = select(Client).where(client_scope(scope))
    if after_id is not None:
        anchor = (
            select(Client.name).where(client_scope(scope), Client.id == after_id).scalar_subquery()
        )
        stmt = stmt.where(
            or_(Client.name > anchor, and_(Client.name == anchor, Client.id > after_id))
        )
    rows = list(
        (await session.scalars(stmt.order_by(Client.name, Client.id).limit(first + 1))).all()
    )
    return Page(items=rows[:first], has_next=len(rows) > first, has_previous=after_id is not None)


async def count_clients(*, session: AsyncSession, scope: Scope) -> int:
    stmt = select(func.count()).select_from(Client).where(client_scope(scope))
    return int((await session.scalar(stmt)) or 0)
