"""The hub: who in this process listens to the feed, and what each one receives.

Listeners come in two kinds:

* streams (``entries``): one consumer reading every entry of an org — the plain
  Strawberry subscription resolvers, the tracking page's server-sent events;
* groups: WebSocket subscribers with the same audience (role and party), document and
  variables. An entry is projected once per group (``schema.live.project``) and the
  one payload goes to every member, so the work grows with events and audiences, not
  with subscribers (Hasura's multiplexing, without the polling).

Replay-then-live: a listener that asks for ``after`` registers first (live entries
are buffered from that moment), then replays the log after ``after``, then takes the
buffer, skipping what the replay already gave. Every committed entry is in the log or
in the buffer, and positions dedupe the overlap: no gap, no duplicate, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from graphql import ExecutionResult

from db import feed
from db.clock import Clock
from db.engine import Database
from db.feed import FeedEntry
from db.queries import relations
from db.scope import Scope
from permissions.principal import Principal
from schema.context import make_context
from schema.execute import format_error
from schema.live import LiveOperation, execute_for, executor_for, source_of, visible

if TYPE_CHECKING:
    from app.pipeline import Prepared

log = logging.getLogger("handoff.hub")

QUEUE_LIMIT = 1000  # entries a listener may fall behind before it is cut off
REPLAY_BATCH = 500

Send = Callable[[bytes], Awaitable[None]]


class Overflow(Exception):
    """A listener fell too far behind; it should resubscribe with ``after``."""


@dataclass(eq=False)
class _Listener:
    """One consumer's ordered queue, with the replay hand-over."""

    queue: asyncio.Queue[tuple[int, Any] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_LIMIT + 1)
    )
    buffering: bool = False
    buffer: list[tuple[int, Any]] = field(default_factory=list)
    delivered: int = -1  # the last position handed on
    overflowed: bool = False

    def offer(self, position: int, item: Any) -> None:
        if self.overflowed:
            return
        if self.buffering:
            self.buffer.append((position, item))
            if len(self.buffer) > QUEUE_LIMIT:
                self._overflow()
            return
        if position <= self.delivered:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            self._overflow()
            return
        self.delivered = position
        self.queue.put_nowait((position, item))

    def go_live(self, replayed_up_to: int) -> None:
        """The replay has handed on everything up to ``replayed_up_to``: take the
        buffer (what is not older) and continue live. No await here: nothing can be
        offered between the last replayed entry and the switch."""
        self.delivered = max(self.delivered, replayed_up_to)
        self.buffering = False
        pending, self.buffer = self.buffer, []
        for position, item in pending:
            self.offer(position, item)

    def _overflow(self) -> None:
        self.overflowed = True
        self.buffer.clear()
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)


@dataclass(eq=False)
class Member:
    """A WebSocket subscription in a group: its id on the socket and its sender."""

    sub_id: str
    send: Send
    listener: _Listener = field(default_factory=_Listener)


@dataclass(eq=False)
class Group:
    """Subscribers that receive exactly the same payloads."""

    key: tuple[Any, ...]
    prepared: Prepared  # the document all of them run, validated for their role
    principal: Principal
    operation: LiveOperation
    members: set[Member] = field(default_factory=set)

    @property
    def scope(self) -> Scope:
        return self.principal.scope


