"""Suppliers and clients: lookups and name-ordered keyset pages, within scope."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar, Unpack

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Client, Supplier
from db.queries.page import KeysetWindow, Page, read_keyset_page
from db.queries.scope import client_scope, supplier_scope
from db.scope import Scope

Party = TypeVar("Party", Supplier, Client)


@dataclass(frozen=True)
class _Parties(Generic[Party]):
    """The reads suppliers and clients share, each kind within its own scope rule."""

    model: type[Party]
    in_scope: Callable[[Scope], ColumnElement[bool]]

    async def by_ids(
        self, *, session: AsyncSession, scope: Scope, ids: Iterable[str]
    ) -> dict[str, Party]:
        model = self.model
        stmt = select(model).where(self.in_scope(scope), model.id.in_(list(set(ids))))
        return {p.id: p for p in await session.scalars(stmt)}

    async def by_name(
        self, *, session: AsyncSession, scope: Scope, **window: Unpack[KeysetWindow]
    ) -> Page[Party]:
        """A keyset page by (name, id); backward reads from the end."""
        model, in_scope = self.model, self.in_scope(scope)
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
            **window,
        )

    async def count(self, *, session: AsyncSession, scope: Scope) -> int:
        stmt = select(func.count()).select_from(self.model).where(self.in_scope(scope))
        return int((await session.scalar(stmt)) or 0)


_SUPPLIERS = _Parties(Supplier, supplier_scope)
_CLIENTS = _Parties(Client, client_scope)

suppliers_by_ids = _SUPPLIERS.by_ids
list_suppliers = _SUPPLIERS.by_name
count_suppliers = _SUPPLIERS.count
clients_by_ids = _CLIENTS.by_ids
list_clients = _CLIENTS.by_name
count_clients = _CLIENTS.count
