"""The supplier scorecard: acknowledgement speed, dispatch punctuality, slips."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Order
from db.queries.scope import order_scope
from db.scope import Scope


@dataclass(frozen=True)
class Scorecard:
    orders: int
    median_hours_to_acknowledge: float | None
    on_time_dispatch_rate: float | None
    promise_slips: int


def _scorecard(rows: Sequence[Any]) -> Scorecard:
    ack_hours = sorted(
        (r.acknowledged_at - r.issued_at).total_seconds() / 3600
        for r in rows
        if r.acknowledged_at is not None
    )
    promised = [r for r in rows if r.dispatched_at is not None and r.promised_date is not None]
    on_time = sum(1 for r in promised if r.dispatched_at.date() <= r.promised_date)
    return Scorecard(
        orders=len(rows),
        median_hours_to_acknowledge=round(statistics.median(ack_hours), 2) if ack_hours else None,
        on_time_dispatch_rate=round(on_time / len(promised), 4) if promised else None,
        promise_slips=sum(r.promise_slips for r in rows),
    )


async def supplier_scorecards(
    *, session: AsyncSession, scope: Scope, supplier_ids: Sequence[str], since: datetime
) -> dict[str, Scorecard]:
    """Acknowledgement speed, dispatch punctuality and slips per supplier, for orders
    issued since ``since``: one statement for all the suppliers asked."""
    stmt = select(
        Order.supplier_id,
        Order.issued_at,
        Order.acknowledged_at,
        Order.dispatched_at,
        Order.promised_date,
        Order.promise_slips,
    ).where(order_scope(scope), Order.supplier_id.in_(supplier_ids), Order.issued_at >= since)
    grouped: defaultdict[str, list[Any]] = defaultdict(list)
    for row in await session.execute(stmt):
        grouped[row.supplier_id].append(row)
    return {sid: _scorecard(grouped.get(sid, [])) for sid in supplier_ids}