class Hub:
    """Implements ``schema.context.LiveSource`` and the WebSocket fan-out."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        watch: Callable[[str], Awaitable[None]],
        unwatch: Callable[[str], None],
    ) -> None:
        self._db = db
        self._clock = clock
        self._watch = watch
        self._unwatch = unwatch
        self._streams: dict[str, set[_Listener]] = {}
        self._groups: dict[str, dict[tuple[Any, ...], Group]] = {}
        self.projections = 0  # executions of a document for an entry, for the bench

    # --- what the relay hands on ---------------------------------------------------

    async def dispatch(self, org: str, entries: list[FeedEntry]) -> None:
        """Hand a batch of the org's entries (in position order) to every listener.

        Groups project concurrently, each with one context for the whole batch, so the
        relations a document asks for (``order { ... }``) load in one batched read per
        group and batch; every member then gets the payloads in position order."""
        for listener in list(self._streams.get(org, ())):
            for entry in entries:
                listener.offer(entry.position, entry)
        groups = list(self._groups.get(org, {}).values())
        projected = await asyncio.gather(*(self._project_batch(g, entries) for g in groups))
        for group, payloads in zip(groups, projected, strict=True):
            for position, payload in payloads:
                for member in list(group.members):
                    member.listener.offer(position, payload)

    async def _project_batch(
        self, group: Group, entries: list[FeedEntry]
    ) -> list[tuple[int, bytes]]:
        wanted = [e for e in entries if visible(group.scope, e, group.operation)]
        if not wanted or not group.members:
            return []
        now = self._clock()
        context = make_context(
            principal=group.principal, db=self._db, now=now, request_id=uuid.uuid4().hex, live=self
        )
        prepared = group.prepared
        executor = executor_for(
            prepared.schema,
            prepared.document,
            operation_name=prepared.operation_name,
            variables=prepared.variables,
            context=context,
        )
        self.projections += len(wanted)
        results = await asyncio.gather(*(execute_for(executor, source_of(e, now)) for e in wanted))
        return [
            (e.position, _payload(result, context.request_id))
            for e, result in zip(wanted, results, strict=True)
        ]

    def total(self) -> int:
        """Every stream and group member listening in this process."""
        return sum(self.listeners(org) for org in set(self._streams) | set(self._groups))

    def listeners(self, org: str) -> int:
        """How many streams and group members listen to ``org`` (tests wait on it)."""
        groups = self._groups.get(org, {}).values()
        return len(self._streams.get(org, ())) + sum(len(g.members) for g in groups)

    # --- streams: LiveSource ----------------------------------------------------------

    async def entries(self, org: str, *, after: int | None) -> AsyncIterator[FeedEntry]:
        listener = _Listener(buffering=after is not None)
        await self._watch(org)
        self._streams.setdefault(org, set()).add(listener)
        try:
            if after is not None:
                # Everything up to ``after`` counts as handed on even when the replay
                # finds nothing newer: a buffered entry at or before it is not news.
                replayed = after
                async for entry in self._replay(org, after):
                    yield entry
                    replayed = entry.position
                listener.go_live(replayed)
            while True:
                item = await listener.queue.get()
                if item is None:
                    raise Overflow("fell too far behind the feed")
                yield item[1]
        finally:
            self._streams[org].discard(listener)
            self._forget(org)

    async def position_of(self, scope: Scope, event_id: str) -> int | None:
        async with self._db.read_session() as session:
            position = await feed.event_position(session, org=scope.org, event_id=event_id)
            if position is None:
                return None
            # The caller must be able to see the event (the same rule as reading it).
            found = await relations.events_by_ids(session=session, scope=scope, ids=[event_id])
        return position if event_id in found else None

    async def _replay(self, org: str, after: int) -> AsyncIterator[FeedEntry]:
        cursor = after
        while True:
            async with self._db.read_session() as session:
                batch = await feed.read(session, org=org, after=cursor, limit=REPLAY_BATCH)
            for entry in batch:
                yield entry
                cursor = entry.position
            if len(batch) < REPLAY_BATCH:
                return

    # --- groups: the WebSocket fan-out --------------------------------------------------

    async def subscribe(
        self,
        *,
        prepared: Prepared,
        principal: Principal,
        operation: LiveOperation,
        after: int | None,
        member: Member,
    ) -> None:
        """Serve ``member`` until cancelled: replay (if ``after``), then live."""
        scope = principal.scope
        key = (
            scope.role,
            scope.client_id,
            scope.supplier_id,
            scope.order_id,
            id(prepared.document),
            prepared.operation_name,
            orjson.dumps(prepared.variables or {}, option=orjson.OPT_SORT_KEYS),
        )
        org = scope.org
        await self._watch(org)
        groups = self._groups.setdefault(org, {})
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, prepared, principal, operation)
        listener = member.listener
        listener.buffering = after is not None
        group.members.add(member)
        try:
            if after is not None:
                replayed = after
                async for entry in self._replay(org, after):
                    replayed = entry.position
                    if visible(scope, entry, operation):
                        await member.send(self._frame(member, await self._project(group, entry)))
                listener.go_live(replayed)
            while True:
                item = await listener.queue.get()
                if item is None:
                    raise Overflow("fell too far behind the feed")
                await member.send(self._frame(member, item[1]))
        finally:
            group.members.discard(member)
            if not group.members:
                groups.pop(key, None)
            self._forget(org)

    async def _project(self, group: Group, entry: FeedEntry) -> bytes:
        """One execution of the group's document for ``entry`` (a replay)."""
        [(_, payload)] = await self._project_batch(group, [entry])
        return payload

    @staticmethod
    def _frame(member: Member, payload: bytes) -> bytes:
        return (
            b'{"type":"next","id":' + orjson.dumps(member.sub_id) + b',"payload":' + payload + b"}"
        )

    def _forget(self, org: str) -> None:
        if not self._streams.get(org) and not self._groups.get(org):
            self._streams.pop(org, None)
            self._groups.pop(org, None)
            self._unwatch(org)


def _payload(result: ExecutionResult, request_id: str) -> bytes:
    """A ``next`` message's payload: the data, and errors as a query would show them."""
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [format_error(e, request_id) for e in result.errors]
    return orjson.dumps(body)
