"""A page of a keyset-paginated list, read forward (``first``/``after``) or backward
(``last``/``before``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    has_next: bool
    has_previous: bool = False


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
