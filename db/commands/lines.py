"""Line lists in commands: the quantities per order line a dispatch, receipt or invoice
names, the new and changed lines of an order or a revision, and the one set of checks
they all go through."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from db import validation as v
from db.errors import DomainError, ErrorCode
from db.models import Order, OrderLine

NOTE_MAX = 2000
MAX_LINES = 500  # on one order


@dataclass(frozen=True)
class LineQuantity:
    line_no: int
    quantity: int


@dataclass(frozen=True)
class ReceiptLineInput:
    """Units of one line checked in: ``quantity`` accepted, ``rejected_quantity`` sent back
    (they return to what is still to dispatch) with the reason the supplier reads."""

    line_no: int
    quantity: int
    rejected_quantity: int = 0
    reject_reason: str | None = None


@dataclass(frozen=True)
class LineInput:
    """A new order line (issuing an order, or adding to one)."""

    part_number: str
    quantity: int
    unit_price: Decimal
    description: str | None = None


def new_order_line(order: Order, line_no: int, line: LineInput) -> OrderLine:
    """``line`` as line ``line_no`` of ``order``: nothing of it dispatched, received,
    rejected or cancelled yet."""
    return OrderLine(
        order_id=order.id,
        line_no=line_no,
        org=order.org,
        part_number=line.part_number.strip(),
        description=line.description,
        quantity=line.quantity,
        unit_price=line.unit_price,
        dispatched_quantity=0,
        received_quantity=0,
        rejected_quantity=0,
        cancelled_quantity=0,
    )


@dataclass(frozen=True)
class LineChange:
    """New terms for an existing line: only what is given changes."""

    line_no: int
    quantity: int | None = None
    unit_price: Decimal | None = None

    def to_json(self) -> dict[str, Any]:
        price = None if self.unit_price is None else str(self.unit_price)
        return {"line_no": self.line_no, "quantity": self.quantity, "unit_price": price}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LineChange:
        price = data["unit_price"]
        return cls(data["line_no"], data["quantity"], None if price is None else Decimal(price))


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


def check_new_lines(lines: Sequence[LineInput], field: str) -> list[DomainError | None]:
    errors: list[DomainError | None] = []
    for i, line in enumerate(lines):
        errors += [
            v.required_text(line.part_number, (field, i, "part_number"), max_len=100),
            v.optional_text(line.description, (field, i, "description"), max_len=2000),
            v.positive_quantity(line.quantity, (field, i, "quantity")),
            v.money(line.unit_price, (field, i, "unit_price")),
        ]
    return errors


def check_line_changes(
    changes: Sequence[LineChange], dispatched: Mapping[int, int], field: str
) -> list[DomainError | None]:
    """Known, distinct lines, each changing its quantity or its unit price; a quantity
    never below what has already been dispatched (0 drops a line nothing was sent of)."""
    errors, bad = line_problems((c.line_no for c in changes), dispatched, field)
    for i, change in enumerate(changes):
        if i in bad:
            continue
        if change.quantity is None and change.unit_price is None:
            errors.append(
                DomainError(ErrorCode.VALIDATION, "give a new quantity or unit price", (field, i))
            )
        if change.quantity is not None:
            path = (field, i, "quantity")
            sent = dispatched[change.line_no]
            if change.quantity < 0:
                errors.append(DomainError(ErrorCode.VALIDATION, "must not be negative", path))
            elif change.quantity > 1_000_000_000:
                errors.append(DomainError(ErrorCode.VALIDATION, "is too large", path))
            elif change.quantity < sent:
                errors.append(
                    DomainError(
                        ErrorCode.VALIDATION,
                        f"line {change.line_no}: {sent} already dispatched, "
                        f"{change.quantity} is less",
                        path,
                    )
                )
        if change.unit_price is not None:
            errors.append(v.money(change.unit_price, (field, i, "unit_price")))
    return errors


def check_receipt_lines(
    lines: Sequence[ReceiptLineInput], in_transit: Mapping[int, int], field: str
) -> list[DomainError | None]:
    """Known, distinct lines; accepted and rejected units not negative, some of either,
    together within what is on its way; a reason for every reject."""
    errors, bad = line_problems((ln.line_no for ln in lines), in_transit, field)
    for i, line in enumerate(lines):
        if i in bad:
            continue
        accepted, rejected = (field, i, "quantity"), (field, i, "rejected_quantity")
        if line.quantity < 0:
            errors.append(DomainError(ErrorCode.VALIDATION, "must not be negative", accepted))
        if line.rejected_quantity < 0:
            errors.append(DomainError(ErrorCode.VALIDATION, "must not be negative", rejected))
        if line.quantity < 0 or line.rejected_quantity < 0:
            continue
        total, available = line.quantity + line.rejected_quantity, in_transit[line.line_no]
        if total == 0:
            errors.append(DomainError(ErrorCode.VALIDATION, "must be greater than zero", accepted))
        elif total > available:
            errors.append(
                DomainError(
                    ErrorCode.VALIDATION,
                    f"line {line.line_no}: {total} is more than the {available} "
                    "dispatched and not yet received",
                    accepted,
                )
            )
        reason = (field, i, "reject_reason")
        if line.rejected_quantity > 0:
            errors.append(v.required_text(line.reject_reason, reason, max_len=NOTE_MAX))
        elif line.reject_reason is not None:
            errors.append(
                DomainError(ErrorCode.VALIDATION, "only with a rejected quantity", reason)
            )
    return errors
