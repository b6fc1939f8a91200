"""Random walks through the lifecycle (hypothesis.stateful), straight through the
commands in ``db.commands`` on a real database.

Random roles (the buyer, the order's supplier, another supplier) try random actions
with random, often bad, input on one of two orders. A small model predicts each
outcome (which error, or success and its effect); after every step the database is
checked against the model and against invariants that need no model: the stage is
what replaying the event log through ``db.lifecycle`` gives, quantities stay within
0 <= received <= dispatched <= ordered, and the version counts the changes. A step
that raises a domain error must leave every row of every table as it was.

Each example gets a fresh database (a copy of the migrated SQLite template, or a
truncated PostgreSQL database) and its own event loop: the machine is synchronous.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from conftest import PG_URL, T0
from db import lifecycle
from db.base import Base
from db.commands import buyer as buyer_commands
from db.commands import orders as order_commands
from db.commands import parties as party_commands
from db.commands import supplier as oc
from db.commands.lines import InvoiceLineInput, LineQuantity
from db.engine import Database, connect
from db.errors import DomainError, DomainErrors, ErrorCode
from db.lifecycle import TRANSITIONS, Action
from db.models import (
    OrderStage,
    ShipmentMethod,
)
from db.scope import Scope
from permissions.policy import allowed_actions
from permissions.principal import Principal, Role

T = TypeVar("T")

ORG = "org-a"
QUANTITIES = (3, 2)  # the two lines of every order
PRICES = (Decimal("10.00"), Decimal("2.50"))
KIND_TO_ACTION = {t.event_kind: a for a, t in TRANSITIONS.items()}

# Who tries an action: mostly the role it belongs to (the buyer, or the order's own
# supplier); sometimes the other role, or a supplier the order does not belong to.
roles = st.sampled_from(["rightful", "rightful", "rightful", "wrong_role", "other_supplier"])
orders = st.integers(0, 1)
versions = st.sampled_from(["none", "none", "current", "stale"])
reasons = st.sampled_from(["no capacity", " client withdrew ", "late steel", "", "   "])
day_offsets = st.integers(-2, 40)
# Mostly plausible line quantities, sometimes anything (unknown lines, zero, repeats).
line_items = st.one_of(
    st.lists(st.tuples(st.integers(1, 2), st.integers(1, 2)), min_size=1, max_size=2),
    st.lists(st.tuples(st.integers(1, 3), st.integers(0, 4)), max_size=3),
)


@dataclass
class ModelOrder:
    """What the database should hold for one order."""

    id: str
    stage: OrderStage = OrderStage.ISSUED
    version: int = 1
    promised: date | None = None
    dispatched: list[int] = field(default_factory=lambda: [0, 0])
    received: list[int] = field(default_factory=lambda: [0, 0])


@dataclass(frozen=True)
class Observed:
    stage: OrderStage
    version: int
    promised: date | None
    dispatched: list[int]
    received: list[int]
    shipped: list[int]  # sum of shipment lines per order line
    checked_in: list[int]  # sum of receipt lines per order line
    events: list[dict[str, Any]]  # order_events rows, by seq


def _as_date(value: date | str | None) -> date | None:
    # the async driver gives dates, the standard library's sqlite3 their ISO text
    return None if value is None else date.fromisoformat(str(value))


def _valid_url(url: str | None) -> bool:
    if url is None:
        return True
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _lines_ok(items: list[tuple[int, int]], available: list[int]) -> bool:
    numbers = [n for n, _ in items]
    return (
        bool(items)
        and len(set(numbers)) == len(numbers)
        and all(1 <= n <= len(available) and 0 < q <= available[n - 1] for n, q in items)
    )


BUYER = Principal(role=Role.BUYER, org=ORG, subject="buyer@org-a").scope
# Who takes each action: the one role the policy table lets take it.
ACTOR = {
    action: next(role.value for role in Role if action in allowed_actions(role))
    for action in TRANSITIONS
}


async def _write(db: Database, command: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async with db.write_session() as session, session.begin():
        return await command(session)


async def _seed(db: Database) -> tuple[list[str], list[str]]:
    """Two suppliers and two orders to the first; their IDs."""
    if not db.is_sqlite:
        # a handful of rows: DELETE is much cheaper than TRUNCATE here
        async with db.engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                await conn.execute(table.delete())
    supplier_ids = []
    for name in ("Northwind Machining", "Southwind Castings"):
        supplier = await _write(
            db,
            lambda s, n=name: party_commands.create_supplier(
                session=s, scope=BUYER, now=T0, name=n, contact_email=None
            ),
        )
        supplier_ids.append(supplier.id)
    data = order_commands.IssueOrderInput(
        supplier_id=supplier_ids[0],
        need_by=date(2026, 4, 1),
        currency="EUR",
        lines=[
            order_commands.LineInput(part_number=f"P-{n}", quantity=q, unit_price=p)
            for n, (q, p) in enumerate(zip(QUANTITIES, PRICES, strict=True), start=1)
        ],
    )
    order_ids = []
    for _ in range(2):
        order = await _write(
            db, lambda s: order_commands.issue_order(session=s, scope=BUYER, now=T0, data=data)
        )
        order_ids.append(order.id)
    return supplier_ids, order_ids


@dataclass
class Harness:
    """What outlives one example: the event loop, and either a seeded SQLite file to
    copy per example or the PostgreSQL test database (emptied and seeded per example)."""

    loop: asyncio.AbstractEventLoop
    workdir: Path
    postgres: Database | None = None
    seeded: Path | None = None
    supplier_ids: tuple[str, ...] = ()
    order_ids: tuple[str, ...] = ()

    @classmethod
    def open(cls, template: str, workdir: Path) -> Harness:
        harness = cls(asyncio.new_event_loop(), workdir)
        if PG_URL:
            harness.postgres = connect(template)
            return harness
        harness.seeded = workdir / "seeded.db"
        shutil.copyfile(template, harness.seeded)
        db = connect(f"sqlite+aiosqlite:///{harness.seeded}")
        try:
            suppliers, orders = harness.loop.run_until_complete(_seed(db))
        finally:
            harness.loop.run_until_complete(db.dispose())
        with closing(sqlite3.connect(harness.seeded)) as conn:  # fold the WAL into the file
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        harness.supplier_ids, harness.order_ids = tuple(suppliers), tuple(orders)
        return harness

    def close(self) -> None:
        try:
            if self.postgres is not None:
                self.loop.run_until_complete(self.postgres.dispose())
        finally:
            self.loop.close()


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self, harness: Harness) -> None:
        super().__init__()
        self.loop = harness.loop
        # SQLite is read back through the standard library: same file, same rows,
        # a fraction of the cost of the async driver's thread hop per statement.
        self.reader: sqlite3.Connection | None = None
        if harness.postgres is not None:
            self.db = harness.postgres
            supplier_ids, order_ids = self.run(_seed(self.db))
        else:
            assert harness.seeded is not None
            path = harness.workdir / f"{uuid.uuid4().hex}.db"
            shutil.copyfile(harness.seeded, path)
            self.db = connect(f"sqlite+aiosqlite:///{path}")
            self.reader = sqlite3.connect(path)
            supplier_ids, order_ids = list(harness.supplier_ids), list(harness.order_ids)
        self.scopes = {
            "buyer": BUYER,
            "supplier": Principal(
                role=Role.SUPPLIER,
                org=ORG,
                subject="dispatch@northwind",
                supplier_id=supplier_ids[0],
            ).scope,
            "other_supplier": Principal(
                role=Role.SUPPLIER,
                org=ORG,
                subject="dispatch@southwind",
                supplier_id=supplier_ids[1],
            ).scope,
        }
        self.orders = [ModelOrder(order_id) for order_id in order_ids]
        self.now: datetime = T0
        self.invoice_numbers: set[str] = set()
        self.last_versions = [1, 1]
        self.state = self._dump()

    # -- plumbing -----------------------------------------------------------------------

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        if self.reader is not None:  # SQLite: this example's own file and engine
            self.reader.close()
            self.run(self.db.dispose())

    def _dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row of every table: what 'unchanged' is checked against, and what the
        invariants read (one round of queries per step)."""
        if self.reader is None:
            return self.run(self._dump_async())
        state = {}
        for table in Base.metadata.sorted_tables:
            cursor = self.reader.execute(f"SELECT * FROM {table.name}")
            columns = [d[0] for d in cursor.description]
            state[table.name] = sorted(
                (dict(zip(columns, row, strict=True)) for row in cursor), key=repr
            )
        return state

    async def _dump_async(self) -> dict[str, list[dict[str, Any]]]:
        # PostgreSQL: every table as JSON in one round trip
        columns = ", ".join(
            f"(SELECT coalesce(json_agg(t), '[]') FROM {table.name} t) AS {table.name}"
            for table in Base.metadata.sorted_tables
        )
        async with self.db.read_session() as session:
            row = (await session.execute(text(f"SELECT {columns}"))).one()
        return {
            name: sorted(json.loads(rows) if isinstance(rows, str) else rows, key=repr)
            for name, rows in row._asdict().items()
        }

    def _observe(self, order_id: str) -> Observed:
        state = self.state
        (order,) = [o for o in state["orders"] if o["id"] == order_id]
        lines = sorted(
            (ln for ln in state["order_lines"] if ln["order_id"] == order_id),
            key=lambda ln: ln["line_no"],
        )
        assert [ln["quantity"] for ln in lines] == list(QUANTITIES)
        shipped = [0] * len(lines)
        for row in state["shipment_lines"]:
            if row["order_id"] == order_id:
                shipped[row["line_no"] - 1] += row["quantity"]
        checked_in = [0] * len(lines)
        for row in state["receipt_lines"]:
            if row["order_id"] == order_id:
                checked_in[row["line_no"] - 1] += row["quantity"]
        events = sorted(
            (e for e in state["order_events"] if e["order_id"] == order_id),
            key=lambda e: e["seq"],
        )
        return Observed(
            stage=OrderStage(order["stage"]),
            version=order["version"],
            promised=_as_date(order["promised_date"]),
            dispatched=[ln["dispatched_quantity"] for ln in lines],
            received=[ln["received_quantity"] for ln in lines],
            shipped=shipped,
            checked_in=checked_in,
            events=events,
        )

    # -- one attempt, predicted --------------------------------------------------------

    def attempt(
        self,
        index: int,
        action: Action,
        role: str,
        version: str,
        valid: bool,
        command: Callable[[AsyncSession, Scope, str, int | None], Awaitable[Any]],
    ) -> bool:
        """Run ``command``; check the outcome against the prediction. True if it won."""
        model = self.orders[index]
        transition = TRANSITIONS[action]
        other_role = "buyer" if ACTOR[action] == "supplier" else "supplier"
        scope = self.scopes[{"rightful": ACTOR[action], "wrong_role": other_role}.get(role, role)]
        expected_version = {"none": None, "current": model.version, "stale": model.version - 1}[
            version
        ]
        if role != "rightful":
            predicted: ErrorCode | None = ErrorCode.NOT_FOUND
        elif expected_version is not None and expected_version != model.version:
            predicted = ErrorCode.CONFLICT
        elif model.stage not in transition.sources:
            predicted = ErrorCode.INVALID_TRANSITION
        elif not valid:
            predicted = ErrorCode.VALIDATION
        else:
            predicted = None

        before = self.state
        try:
            self.run(_write(self.db, lambda s: command(s, scope, model.id, expected_version)))
        except DomainError as error:
            codes = [error.code]
        except DomainErrors as errors:
            codes = [e.code for e in errors.errors]
        else:
            self.state = self._dump()
            assert predicted is None, f"{action} by {role} should fail with {predicted}"
            model.version += 1
            if transition.target is not None:
                model.stage = transition.target
            return True
        assert predicted is not None, f"{action} by {role} failed with {codes}"
        if predicted is ErrorCode.VALIDATION:
            assert codes, codes
            assert set(codes) == {ErrorCode.VALIDATION}, codes
        else:
            assert codes == [predicted], (action, role, codes)
        self.state = self._dump()
        assert self.state == before, "a refused step wrote something"
        return False

    # -- rules --------------------------------------------------------------------------

    @initialize(
        stages=st.tuples(st.sampled_from(list(OrderStage)), st.sampled_from(list(OrderStage)))
    )
    def start_from(self, stages: tuple[OrderStage, OrderStage]) -> None:
        """Bring each order to a random stage first, by the happy path (itself checked),
        so that random steps start deep in the lifecycle as often as at its start."""
        for index, stage in enumerate(stages):
            if stage is OrderStage.DECLINED:
                self.decline(index, "rightful", "current", "no capacity")
                continue
            path = {
                OrderStage.ISSUED: 0,
                OrderStage.ACKNOWLEDGED: 1,
                OrderStage.CANCELLED: 1,
                OrderStage.IN_PRODUCTION: 2,
                OrderStage.DISPATCHED: 3,
                OrderStage.DELIVERED: 5,
            }[stage]
            steps = [
                lambda i: self.acknowledge(i, "rightful", "current", 18),
                lambda i: self.start_production(i, "rightful", "current"),
                lambda i: self.dispatch(
                    i, "rightful", "current", ShipmentMethod.OWN_DRIVER, None, None, [(1, 3)]
                ),
                lambda i: self.dispatch(
                    i, "rightful", "none", ShipmentMethod.FREIGHT, "Rhenus", None, None
                ),
                lambda i: self.receive(i, "rightful", "current", [(1, 3), (2, 2)]),
            ]
            for step in steps[:path]:
                step(index)
            if stage is OrderStage.CANCELLED:
                self.cancel(index, "rightful", "current", "client withdrew")
            assert self.orders[index].stage is stage

    @rule(hours=st.integers(1, 60))
    def time_passes(self, hours: int) -> None:
        self.now += timedelta(hours=hours)

    @rule(index=orders, role=roles, version=versions, days=day_offsets)
    def acknowledge(self, index: int, role: str, version: str, days: int) -> None:
        promised = (self.now + timedelta(days=days)).date()
        won = self.attempt(
            index,
            Action.ACKNOWLEDGE,
            role,
            version,
            days >= 0,
            lambda s, scope, order_id, ev: oc.acknowledge(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                promised_date=promised,
                note=None,
                expected_version=ev,
            ),
        )
        if won:
            self.orders[index].promised = promised

    @rule(index=orders, role=roles, version=versions, reason=reasons)
    def decline(self, index: int, role: str, version: str, reason: str) -> None:
        self.attempt(
            index,
            Action.DECLINE,
            role,
            version,
            bool(reason.strip()),
            lambda s, scope, order_id, ev: oc.decline(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                reason=reason,
                expected_version=ev,
            ),
        )

    @rule(index=orders, role=roles, version=versions)
    def start_production(self, index: int, role: str, version: str) -> None:
        self.attempt(
            index,
            Action.START_PRODUCTION,
            role,
            version,
            True,
            lambda s, scope, order_id, ev: oc.start_production(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                note="go",
                expected_version=ev,
            ),
        )

    @rule(index=orders, role=roles, version=versions, days=day_offsets, reason=reasons)
    def update_promised_date(
        self, index: int, role: str, version: str, days: int, reason: str
    ) -> None:
        promised = (self.now + timedelta(days=days)).date()
        valid = days >= 0 and bool(reason.strip()) and promised != self.orders[index].promised
        won = self.attempt(
            index,
            Action.UPDATE_PROMISED_DATE,
            role,
            version,
            valid,
            lambda s, scope, order_id, ev: oc.update_promised_date(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                promised_date=promised,
                reason=reason,
                expected_version=ev,
            ),
        )
        if won:
            self.orders[index].promised = promised

    @rule(index=orders, role=roles, version=versions, note=reasons)
    def add_milestone(self, index: int, role: str, version: str, note: str) -> None:
        self.attempt(
            index,
            Action.ADD_MILESTONE,
            role,
            version,
            bool(note.strip()),
            lambda s, scope, order_id, ev: oc.add_milestone(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                note=note,
                expected_version=ev,
            ),
        )

    @rule(
        index=orders,
        role=roles,
        version=versions,
        method=st.sampled_from(list(ShipmentMethod)),
        carrier=st.sampled_from([None, "", "DHL"]),
        url=st.sampled_from([None, "https://track.example/1", "ftp://x", "javascript:x"]),
        items=st.none() | line_items,
    )
    def dispatch(
        self,
        index: int,
        role: str,
        version: str,
        method: ShipmentMethod,
        carrier: str | None,
        url: str | None,
        items: list[tuple[int, int]] | None,
    ) -> None:
        model = self.orders[index]
        remaining = [q - d for q, d in zip(QUANTITIES, model.dispatched, strict=True)]
        valid = (
            _valid_url(url)
            and (method is ShipmentMethod.OWN_DRIVER or bool(carrier))
            and any(remaining)
            and (items is None or _lines_ok(items, remaining))
        )
        lines = None if items is None else [LineQuantity(n, q) for n, q in items]
        won = self.attempt(
            index,
            Action.DISPATCH,
            role,
            version,
            valid,
            lambda s, scope, order_id, ev: oc.dispatch(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                method=method,
                carrier=carrier,
                tracking_reference=None,
                tracking_url=url,
                lines=lines,
                expected_version=ev,
            ),
        )
        if won:
            shipped = list(enumerate(remaining, start=1)) if items is None else items
            for n, q in shipped:
                model.dispatched[n - 1] += q

    @rule(index=orders, role=roles, version=versions, items=line_items)
    def receive(self, index: int, role: str, version: str, items: list[tuple[int, int]]) -> None:
        model = self.orders[index]
        in_transit = [d - r for d, r in zip(model.dispatched, model.received, strict=True)]
        won = self.attempt(
            index,
            Action.RECEIVE,
            role,
            version,
            _lines_ok(items, in_transit),
            lambda s, scope, order_id, ev: buyer_commands.receive(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                lines=[LineQuantity(n, q) for n, q in items],
                note=None,
                expected_version=ev,
            ),
        )
        if won:
            for n, q in items:
                model.received[n - 1] += q
            if model.received == list(QUANTITIES):
                model.stage = OrderStage.DELIVERED

    @rule(index=orders, role=roles, version=versions, reason=reasons)
    def cancel(self, index: int, role: str, version: str, reason: str) -> None:
        self.attempt(
            index,
            Action.CANCEL,
            role,
            version,
            bool(reason.strip()),
            lambda s, scope, order_id, ev: buyer_commands.cancel(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                reason=reason,
                expected_version=ev,
            ),
        )

    @rule(
        index=orders,
        role=roles,
        version=versions,
        number=st.sampled_from(["INV-1", "INV-2", " INV-1 "]),
        items=line_items,
        price=st.sampled_from([Decimal("10.00"), Decimal("9.75"), Decimal("-1")]),
    )
    def submit_invoice(
        self,
        index: int,
        role: str,
        version: str,
        number: str,
        items: list[tuple[int, int]],
        price: Decimal,
    ) -> None:
        numbers = [n for n, _ in items]
        valid = (
            number.strip() not in self.invoice_numbers
            and bool(items)
            and len(set(numbers)) == len(numbers)
            and all(1 <= n <= len(QUANTITIES) and q > 0 for n, q in items)
            and price >= 0
        )
        won = self.attempt(
            index,
            Action.SUBMIT_INVOICE,
            role,
            version,
            valid,
            lambda s, scope, order_id, ev: oc.submit_invoice(
                session=s,
                scope=scope,
                now=self.now,
                order_id=order_id,
                number=number,
                lines=[InvoiceLineInput(n, q, price) for n, q in items],
                expected_version=ev,
            ),
        )
        if won:
            self.invoice_numbers.add(number.strip())

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def the_database_agrees_with_the_model_and_the_event_log(self) -> None:
        for index, model in enumerate(self.orders):
            seen = self._observe(model.id)

            # the model's prediction
            assert seen.stage is model.stage
            assert seen.version == model.version
            assert seen.promised == model.promised
            assert (seen.dispatched, seen.received) == (model.dispatched, model.received)

            # quantities: never negative, never beyond what came before them
            for quantity, dispatched, received in zip(
                QUANTITIES, seen.dispatched, seen.received, strict=True
            ):
                assert 0 <= received <= dispatched <= quantity
            assert seen.shipped == seen.dispatched
            assert seen.checked_in == seen.received
            assert (seen.stage is OrderStage.DELIVERED) is (seen.received == list(QUANTITIES))

            # versions only grow, by one per change (a delivery rides on its receipt)
            assert seen.version >= self.last_versions[index]
            self.last_versions[index] = seen.version
            kinds = [e["kind"] for e in seen.events]
            assert seen.version == len(kinds) - kinds.count("DELIVERED")
            assert [e["seq"] for e in seen.events] == list(range(1, len(kinds) + 1))

            # replaying the event log through the transition table gives the stage
            assert kinds[0] == "ISSUED"
            stage = OrderStage.ISSUED
            assert seen.events[0]["stage"] == stage
            for previous, event in zip(seen.events, seen.events[1:], strict=False):
                if event["kind"] == "DELIVERED":
                    assert previous["kind"] == "RECEIVED"
                    assert stage is OrderStage.DISPATCHED
                    stage = OrderStage.DELIVERED
                else:
                    action = KIND_TO_ACTION[event["kind"]]
                    transition = lifecycle.check(action, stage)
                    assert event["actor_role"] == ACTOR[action]
                    stage = transition.target or stage
                assert event["stage"] == stage, (event["kind"], event["stage"], stage)
            assert stage is seen.stage


def test_random_walks_through_the_lifecycle_keep_every_invariant(
    migrated_template: str, tmp_path: Path
) -> None:
    harness = Harness.open(migrated_template, tmp_path)
    try:
        run_state_machine_as_test(
            lambda: LifecycleMachine(harness),
            settings=settings(
                max_examples=25,
                stateful_step_count=15,
                deadline=None,
                database=None,  # nothing written outside tmp_path
                # each example builds its own database; that is set-up, not slowness
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        harness.close()
