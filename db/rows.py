"""Plain values from rows: what a query hands back instead of a mapped object."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")


def copied(
    cls: type[D], *sources: object, read: Mapping[str, Callable[[Any], object]] | None = None
) -> D:
    """A ``cls`` (a dataclass) whose every field is read off the first of ``sources``
    (mapped objects or result rows) that has an attribute of that name, through
    ``read[name]`` where given (for values a UNION hands back untyped)."""
    values = {}
    for name in _names(cls):
        source = sources[0] if len(sources) == 1 else next(s for s in sources if hasattr(s, name))
        value = getattr(source, name)
        values[name] = read[name](value) if read and name in read else value
    return cls(**values)


@functools.cache
def _names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))
