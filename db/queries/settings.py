"""The organisation's settings row (alert thresholds, matching tolerances)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AlertThresholds
from db.scope import Scope


async def thresholds_for_orgs(
    *, session: AsyncSession, scope: Scope, ids: Iterable[str]
) -> dict[str, AlertThresholds]:
    """The org's settings row (absent: defaults); only the caller's own org."""
    wanted = [i for i in set(ids) if i == scope.org]
    if not wanted:
        return {}
    rows = await session.scalars(select(AlertThresholds).where(AlertThresholds.org.in_(wanted)))
    return {r.org: r for r in rows}
