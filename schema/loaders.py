"""Per-request DataLoaders: one batched, scoped query per relation per level.

Relations come from the registry (``schema.relations``): ``of(relation)`` is that
relation's DataLoader for this request. Each batch opens its own session: graphql-core
resolves sibling fields concurrently and an ``AsyncSession`` must not be shared
between tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from db import alerts as alert_rules
from db import models
from db.engine import Database
from db.queries import orders as order_queries
from db.queries import scorecard as scorecard_queries
from db.queries import settings as settings_queries
from db.queries.page import Page
from db.scope import Scope
from schema.relations import Fetch, Relation

T = TypeVar("T")
K = TypeVar("K")
G = TypeVar("G")


async def fetch_orders(
    session: AsyncSession, scope: Scope, keys: list[str]
) -> dict[str, models.Order]:
    """Orders by id, within scope: the rows behind ``order(id:)``, ``Alert.order`` and
    every mutation payload."""
    return await order_queries.orders_by_ids(session=session, scope=scope, ids=keys)


class SharedLoader(DataLoader[K, T]):
    """A DataLoader whose futures outlive any one awaiter.

    Fields that ask for the same key share one future. graphql-core cancels a field's
    pending siblings when a non-null error bubbles up (``gather_with_cancel``); awaiting
    the shared future directly would cancel it for every other field waiting on it,
    in other branches of the response too. Each awaiter gets its own shield instead.
    """

    def load(self, key: K) -> Awaitable[T]:
        return asyncio.shield(super().load(key))


class Loaders:
    """The request's DataLoaders: one per registered relation, plus the batched lookups
    that are not relations of one parent (orders by id, party pages, scorecards)."""

    def __init__(self, db: Database, scope: Scope, now: datetime) -> None:
        self._db = db
        self._scope = scope
        self._now = now
        self._relations: dict[Fetch, DataLoader[str, Any]] = {}
        # id(loader) -> (its fetch, the value of a key the fetch does not return)
        self._fetchers: dict[int, tuple[Fetch, Any]] = {}
        self.order_by_id: DataLoader[str, models.Order | None] = self.of_fetch(fetch_orders)
        self.thresholds: DataLoader[str, models.AlertThresholds | None] = self._by_id(
            lambda s, scope, keys: settings_queries.thresholds_for_orgs(
                session=s, scope=scope, ids=keys
            )
        )
        # (column, party id, size, backward): a party's first (or last) page of orders.
        self.party_orders: DataLoader[tuple[str, str, int, bool], Page[models.Order]] = (
            SharedLoader(load_fn=self._party_orders)
        )
        self.party_order_counts: DataLoader[tuple[str, str], int] = SharedLoader(
            load_fn=self._party_order_counts
        )
        self.scorecards: DataLoader[tuple[str, int], scorecard_queries.Scorecard] = SharedLoader(
            load_fn=self._scorecards
        )
        # The org's alert thresholds once loaded: outlook and alerts then resolve
        # synchronously.
        self.known_thresholds: alert_rules.Thresholds | None = None
        self._batched: dict[str, DataLoader[Any, Any]] = {}

    def of(self, relation: Relation) -> DataLoader[str, Any]:
        """The DataLoader of ``relation``'s rows for this request (relations that fetch
        the same rows share it)."""
        return self.of_fetch(relation.fetch, many=relation.many)

    def of_fetch(self, fetch: Fetch, *, many: bool = False) -> DataLoader[str, Any]:
        loader = self._relations.get(fetch)
        if loader is None:
            loader = self._by_id(fetch, [] if many else None)
            self._relations[fetch] = loader
        return loader

    def batched(
        self, name: str, load_fn: Callable[[list[K]], Awaitable[list[T]]]
    ) -> DataLoader[K, T]:
        """An uncached DataLoader made once per request under ``name``: calls made in the
        same tick reach ``load_fn`` together (the first caller's ``load_fn`` is kept)."""
        if name not in self._batched:
            self._batched[name] = SharedLoader(load_fn=load_fn, cache=False)
        return self._batched[name]

    async def fetch_all(
        self, requests: Sequence[tuple[DataLoader[Any, Any], Sequence[Any]]]
    ) -> list[dict[Any, Any]]:
        """Batched loads of several loaders' keys, bypassing per-key futures; each loader
        is primed, so later ``load`` calls for the same keys issue no query.

        In turn on ONE session: on SQLite each statement is a hop to the connection's
        thread; on PostgreSQL a statement is one round trip either way, and a session
        per relation (six at once per dashboard) outgrew the pool under load, opening a
        new server connection per request.
        """
        async with self._db.read_session() as session:
            return [await self._fetch(session, loader, keys) for loader, keys in requests]

    async def _fetch(
        self, session: AsyncSession, loader: DataLoader[Any, Any], keys: Sequence[Any]
    ) -> dict[Any, Any]:
        unique = list(dict.fromkeys(keys))
        fetch, default = self._fetchers[id(loader)]
        found = await fetch(session, self._scope, unique) if unique else {}
        values = {k: found.get(k, _copy(default)) for k in unique}
        loader.prime_many(values)
        return values

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

    def _by_id(self, fetch: Fetch, default: Any = None) -> DataLoader[str, Any]:
        """A DataLoader over ``fetch`` ({key: value}); keys it does not return get
        ``default`` (None, or [] for a list relation)."""

        async def load(keys: list[str]) -> list[Any]:
            async with self._db.read_session() as session:
                found = await fetch(session, self._scope, keys)
            return [found.get(k, _copy(default)) for k in keys]

        loader: DataLoader[str, Any] = SharedLoader(load_fn=load)
        self._fetchers[id(loader)] = (fetch, default)
        return loader

    async def _party_orders(
        self, keys: list[tuple[str, str, int, bool]]
    ) -> list[Page[models.Order]]:
        """Keys (column, party id, size, backward): one windowed query per
        (column, size, backward)."""
        found: dict[tuple[str, str, int, bool], Page[models.Order]] = {}
        for (column, first, backward), ids in _group(
            keys, lambda k: (k[0], k[2], k[3]), lambda k: k[1]
        ):
            async with self._db.read_session() as session:
                pages = await order_queries.first_orders_by_party(
                    session=session,
                    scope=self._scope,
                    column=column,
                    party_ids=ids,
                    first=first,
                    backward=backward,
                )
            found.update({(column, pid, first, backward): page for pid, page in pages.items()})
        return [found[k] for k in keys]

    async def _party_order_counts(self, keys: list[tuple[str, str]]) -> list[int]:
        found: dict[tuple[str, str], int] = {}
        for (column,), ids in _group(keys, lambda k: (k[0],), lambda k: k[1]):
            async with self._db.read_session() as session:
                counts = await order_queries.order_counts_by_party(
                    session=session, scope=self._scope, column=column, party_ids=ids
                )
            found.update({(column, pid): n for pid, n in counts.items()})
        return [found[k] for k in keys]

    async def _scorecards(self, keys: list[tuple[str, int]]) -> list[scorecard_queries.Scorecard]:
        """Keys (supplier id, window days): one query per distinct window."""
        found: dict[tuple[str, int], scorecard_queries.Scorecard] = {}
        for (days,), ids in _group(keys, lambda k: (k[1],), lambda k: k[0]):
            async with self._db.read_session() as session:
                cards = await scorecard_queries.supplier_scorecards(
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


def _copy(default: Any) -> Any:
    """A fresh empty list per key (callers may extend what they get)."""
    return [] if isinstance(default, list) else default


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
