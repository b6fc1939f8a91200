"""Per-request DataLoaders: one batched, scoped query per relation per level.

Each batch opens its own session: graphql-core resolves sibling fields
concurrently and an ``AsyncSession`` must not be shared between tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db import alerts as alert_rules
from db import models, queries
from db.engine import Database
from db.scope import Scope

T = TypeVar("T")


class Loaders:
    """Every relation the schema resolves, batched by parent key."""

    def __init__(self, db: Database, scope: Scope, now: datetime) -> None:
        self._db = db
        self._scope = scope
        self._now = now
        self._fetchers: dict[int, Callable[[AsyncSession, list[Any]], Awaitable[list[Any]]]] = {}
        self.order_by_id = self._one(queries.orders_by_ids)
        self.supplier_by_id = self._one(queries.suppliers_by_ids)
        self.client_by_id = self._one(queries.clients_by_ids)
        self.shipment_by_id = self._one(queries.shipments_by_ids)
        self.lines_by_order: DataLoader[str, list[Row[Any]]] = self._many(
            queries.lines_for_orders, "order_ids"
        )
        self.events_by_order: DataLoader[str, list[Row[Any]]] = self._many(
            queries.events_for_orders, "order_ids"
        )
        self.shipments_by_order: DataLoader[str, list[Row[Any]]] = self._many(
            queries.shipments_for_orders, "order_ids"
        )
        self.shipment_lines: DataLoader[str, list[models.ShipmentLine]] = self._many(
            queries.shipment_lines_for, "shipment_ids"
        )
        self.receipts_by_order: DataLoader[str, list[models.Receipt]] = self._many(
            queries.receipts_for_orders, "order_ids"
        )
        self.receipt_lines: DataLoader[str, list[models.ReceiptLine]] = self._many(
            queries.receipt_lines_for, "receipt_ids"
        )
        self.invoices_by_order: DataLoader[str, list[models.Invoice]] = self._many(
            queries.invoices_for_orders, "order_ids"
        )
        self.invoice_lines: DataLoader[str, list[models.InvoiceLine]] = self._many(
            queries.invoice_lines_for, "invoice_ids"
        )
        self.thresholds: DataLoader[str, models.AlertThresholds | None] = self._one(
            queries.thresholds_for_orgs
        )
        self.party_orders: DataLoader[tuple[str, str, int], queries.Page[models.Order]] = (
            DataLoader(load_fn=self._party_orders)
        )
        self.party_order_counts: DataLoader[tuple[str, str], int] = DataLoader(
            load_fn=self._party_order_counts
        )
        self.scorecards: DataLoader[tuple[str, int], queries.Scorecard] = DataLoader(
            load_fn=self._scorecards
        )
        # The org's alert thresholds once loaded: outlook and alerts then resolve
        # synchronously.
        self.known_thresholds: alert_rules.Thresholds | None = None
        self._batched: dict[str, DataLoader[Any, Any]] = {}

    def batched(
        self, name: str, load_fn: Callable[[list[K]], Awaitable[list[T]]]
    ) -> DataLoader[K, T]:
        """An uncached DataLoader made once per request under ``name``: calls made in the
        same tick reach ``load_fn`` together (the first caller's ``load_fn`` is kept)."""
        if name not in self._batched:
            self._batched[name] = DataLoader(load_fn=load_fn, cache=False)
        return self._batched[name]

    async def fetch_all(
        self, requests: Sequence[tuple[DataLoader[Any, Any], Sequence[Any]]]
    ) -> list[dict[Any, Any]]:
        """Batched loads of several loaders' keys, bypassing per-key futures; each loader
        is primed, so later ``load`` calls for the same keys issue no query.

        SQLite: in turn on ONE session (each statement is a hop to the connection's
        thread; one connection saves a pool checkout and reset per relation).
        PostgreSQL: concurrently, each on its own pooled connection (a round trip each).
        """
        if self._db.is_sqlite:
            async with self._db.read_session() as session:
                return [await self._fetch(session, loader, keys) for loader, keys in requests]

        async def alone(loader: DataLoader[Any, Any], keys: Sequence[Any]) -> dict[Any, Any]:
            async with self._db.read_session() as session:
                return await self._fetch(session, loader, keys)

        return list(await asyncio.gather(*(alone(loader, keys) for loader, keys in requests)))

    async def _fetch(
        self, session: AsyncSession, loader: DataLoader[Any, Any], keys: Sequence[Any]
    ) -> dict[Any, Any]:
        unique = list(dict.fromkeys(keys))
        values = await self._fetchers[id(loader)](session, unique) if unique else []
        found = dict(zip(unique, values, strict=True))
        loader.prime_many(found)
        return found

    @property
    def org(self) -> str:
        return self._scope.org

    @property
    def now(self) -> datetime:
        return self._now

    def thresholds_known(self, row: models.AlertThresholds | None) -> alert_rules.Thresholds:
        self.known_thresholds = alert_rules.Thresholds.of(row)
        return self.known_thresholds

    async def org_thresholds(self) -> alert_rules.Thresholds:
        if self.known_thresholds is None:
            return self.thresholds_known(await self.thresholds.load(self._scope.org))
        return self.known_thresholds

    def _loader(
        self, in_session: Callable[[AsyncSession, list[str]], Awaitable[list[T]]]
    ) -> DataLoader[str, T]:
        async def load(keys: list[str]) -> list[T]:
            async with self._db.read_session() as session:
                return await in_session(session, keys)

        loader: DataLoader[str, T] = DataLoader(load_fn=load)
        self._fetchers[id(loader)] = in_session
        return loader

    def _one(self, fetch: Callable[..., Awaitable[Mapping[str, T]]]) -> DataLoader[str, T | None]:
        async def in_session(session: AsyncSession, keys: list[str]) -> list[T | None]:
            found = await fetch(session=session, scope=self._scope, ids=keys)
            return [found.get(k) for k in keys]

        return self._loader(in_session)

    def _many(
        self, fetch: Callable[..., Awaitable[Mapping[str, list[T]]]], arg: str
    ) -> DataLoader[str, list[T]]:
        async def in_session(session: AsyncSession, keys: list[str]) -> list[list[T]]:
            kwargs: dict[str, Any] = {arg: list(keys)}
            grouped = await fetch(session=session, scope=self._scope, **kwargs)
            return [list(grouped.get(k, ())) for k in keys]

        return self._loader(in_session)

    async def _party_orders(
        self, keys: list[tuple[str, str, int]]
    ) -> list[queries.Page[models.Order]]:
        """Keys (column, party id, first): one windowed query per (column, first)."""
        found: dict[tuple[str, str, int], queries.Page[models.Order]] = {}
        for (column, first), ids in _group(keys, lambda k: (k[0], k[2]), lambda k: k[1]):
            async with self._db.read_session() as session:
                pages = await queries.first_orders_by_party(
                    session=session,
                    scope=self._scope,
                    column=column,
                    party_ids=ids,
                    first=first,
                )
            found.update({(column, pid, first): page for pid, page in pages.items()})
        return [found[k] for k in keys]

    async def _party_order_counts(self, keys: list[tuple[str, str]]) -> list[int]:
        found: dict[tuple[str, str], int] = {}
        for (column,), ids in _group(keys, lambda k: (k[0],), lambda k: k[1]):
            async with self._db.read_session() as session:
                counts = await queries.order_counts_by_party(
                    session=session, scope=self._scope, column=column, party_ids=ids
                )
            found.update({(column, pid): n for pid, n in counts.items()})
        return [found[k] for k in keys]

    async def _scorecards(self, keys: list[tuple[str, int]]) -> list[queries.Scorecard]:
        """Keys (supplier id, window days): one query per distinct window."""
        found: dict[tuple[str, int], queries.Scorecard] = {}
        for (days,), ids in _group(keys, lambda k: (k[1],), lambda k: k[0]):
            async with self._db.read_session() as session:
                cards = await queries.supplier_scorecards(
                    session=session,
                    scope=self._scope,
                    supplier_ids=ids,
                    since=self._now - timedelta(days=days),
                )
            found.update({(sid, days): card for sid, card in cards.items()})
        return [found[k] for k in keys]

    async def session_run(self, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run one ad-hoc read (a page, a count) on a session of its own."""
        async with self._db.read_session() as session:
            return await fn(session)


K = TypeVar("K")
G = TypeVar("G")


def _group(
    keys: Sequence[K], by: Callable[[K], G], item: Callable[[K], str]
) -> list[tuple[G, list[str]]]:
    groups: dict[G, list[str]] = {}
    for key in keys:
        bucket = groups.setdefault(by(key), [])
        if item(key) not in bucket:
            bucket.append(item(key))
    return list(groups.items())


def prime_orders(loaders: Loaders, orders: Sequence[models.Order]) -> None:
    for order in orders:
        loaders.order_by_id.prime(order.id, order)
