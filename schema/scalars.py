"""Scalars: exact decimals as strings, aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry

from db.money import format_money


def serialize_decimal(value: Decimal) -> str:
    """Exact, at least two places: Decimal("1234.5000") -> "1234.50", "0.0125" stays."""
    return format_money(value)


_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_DECIMAL_HELP = 'Decimal must be a string such as "1234.50"'


def parse_decimal(value: Any) -> Decimal:
    # Strings and integers only: a JSON float has already lost exactness. Plain
    # notation only: no exponent, underscores or padding ("1e3", "1_000", " 10 ").
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(_DECIMAL_HELP)
    if isinstance(value, str) and len(value) > 40:
        raise ValueError("Decimal is too long")
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise ValueError(_DECIMAL_HELP)
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        raise ValueError('Decimal must be a string such as "1234.50"') from None
    if not parsed.is_finite():
        raise ValueError("Decimal must be finite")
    return parsed


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        'Exact decimal number as a JSON string, e.g. "1234.50": an optional minus sign, '
        "digits, optionally a point and more digits; no exponent. Results carry at least "
        "two decimal places. Never a JSON number: a float has already lost exactness."
    ),
    specified_by_url="https://github.com/googleapis/googleapis/blob/master/google/type/decimal.proto",
    serialize=serialize_decimal,
    parse_value=parse_decimal,
)


def serialize_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value.astimezone(UTC).isoformat()


def parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string with an offset")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("DateTime must carry an offset")
    return parsed.astimezone(UTC)


DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description=(
        "A moment in time as an RFC 3339 / ISO-8601 string with an offset, e.g. "
        '"2026-12-20T09:30:00+00:00". Results are in UTC; inputs must carry an offset.'
    ),
    specified_by_url="https://scalars.graphql.org/andimarek/date-time.html",
    serialize=serialize_datetime,
    parse_value=parse_datetime,
)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_HELP = 'Date must be a string YYYY-MM-DD, e.g. "2026-12-20"'


def parse_date(value: Any) -> date:
    # Only the calendar form a person writes: not "20261220", not "2026-W51-7".
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise ValueError(_DATE_HELP)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{_DATE_HELP}; {value!r} is not a day of the calendar") from None


DateScalar = strawberry.scalar(
    name="Date",
    description='A calendar day without a time zone, as a string YYYY-MM-DD, e.g. "2026-12-20".',
    specified_by_url="https://scalars.graphql.org/andimarek/local-date.html",
    serialize=date.isoformat,
    parse_value=parse_date,
)

SCALAR_OVERRIDES: dict[object, Any] = {
    Decimal: DecimalScalar,
    datetime: DateTimeScalar,
    date: DateScalar,
}
