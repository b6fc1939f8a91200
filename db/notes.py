"""Who a note reaches besides the buyer who owns the order.

A buyer's note (a cancel or close reason, a receiving note, an answer to a proposal, an
amendment's reason) carries the audience the buyer chose (``visibleTo``); none chosen
means the buyer's alone. A supplier's note carries none: that it reaches the supplier
and never the client is the policy table's row rules' decision
(``permissions.policy``), which read the audience and the author of each row.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Dialect, String, TypeDecorator


class NoteAudience(enum.StrEnum):
    SUPPLIER = "SUPPLIER"
    CLIENT = "CLIENT"


Audience = frozenset[NoteAudience]
BUYER_ALONE: Audience = frozenset()


def audience(values: Iterable[NoteAudience | str] | None) -> Audience:
    """The audience a note input names; omitted (``None``) is the buyer's alone."""
    return frozenset(NoteAudience(v) for v in values or ())


class AudienceColumn(TypeDecorator[Audience]):
    """An audience as sorted, comma-separated names ('' for the buyer's alone): one
    plain column on both databases, readable in a dump."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Iterable[Any] | None, dialect: Dialect) -> str:
        return ",".join(sorted(NoteAudience(v).value for v in value or ()))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Audience:
        return frozenset(NoteAudience(v) for v in (value or "").split(",") if v)
