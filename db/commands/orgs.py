"""Organisations: registering one (its settings row) before its first supplier or client."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import validation as v
from db.commands.settings import default_settings
from db.errors import DomainError, ErrorCode, raise_if
from db.models import AlertThresholds, Client, Supplier

MAX_ORG_LENGTH = 64  # the org column, and the longest org claim a token may carry


async def create_org(*, session: AsyncSession, org: str, now: datetime) -> bool:
    """Register ``org`` with the default settings (its alert thresholds row).

    Returns False when the org already has its settings (nothing is changed). Orgs are
    the ``org`` claim of tokens; registering one makes it visible to operators and
    gives it settings a buyer can change (``setAlertThresholds``).
    """
    raise_if(
        [
            v.required_text(org, ("org",), max_len=MAX_ORG_LENGTH),
            None
            if org == org.strip()
            else DomainError(ErrorCode.VALIDATION, "must not start or end with spaces", ("org",)),
        ]
    )
    if await session.get(AlertThresholds, org) is not None:
        return False
    settings = default_settings(org)
    settings.updated_at = now
    session.add(settings)
    await session.flush()
    return True


async def org_is_known(*, session: AsyncSession, org: str) -> bool:
    """Whether ``org`` was registered or already has suppliers or clients."""
    for model in (AlertThresholds, Supplier, Client):
        if await session.scalar(select(model.org).where(model.org == org).limit(1)) is not None:
            return True
    return False
