"""Typed domain errors: what a user did wrong, in words safe to show that user."""

from __future__ import annotations

import enum
from collections.abc import Sequence


class ErrorCode(enum.StrEnum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    CONFLICT = "CONFLICT"
    VALIDATION = "VALIDATION"
    RATE_LIMITED = "RATE_LIMITED"  # too many of one action in a window: try again later


FieldPath = tuple[str | int, ...]
"""Where in a command's input a problem is: domain names and list indexes,
e.g. ``("lines", 0, "quantity")``. Adapters translate it to their own naming."""


class DomainError(Exception):
    """Raised by commands; the transaction rolls back and the user gets ``userErrors``.

    ``message`` must never name anything the caller may not see: commands build
    it only from the caller's own input and from rows already in the caller's scope.
    """

    def __init__(
        self, code: ErrorCode, message: str, field: Sequence[str | int] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field: FieldPath | None = tuple(field) if field is not None else None


class DomainErrors(Exception):
    """Several validation problems found at once (all reported, nothing written)."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


def raise_if(errors: Sequence[DomainError | None]) -> None:
    """Raise every problem found at once (``None`` entries are checks that passed)."""
    found = [e for e in errors if e is not None]
    if found:
        raise DomainErrors(found)
