"""The relation registry: every relation a GraphQL type resolves through a batched,
scoped query — its parent type and field, how to key the parent, which query fetches
the rows, and which GraphQL type wraps each row.

One table that the types (their resolvers call ``resolve``), the loaders (one
DataLoader per relation, ``Loaders.of``) and the page prefetch (``schema.prefetch``
walks the ``Order`` relations) all read. Each relation is declared next to the type
that wraps its rows, so no type module imports another to resolve a relation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from db.scope import Scope

if TYPE_CHECKING:
    from schema.context import Info

Fetch = Callable[[AsyncSession, Scope, list[str]], Awaitable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Relation:
    """``parent.field``: rows fetched in one statement for many parents at once.

    ``fetch(session, scope, keys)`` returns {key: row} (one) or {key: [rows]} (many);
    ``key(parent)`` is the parent's key (None: nothing related); ``wrap(row)`` builds
    the GraphQL object the field returns. Loaders cache rows per ``fetch``, so two
    relations over the same rows share one load.
    """

    parent: str
    field: str
    fetch: Fetch
    key: Callable[[Any], str | None]
    wrap: Callable[[Any], Any]
    many: bool

    @property
    def name(self) -> str:
        return f"{self.parent}.{self.field}"

    def value(self, rows: Any) -> Any:
        """What the field returns for the rows fetched for one parent."""
        if self.many:
            return [self.wrap(r) for r in rows or ()]
        return self.wrap(rows) if rows is not None else None


_REGISTRY: dict[str, Relation] = {}


def relation(
    parent: str,
    field: str,
    *,
    fetch: Fetch,
    key: Callable[[Any], str | None],
    wrap: Callable[[Any], Any],
    many: bool,
) -> Relation:
    """Declare (register) a relation; declaring one twice is a programming error."""
    found = Relation(parent, field, fetch, key, wrap, many)
    if found.name in _REGISTRY:
        raise ValueError(f"relation {found.name} is declared twice")
    _REGISTRY[found.name] = found
    return found


def batched(query: Callable[..., Awaitable[Mapping[str, Any]]], keyword: str) -> Fetch:
    """A data-layer query (``query(session=, scope=, <keyword>=keys)``) as a ``Fetch``.
    Relations meant to share one load must share the one fetch this returns."""

    async def fetch(session: AsyncSession, scope: Scope, keys: list[str]) -> Mapping[str, Any]:
        return await query(session=session, scope=scope, **{keyword: keys})

    return fetch


def _own_id(parent: Any) -> str:
    return str(parent.id)


def children(
    parent: str,
    field: str,
    query: Callable[..., Awaitable[Mapping[str, Any]]],
    *,
    keyword: str,
    wrap: Callable[[Any], Any],
    many: bool = True,
) -> Relation:
    """``parent.field``: the rows ``query`` finds for many parents' ids (its argument
    ``keyword``) at once."""
    return relation(parent, field, fetch=batched(query, keyword), key=_own_id, wrap=wrap, many=many)


def by_id(parent: str, field: str, fetch: Fetch, wrap: Callable[[Any], Any]) -> Relation:
    """``parent.field`` (``Node.<Type>``, a payload): the one object whose id is the key."""
    return relation(parent, field, fetch=fetch, key=str, wrap=wrap, many=False)


def owner(
    parent: str, field: str, fetch: Fetch, *, column: str, wrap: Callable[[Any], Any]
) -> Relation:
    """``parent.field``: the one object the parent's ``column`` refers to (none when null)."""

    def key(source: Any) -> str | None:
        value = getattr(source, column)
        return None if value is None else str(value)

    return relation(parent, field, fetch=fetch, key=key, wrap=wrap, many=False)


def get(parent: str, field: str) -> Relation:
    return _REGISTRY[f"{parent}.{field}"]


def of_parent(parent: str) -> Sequence[Relation]:
    return [r for r in _REGISTRY.values() if r.parent == parent]


async def resolve(parent_type: str, field: str, source: Any, info: Info) -> Any:
    """A relation field's value, through the request's DataLoader for that relation (one
    batched statement for every parent asking in the same tick). Pages prefetch their
    orders' relations instead (``schema.prefetch``) and never get here."""
    rel = get(parent_type, field)
    key = rel.key(source)
    if key is None:
        return [] if rel.many else None
    return rel.value(await info.context.loaders.of(rel).load(key))


def related(parent: str, field: str, returns: Any, *, description: str | None = None) -> Any:
    """A field answered by the relation ``parent.field`` of its object; ``returns`` is the
    field's type (``schema.fast`` may answer it from the page's prefetch first)."""

    async def resolver(root: Any, info: strawberry.Info[Any, Any]) -> Any:
        return await resolve(parent, field, root, info)

    resolver.__annotations__["return"] = returns
    return strawberry.field(resolver=resolver, description=description)
