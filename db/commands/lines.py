"""Line lists in commands: the quantities per order line a dispatch, receipt or invoice
names, and the one set of checks they all go through."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from db.errors import DomainError, ErrorCode


@dataclass(frozen=True)
class LineQuantity:
    line_no: int
    quantity: int


@dataclass(frozen=True)
class InvoiceLineInput:
    line_no: int
    quantity: int
    unit_price: Decimal


def line_problems(
    line_nos: Iterable[int], known: Iterable[int], field: str
) -> tuple[list[DomainError | None], set[int]]:
    """Each listed line must exist on the order and be listed once. Returns the errors
    and the indexes (in the request) of the lines that failed, whose other checks are
    then skipped."""
    known_set, seen = set(known), set()
    errors: list[DomainError | None] = []
    bad: set[int] = set()
    for i, line_no in enumerate(line_nos):
        path = (field, i, "line_no")
        if line_no in seen:
            errors.append(
                DomainError(ErrorCode.VALIDATION, f"line {line_no} is listed twice", path)
            )
            bad.add(i)
        elif line_no not in known_set:
            errors.append(
                DomainError(ErrorCode.VALIDATION, f"no line {line_no} on this order", path)
            )
            bad.add(i)
        seen.add(line_no)
    return errors, bad


def check_line_quantities(
    requested: Sequence[LineQuantity], available: dict[int, int], what: str, field: str
) -> list[DomainError | None]:
    """Known, distinct lines, each with a quantity above zero and within ``available``."""
    errors, bad = line_problems((item.line_no for item in requested), available, field)
    for i, item in enumerate(requested):
        if i in bad:
            continue
        path = (field, i, "quantity")
        if item.quantity <= 0:
            errors.append(DomainError(ErrorCode.VALIDATION, "must be greater than zero", path))
        elif item.quantity > available[item.line_no]:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION,
                    f"line {item.line_no}: {item.quantity} is more than the "
                    f"{available[item.line_no]} {what}",
                    path,
                )
            )
    return errors
