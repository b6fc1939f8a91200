"""A page of a keyset-paginated list, read forward (``first``/``after``) or backward
(``last``/``before``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Required, TypedDict, TypeVar, Unpack

from sqlalchemy import ScalarSelect, Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    has_previous: bool = False


class KeysetWindow(TypedDict, total=False):
    """Which page of a keyset list to read: ``first`` rows after ``after_id``; with
    ``backward``, the ``first`` rows that end just before ``before_id`` (or the list's
    end). Every list query takes it as keyword arguments."""

    first: Required[int]
    after_id: str | None
    before_id: str | None
    backward: bool


def keyset_page(
    rows: list[T],
    size: int,
    *,
    backward: bool = False,
    after: object | None = None,
    before: object | None = None,
) -> Page[T]:
    """A page from up to ``size + 1`` rows read in the reading direction.

    Forward, the extra row means more follow; backward (rows read from the list's
    end), it means more precede, and the rows are put back in the list's order. The
    side a cursor came from has items (at least the cursor's own row).
    """
    more = len(rows) > size
    items = rows[:size]
    if backward:
        items.reverse()
        return Page(items=items, has_next=before is not None, has_previous=more)
    return Page(items=items, has_next=more, has_previous=after is not None)


async def read_keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    *,
    key: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[str],
    descending: bool,
    anchor_key: Callable[[str], ScalarSelect[Any]],
    **window: Unpack[KeysetWindow],
) -> Page[Any]:
    """``first`` rows of ``stmt`` in (``key``, ``id_column``) order after ``after_id``;
    with ``backward``, the ``first`` rows that end just before ``before_id`` (or the
    list's end), still in the list's order.

    Keyset: rows are compared with the anchor row's key, ``anchor_key(anchor_id)``, a
    subquery that must look the anchor up within the caller's scope, so that an anchor
    outside it yields NULL comparisons (an empty page) and reveals nothing about where
    hidden rows sort.
    """
    first, backward = window["first"], window.get("backward", False)
    after_id, before_id = window.get("after_id"), window.get("before_id")
    for anchor_id, before in ((after_id, False), (before_id, True)):
        if anchor_id is None:
            continue
        anchor = anchor_key(anchor_id)
        if descending != before:
            beyond = or_(key < anchor, and_(key == anchor, id_column < anchor_id))
        else:
            beyond = or_(key > anchor, and_(key == anchor, id_column > anchor_id))
        stmt = stmt.where(beyond)
    # Backward reads the list from its end: the opposite direction, reversed after.
    reading_descending = descending != backward
    order_by = (
        (key.desc(), id_column.desc()) if reading_descending else (key.asc(), id_column.asc())
    )
    rows = list((await session.scalars(stmt.order_by(*order_by).limit(first + 1))).all())
    return keyset_page(rows, first, backward=backward, after=after_id, before=before_id)
