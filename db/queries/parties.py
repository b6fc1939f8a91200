"""Suppliers and clients: lookups and name-ordered keyset pages, within scope."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Client, Supplier
from db.queries.page import Page, keyset_page
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
    stmt = select(model).where(in_scope)
    for anchor_id, later in ((after_id, True), (before_id, False)):
        if anchor_id is None:
            continue
        # The anchor is looked up within scope: an out-of-scope id must read like a
        # made-up one, or pages would reveal where hidden names sort.
        anchor = select(model.name).where(in_scope, model.id == anchor_id).scalar_subquery()
        if later:
            stmt = stmt.where(
                or_(model.name > anchor, and_(model.name == anchor, model.id > anchor_id))
            )
        else:
            stmt = stmt.where(
                or_(model.name < anchor, and_(model.name == anchor, model.id < anchor_id))
            )
    order_by = (model.name.desc(), model.id.desc()) if backward else (model.name, model.id)
    rows = list((await session.scalars(stmt.order_by(*order_by).limit(first + 1))).all())
    return keyset_page(rows, first, backward=backward, after=after_id, before=before_id)


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
