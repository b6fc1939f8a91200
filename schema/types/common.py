"""The interface every object with an ID implements, the viewer, and how a type is
built from the row (or domain object) it shows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import cache
from operator import attrgetter
from typing import Any, Self, TypeVar

import strawberry
from strawberry.types.base import has_object_definition
from strawberry.types.private import is_private

T = TypeVar("T")


def copy_fields(cls: type[T], source: object, **overrides: Any) -> T:
    """A ``cls`` (a Strawberry type or any dataclass) whose fields are ``source``'s
    attributes of the same names; ``overrides`` give the fields computed or named
    otherwise."""
    names, get = _getter(cls, tuple(overrides))  # type: ignore[arg-type]  # classes hash
    return cls(**dict(zip(names, get(source), strict=True)), **overrides)


@cache
def _getter(
    cls: type, computed: tuple[str, ...]
) -> tuple[tuple[str, ...], Callable[[object], tuple[Any, ...]]]:
    """The names ``copy_fields`` copies for these overrides, and one getter for all of
    them (as fast as the hand-written constructor calls it replaces)."""
    names = tuple(n for n in _copied(cls) if n not in computed)
    if len(names) > 1:
        return names, attrgetter(*names)
    return names, lambda source: tuple(getattr(source, n) for n in names)


@cache
def _copied(cls: type) -> tuple[str, ...]:
    """The fields ``copy_fields`` takes from the source. A ``strawberry.Private`` field
    with a default is the object's own state (a prefetch cache, a secret shown once),
    not the row's: it keeps its default."""
    private = (
        {f.python_name for f in cls.__strawberry_definition__.fields if is_private(f.type)}
        if has_object_definition(cls)
        else set()
    )
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.init
        and (
            f.name not in private
            or (f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
        )
    )


class FromRow:
    """``from_row``: a type whose fields all stand on its row (or domain object) under
    the same names."""

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return copy_fields(cls, row)


@strawberry.interface(description="An object with a global, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Who the token says the caller is.")
class Viewer:
    role: str
    org: str
    subject: str
    client_id: strawberry.ID | None
    supplier_id: strawberry.ID | None
