"""Plain values from rows: what a query hands back instead of a mapped object."""

from __future__ import annotations

import dataclasses
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
    for field in dataclasses.fields(cls):
        source = next(s for s in sources if hasattr(s, field.name))
        value = getattr(source, field.name)
        values[field.name] = read[field.name](value) if read and field.name in read else value
    return cls(**values)
