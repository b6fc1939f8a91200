"""Input checks shared by commands; each returns a DomainError or None."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from db.base import MONEY_SCALE
from db.errors import DomainError, ErrorCode

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_MONEY = Decimal("1e12")


def required_text(value: str | None, field: list[str], *, max_len: int) -> DomainError | None:
    if value is None or not value.strip():
        return DomainError(ErrorCode.VALIDATION, "must not be empty", field)
    if len(value) > max_len:
        return DomainError(ErrorCode.VALIDATION, f"must be at most {max_len} characters", field)
    return None


def optional_text(value: str | None, field: list[str], *, max_len: int) -> DomainError | None:
    if value is not None and len(value) > max_len:
        return DomainError(ErrorCode.VALIDATION, f"must be at most {max_len} characters", field)
    return None


def email(value: str | None, field: list[str]) -> DomainError | None:
    if value is None:
        return None
    if len(value) > 320 or not _EMAIL.match(value):
        return DomainError(ErrorCode.VALIDATION, "is not an email address", field)
    return None


def currency(value: str, field: list[str]) -> DomainError | None:
    if not _CURRENCY.match(value):
        return DomainError(
            ErrorCode.VALIDATION, "must be a three-letter ISO 4217 code, e.g. EUR", field
        )
    return None


def money(value: Decimal, field: list[str], *, allow_zero: bool = True) -> DomainError | None:
    try:
        if not value.is_finite():
            raise InvalidOperation
        exponent = value.as_tuple().exponent
    except InvalidOperation:
        return DomainError(ErrorCode.VALIDATION, "is not a number", field)
    if value < 0 or (value == 0 and not allow_zero):
        return DomainError(ErrorCode.VALIDATION, "must not be negative", field)
    if (
        isinstance(exponent, int)
        and exponent < -MONEY_SCALE
        and value != value.quantize(Decimal(1).scaleb(-MONEY_SCALE))
    ):
        return DomainError(
            ErrorCode.VALIDATION, f"must have at most {MONEY_SCALE} decimal places", field
        )
    if value >= MAX_MONEY:
        return DomainError(ErrorCode.VALIDATION, "is too large", field)
    return None


def positive_quantity(value: int, field: list[str]) -> DomainError | None:
    if value <= 0:
        return DomainError(ErrorCode.VALIDATION, "must be greater than zero", field)
    if value > 1_000_000_000:
        return DomainError(ErrorCode.VALIDATION, "is too large", field)
    return None
