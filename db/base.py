"""Declarative base, naming convention and the column types the domain needs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Dialect, Float, MetaData, TypeDecorator
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY_SCALE = 4
_MONEY_FACTOR = Decimal(10) ** MONEY_SCALE


class Money(TypeDecorator[Decimal]):
    """Exact money as a scaled integer (10^-4 units).

    SQLite has no exact decimal type (SQLAlchemy would round-trip through
    float); an integer is exact, sortable and comparable in SQL on both
    databases, so price filters and sorts run in the database.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * _MONEY_FACTOR
        if scaled != scaled.to_integral_value():
            raise ValueError(f"money has more than {MONEY_SCALE} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)).scaleb(-MONEY_SCALE)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; times are aware UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite drops the offset; we only ever store UTC
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every instant is aware UTC, every amount exact money, every float a FLOAT.
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money(), float: Float()}  # noqa: RUF012
