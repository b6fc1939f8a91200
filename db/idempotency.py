"""Idempotency keys: a retried mutation returns its first result and writes nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import DomainError, ErrorCode
from db.models import IdempotencyRecord
from db.scope import Scope

MAX_KEY_LENGTH = 200


async def replay(
    *, session: AsyncSession, scope: Scope, key: str, operation: str
) -> IdempotencyRecord | None:
    """The earlier record for ``key`` from this caller, if any.

    Keys are per (org, subject): one caller cannot replay, or probe, another's.
    Reusing a key for a different operation is a validation error.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters",
            ["input", "idempotencyKey"],
        )
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.org == scope.org,
            IdempotencyRecord.subject == scope.subject,
            IdempotencyRecord.key == key,
        )
    )
    if record is not None and record.operation != operation:
        raise DomainError(
            ErrorCode.VALIDATION,
            "idempotencyKey was already used for a different operation",
            ["input", "idempotencyKey"],
        )
    return record


def remember(
    *,
    session: AsyncSession,
    scope: Scope,
    key: str,
    operation: str,
    result_id: str | None,
    now: datetime,
) -> None:
    session.add(
        IdempotencyRecord(
            org=scope.org,
            subject=scope.subject,
            key=key,
            operation=operation,
            result_id=result_id,
            created_at=now,
        )
    )
