"""Three-way matching: ordered vs received vs invoiced, per line. Pure."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from db.money import format_money


class MatchStatus(enum.StrEnum):
    AWAITING_RECEIPT = "AWAITING_RECEIPT"
    MATCHED = "MATCHED"
    QUANTITY_MISMATCH = "QUANTITY_MISMATCH"
    PRICE_MISMATCH = "PRICE_MISMATCH"


@dataclass(frozen=True)
class OrderedLine:
    line_no: int
    quantity: int
    unit_price: Decimal
    dispatched: int  # net of rejects: rejected goods are to be dispatched again
    received: int  # accepted only: rejected goods were never received
    cancelled: int = 0  # left outstanding by a short-close: it will not come

    @property
    def due(self) -> int:
        """What may still be invoiced for at most: ordered and not cancelled."""
        return self.quantity - self.cancelled


@dataclass(frozen=True)
class InvoicedLine:
    line_no: int
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Tolerance:
    price_percent: Decimal = Decimal(0)
    quantity: int = 0


@dataclass(frozen=True)
class MatchResult:
    status: MatchStatus
    discrepancies: list[str]


_SEVERITY = [
    MatchStatus.PRICE_MISMATCH,
    MatchStatus.QUANTITY_MISMATCH,
    MatchStatus.AWAITING_RECEIPT,
]


def match(
    ordered: Mapping[int, OrderedLine],
    invoiced: Sequence[InvoicedLine],
    tolerance: Tolerance = Tolerance(),
) -> MatchResult:
    """Match everything invoiced so far against the order and its receipts.

    Per line: invoiced quantity beyond what was ordered (less what a short-close
    cancelled) or dispatched (plus the quantity tolerance) is a QUANTITY_MISMATCH;
    beyond what was received but still in transit is AWAITING_RECEIPT; a unit price off
    the ordered one by more than the tolerance percent is a PRICE_MISMATCH. The worst
    finding wins. Rejected units count as neither dispatched nor received.
    """
    quantities: dict[int, int] = {}
    found: dict[MatchStatus, list[str]] = {s: [] for s in _SEVERITY}
    for line in invoiced:
        quantities[line.line_no] = quantities.get(line.line_no, 0) + line.quantity
        order_line = ordered[line.line_no]
        if order_line.unit_price == 0:
            off = line.unit_price != 0
            percent = Decimal(100) if off else Decimal(0)
        else:
            percent = abs(line.unit_price - order_line.unit_price) / order_line.unit_price * 100
            off = percent > tolerance.price_percent
        if off:
            found[MatchStatus.PRICE_MISMATCH].append(
                f"line {line.line_no}: invoiced unit price {format_money(line.unit_price)} "
                f"differs from ordered {format_money(order_line.unit_price)} by "
                f"{percent.quantize(Decimal('0.01'))}%"
                # No tolerance in the text: suppliers read it, and must not learn the
                # buyer's margin for automatic matching.
            )
    for line_no, qty in sorted(quantities.items()):
        order_line = ordered[line_no]
        limit = min(order_line.due, order_line.dispatched)
        if qty > limit + tolerance.quantity:
            if order_line.cancelled:
                basis = "kept after the short-close"
            elif order_line.due <= order_line.dispatched:
                basis = "ordered"
            else:
                basis = "dispatched"
            found[MatchStatus.QUANTITY_MISMATCH].append(
                f"line {line_no}: invoiced {qty} but {basis} {limit}"
            )
        elif qty > order_line.received + tolerance.quantity:
            found[MatchStatus.AWAITING_RECEIPT].append(
                f"line {line_no}: invoiced {qty} but received {order_line.received} so far"
            )
    for status in _SEVERITY:
        if found[status]:
            return MatchResult(status, [d for s in _SEVERITY for d in found[s]])
    return MatchResult(MatchStatus.MATCHED, [])
