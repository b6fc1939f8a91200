"""Relay-style connections: one generic ``Connection[T]``/``Edge[T]`` (GraphQL names
``OrderConnection``, ``OrderEdge``, ...), page windows and page metadata.

Pages are keyset-paginated by the data layer, forward (``first``/``after``) or backward
(``last``/``before``); cursors are opaque (``schema.cursors``). ``totalCount`` is lazy:
the count query runs only when the document asks for it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry

from db.queries.page import Page
from schema.context import Info
from schema.cursors import decode
from schema.errors import PublicError

T = TypeVar("T")

DEFAULT_PAGE = 20
MAX_PAGE = 100


def page_size(first: int | None, *, default: int = DEFAULT_PAGE, name: str = "first") -> int:
    if first is None:
        return default
    if not 0 <= first <= MAX_PAGE:
        raise PaginationError(f"{name} must be between 0 and {MAX_PAGE}.")
    return first


class PaginationError(PublicError):
    """Pagination arguments that do not make one window; code ``INVALID_PAGINATION``."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "INVALID_PAGINATION"})


@dataclass(frozen=True)
class Window:
    """Which slice of a list a page is: ``size`` items after ``cursor`` (forward), or
    the ``size`` items that end just before ``cursor`` or the list's end (backward)."""

    size: int
    cursor: str | None = None
    backward: bool = False


def window(
    info: Any,
    *,
    first: int | None,
    after: str | None,
    last: int | None = None,
    before: str | None = None,
    default: int = DEFAULT_PAGE,
) -> Window:
    """The window the arguments ask for. ``first`` (which has a default) and ``last``
    exclude each other when both are given in the document; ``after`` goes with
    forward paging, ``before`` with backward."""
    if last is None:
        if before is not None:
            raise PaginationError("before pages backward: use it with last, not first.")
        return Window(page_size(first, default=default), after)
    if first is not None and _given(info, "first"):
        raise PaginationError("Use first or last, not both.")
    if after is not None:
        raise PaginationError("after pages forward: use it with first, not last.")
    return Window(page_size(last, name="last"), before, backward=True)


async def keyset_page(
    info: Info,
    window: Window,
    kind: str,
    list_rows: Callable[..., Awaitable[Page[Any]]],
    **filters: Any,
) -> Page[Any]:
    """The page of ``list_rows`` (a data-layer keyset query, with ``filters``) that
    ``window`` asks for; ``kind`` is its cursors' prefix."""
    anchor = decode(window.cursor, kind) if window.cursor is not None else None
    ctx = info.context
    return await ctx.loaders.session_run(
        lambda s: list_rows(
            session=s,
            scope=ctx.scope,
            first=window.size,
            after_id=None if window.backward else anchor,
            before_id=anchor if window.backward else None,
            backward=window.backward,
            **filters,
        )
    )


PageOf = Callable[[Any, Info, Window], Awaitable["Connection[Any]"]]


def connection_field(node: type, page: PageOf, *, description: str) -> Any:
    """A ``Connection[node]`` field with the paging arguments (``first`` 20, ``after``,
    ``last``, ``before``), answered by ``page(parent, info, window)``."""

    async def resolve(
        root: Any,
        info: Info,
        first: int | None = DEFAULT_PAGE,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Any:
        return await page(
            root, info, window(info, first=first, after=after, last=last, before=before)
        )

    # The return type is the node's connection, known only here.
    resolve.__annotations__["return"] = Connection[node]  # type: ignore[valid-type]
    return strawberry.field(resolver=resolve, description=description)


def _given(info: Any, name: str) -> bool:
    """Whether the document (or its variables) gave argument ``name`` a value itself, as
    opposed to the schema's default filling it in (Strawberry's public
    ``Info.selected_fields`` holds only the arguments the document wrote)."""
    return any(f.arguments.get(name) is not None for f in info.selected_fields)


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
    """A connection over a data-layer page (either direction)."""
    return connection(
        nodes, cursors, has_next=page.has_next, has_previous=page.has_previous, count=count
    )
