"""Relay-style connections: one generic ``Connection[T]``/``Edge[T]`` (GraphQL names
``OrderConnection``, ``OrderEdge``, ...), page sizes and page metadata.

Pages are keyset-paginated by the data layer; cursors are opaque (``schema.cursors``).
``totalCount`` is lazy: the count query runs only when the document asks for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from db.queries.page import Page
from schema.errors import PublicError

T = TypeVar("T")

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size(first: int | None, *, default: int = DEFAULT_PAGE) -> int:
    if first is None:
        return default
    if not 0 <= first <= MAX_PAGE:
        raise PublicError(f"first must be between 0 and {MAX_PAGE}.")
    return first


@strawberry.type(description="Page metadata for cursor pagination.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(
        description="How many items match the arguments, of those the caller may see."
    )
    async def total_count(self) -> int:
        return await self.count()


def connection(
    nodes: Sequence[T],
    cursors: Sequence[str],
    *,
    has_next: bool,
    has_previous: bool,
    count: Callable[[], Awaitable[int]],
) -> Connection[T]:
    """A connection over one page of ``nodes`` with their ``cursors``."""
    return Connection(
        edges=[Edge(cursor=c, node=n) for c, n in zip(cursors, nodes, strict=True)],
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        ),
        count=count,
    )


def page_connection(
    page: Page[Any], nodes: Sequence[T], cursors: Sequence[str], count: Callable[[], Awaitable[int]]
) -> Connection[T]:
    return connection(
        nodes, cursors, has_next=page.has_next, has_previous=page.has_previous, count=count
    )
