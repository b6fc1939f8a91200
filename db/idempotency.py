"""Idempotency keys: a retried mutation returns its first result and writes nothing."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.errors import DomainError, ErrorCode
from db.models import IdempotencyRecord
from db.scope import Scope

MAX_KEY_LENGTH = 200


async def replay(
    *, session: AsyncSession, scope: Scope, key: str, operation: str
) -> IdempotencyRecord | None:
    """The earlier record for ``key`` from this caller, if any.

    Keys belong to one caller: (org, role, client or supplier, subject). Two suppliers
    whose tokens share a subject never see each other's results. On PostgreSQL a
    transaction-scoped advisory lock on the key makes concurrent retries wait for the
    first to commit and then replay it (SQLite's write path is serial already).
    Reusing a key for a different operation is a validation error.
    """
    if not key or len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"idempotencyKey must be 1 to {MAX_KEY_LENGTH} characters",
            ("idempotency_key",),
        )
    owner = caller(scope)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
            {"k": f"{scope.org}|{owner}|{key}"},
        )
    record = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.org == scope.org,
            IdempotencyRecord.subject == owner,
            IdempotencyRecord.key == key,
        )
    )
    if record is not None and record.operation != operation:
        raise DomainError(
            ErrorCode.VALIDATION,
            "idempotencyKey was already used for a different request",
            ("idempotency_key",),
        )
    return record


def caller(scope: Scope) -> str:
    """A fixed-length identity of the caller within its org (fits the subject column)."""
    party = scope.client_id or scope.supplier_id or ""
    return hashlib.sha256(f"{scope.role}|{party}|{scope.subject}".encode()).hexdigest()


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
            subject=caller(scope),
            key=key,
            operation=operation,
            result_id=result_id,
            created_at=now,
        )
    )
