"""Changing an order's terms: a new revision that says what changed, every earlier one
kept.

Amendments (the buyer's) and accepted proposals (the supplier's terms, the buyer's yes)
both come here: the changes are checked against the order as it stands, applied to the
order and its lines, the total recomputed, and an ``OrderRevision`` row records the
number, the changes (each with its value before and after), the reason, when and by
whom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from db import validation as v
from db.commands.context import Call
from db.commands.lines import (
    MAX_LINES,
    LineChange,
    LineInput,
    check_line_changes,
    check_new_lines,
    new_order_line,
)
from db.errors import DomainError, ErrorCode
from db.models import Order, OrderLine, OrderRevision, RevisionField
from db.money import format_money
from db.notes import Audience
from db.scope import Scope


@dataclass(frozen=True)
class Terms:
    """New terms for an order: only what is given changes."""

    need_by: date | None = None
    promised_date: date | None = None
    lines: Sequence[LineChange] = ()
    add_lines: Sequence[LineInput] = ()


@dataclass(frozen=True)
class Change:
    """One changed term: a field (of a line, when ``line_no`` is set), before and after,
    as text (dates ISO, money exact)."""

    field: RevisionField
    line_no: int | None
    before: str | None
    after: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "field": self.field.value,
            "line_no": self.line_no,
            "before": self.before,
            "after": self.after,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        return cls(RevisionField(data["field"]), data["line_no"], data["before"], data["after"])


def check_terms(
    terms: Terms, order: Order, lines: Mapping[int, OrderLine], today: date
) -> list[DomainError | None]:
    """Every problem with ``terms`` for this order as it stands (none: they apply)."""
    errors: list[DomainError | None] = []
    if terms.need_by is not None and terms.need_by < today:
        errors.append(DomainError(ErrorCode.VALIDATION, "must not be in the past", ("need_by",)))
    if terms.promised_date is not None and terms.promised_date < today:
        errors.append(
            DomainError(ErrorCode.VALIDATION, "must not be in the past", ("promised_date",))
        )
    dispatched = {n: ln.dispatched_quantity for n, ln in lines.items()}
    errors += check_line_changes(terms.lines, dispatched, "lines")
    errors += check_new_lines(terms.add_lines, "add_lines")
    if len(lines) + len(terms.add_lines) > MAX_LINES:
        errors.append(
            DomainError(ErrorCode.VALIDATION, f"at most {MAX_LINES} lines", ("add_lines",))
        )
    if not any(errors):
        if _total(lines, terms) >= v.MAX_MONEY:
            errors.append(
                DomainError(ErrorCode.VALIDATION, "the order total is too large", ("lines",))
            )
        errors.append(_nothing_left(lines, terms))
    return errors


def _nothing_left(lines: Mapping[int, OrderLine], terms: Terms) -> DomainError | None:
    """Terms under which everything has already been received would leave an order that
    nothing can complete: that is a cancellation (or a short-close), not a revision."""
    if terms.add_lines:
        return None
    quantities = {n: ln.quantity for n, ln in lines.items()}
    for change in terms.lines:
        if change.quantity is not None:
            quantities[change.line_no] = change.quantity
    if all(q == lines[n].received_quantity for n, q in quantities.items()):
        return DomainError(
            ErrorCode.VALIDATION,
            "nothing would be left to deliver: the order would end, not change",
            ("lines",),
        )
    return None


def _total(lines: Mapping[int, OrderLine], terms: Terms) -> Decimal:
    changed = {c.line_no: c for c in terms.lines}
    total = Decimal(0)
    for n, line in lines.items():
        change = changed.get(n)
        quantity = line.quantity if change is None or change.quantity is None else change.quantity
        price = (
            line.unit_price if change is None or change.unit_price is None else change.unit_price
        )
        total += quantity * price
    return total + sum((ln.unit_price * ln.quantity for ln in terms.add_lines), Decimal(0))


def changes_of(terms: Terms, order: Order, lines: Mapping[int, OrderLine]) -> list[Change]:
    """What applying ``terms`` would change, in a stable order; values equal to the
    current ones are no change."""
    found: list[Change] = []
    if terms.need_by is not None and terms.need_by != order.need_by:
        found.append(
            Change(
                RevisionField.NEED_BY, None, order.need_by.isoformat(), terms.need_by.isoformat()
            )
        )
    if terms.promised_date is not None and terms.promised_date != order.promised_date:
        before = order.promised_date.isoformat() if order.promised_date else None
        found.append(
            Change(RevisionField.PROMISED_DATE, None, before, terms.promised_date.isoformat())
        )
    for change in sorted(terms.lines, key=lambda c: c.line_no):
        line = lines[change.line_no]
        if change.quantity is not None and change.quantity != line.quantity:
            found.append(
                Change(
                    RevisionField.QUANTITY,
                    line.line_no,
                    str(line.quantity),
                    str(change.quantity),
                )
            )
        if change.unit_price is not None and change.unit_price != line.unit_price:
            found.append(
                Change(
                    RevisionField.UNIT_PRICE,
                    line.line_no,
                    format_money(line.unit_price),
                    format_money(change.unit_price),
                )
            )
    next_no = max(lines, default=0) + 1
    for offset, new in enumerate(terms.add_lines):
        n = next_no + offset
        found += [
            Change(RevisionField.LINE_ADDED, n, None, new.part_number.strip()),
            Change(RevisionField.QUANTITY, n, None, str(new.quantity)),
            Change(RevisionField.UNIT_PRICE, n, None, format_money(new.unit_price)),
        ]
    return found


def apply_terms(
    call: Call,
    *,
    order: Order,
    lines: dict[int, OrderLine],
    terms: Terms,
    changes: Sequence[Change],
    by: str,
    by_subject: str,
    reason: str | None,
    reason_audience: Audience,
) -> OrderRevision:
    """Apply ``terms`` (already checked, ``changes`` their effect) as the next revision,
    whose terms are ``by``'s (a role; ``by_subject`` who in it).

    The promised date is not applied here: a new promise is the acknowledgement's, which
    also keeps the slip count."""
    if terms.need_by is not None:
        order.need_by = terms.need_by
    for change in terms.lines:
        line = lines[change.line_no]
        if change.quantity is not None:
            line.quantity = change.quantity
        if change.unit_price is not None:
            line.unit_price = change.unit_price
    next_no = max(lines, default=0) + 1
    for offset, new in enumerate(terms.add_lines):
        line = new_order_line(order, next_no + offset, new)
        call.session.add(line)
        lines[line.line_no] = line
    order.total = sum((ln.unit_price * ln.quantity for ln in lines.values()), Decimal(0))
    order.revision += 1
    revision = OrderRevision(
        order_id=order.id,
        number=order.revision,
        org=call.scope.org,
        at=call.now,
        actor_role=by,
        actor_subject=by_subject,
        reason=reason,
        reason_audience=reason_audience,
        changes=[c.to_json() for c in changes],
    )
    call.session.add(revision)
    return revision


def first_revision(order: Order, scope: Scope) -> OrderRevision:
    """Revision 1: the order as issued."""
    return OrderRevision(
        order_id=order.id,
        number=1,
        org=scope.org,
        at=order.issued_at,
        actor_role=scope.role.value,
        actor_subject=scope.subject,
        reason=None,
        reason_audience=frozenset(),
        changes=[],
    )
