"""Plain values from rows: what a query hands back instead of a mapped object."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

D = TypeVar("D", bound="DataclassInstance")


def copied(cls: type[D], *sources: object) -> D:
    """A ``cls`` (a dataclass) whose every field is read off the first of ``sources``
    (mapped objects or result rows) that has an attribute of that name."""
    values = {}
    for field in dataclasses.fields(cls):
        source = next(s for s in sources if hasattr(s, field.name))
        values[field.name] = getattr(source, field.name)
    return cls(**values)
