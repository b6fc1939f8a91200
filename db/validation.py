"""Input checks shared by commands; each returns a DomainError or None."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from db.base import MONEY_SCALE
from db.errors import DomainError, ErrorCode, FieldPath

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MONEY = Decimal("1e12")


def required_text(value: str | None, field: FieldPath, *, max_len: int) -> DomainError | None:
    if not no_nul(value):
        return DomainError(ErrorCode.VALIDATION, "must not contain NUL characters", field)
    if value is None or not value.strip():
        return DomainError(ErrorCode.VALIDATION, "must not be empty", field)
    if len(value) > max_len:
        return DomainError(ErrorCode.VALIDATION, f"must be at most {max_len} characters", field)
    return None


def optional_text(value: str | None, field: FieldPath, *, max_len: int) -> DomainError | None:
    if not no_nul(value):
        return DomainError(ErrorCode.VALIDATION, "must not contain NUL characters", field)
    if value is not None and len(value) > max_len:
        return DomainError(ErrorCode.VALIDATION, f"must be at most {max_len} characters", field)
    return None


def email(value: str | None, field: FieldPath) -> DomainError | None:
    if value is None:
        return None
    # An RFC 2047 encoded word ("=?utf-8?q?...?=") is a header's disguise, not an address.
    if len(value) > 320 or not no_nul(value) or not _EMAIL.match(value) or "=?" in value:
        return DomainError(ErrorCode.VALIDATION, "is not an email address", field)
    return None


def currency(value: str, field: FieldPath) -> DomainError | None:
    if not _CURRENCY.match(value):
        return DomainError(
            ErrorCode.VALIDATION, "must be a three-letter ISO 4217 code, e.g. EUR", field
        )
    return None


def money(value: Decimal, field: FieldPath, *, allow_zero: bool = True) -> DomainError | None:
    if not value.is_finite():
        return DomainError(ErrorCode.VALIDATION, "is not a number", field)
    if value < 0 or (value == 0 and not allow_zero):
        return DomainError(ErrorCode.VALIDATION, "must not be negative", field)
    if value >= MAX_MONEY:  # checked before any arithmetic that could overflow
        return DomainError(ErrorCode.VALIDATION, "is too large", field)
    if not has_money_scale(value):
        return DomainError(
            ErrorCode.VALIDATION, f"must have at most {MONEY_SCALE} decimal places", field
        )
    return None


def has_money_scale(value: Decimal) -> bool:
    """Whether ``value`` is exact at MONEY_SCALE places, and so storable as Money."""
    try:
        return value == value.quantize(Decimal(1).scaleb(-MONEY_SCALE))
    except InvalidOperation:  # more digits than the decimal context holds
        return False


def no_nul(value: str | None) -> bool:
    """PostgreSQL text cannot hold NUL; refuse it everywhere alike."""
    return value is None or "\x00" not in value


def positive_quantity(value: int, field: FieldPath) -> DomainError | None:
    if value <= 0:
        return DomainError(ErrorCode.VALIDATION, "must be greater than zero", field)
    if value > 1_000_000_000:
        return DomainError(ErrorCode.VALIDATION, "is too large", field)
    return None
