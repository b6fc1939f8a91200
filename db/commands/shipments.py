"""Shipment progress: the supplier says where the goods are and when they should
arrive — for its own driver's runs too, whose carrier stays unnamed to the client.

Whoever may dispatch an order reports on its shipments (the policy table's
``dispatchOrder`` row, through ``Scope.actions``). Each change is a new order version
and an event whose kind names the new status (``SHIPMENT_IN_TRANSIT``, ...), so the
client's timeline and every live page hear of it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db import validation as v
from db.commands._order import NOTE_MAX, check_version, future_date, locked_order
from db.commands.context import Call
from db.errors import DomainError, ErrorCode, raise_if
from db.lifecycle import Action
from db.models import Order, OrderStage, Shipment, ShipmentStatus
from db.queries.scope import order_scope

# Shipments exist from the first dispatch on; the carrier's "delivered" may come after
# the buyer has checked everything in.
UPDATABLE_STAGES = frozenset({OrderStage.DISPATCHED, OrderStage.DELIVERED})


def status_event_kind(status: ShipmentStatus) -> str:
    return f"SHIPMENT_{status.value}"


async def update_shipment(
    call: Call,
    *,
    shipment_id: str,
    status: ShipmentStatus,
    estimated_arrival: date | None,
    note: str | None,
    expected_version: int | None,
) -> Order:
    """Set the shipment's status (and estimate, when given: omitted keeps the current
    one). Not in scope, or a caller that cannot dispatch: the same NOT_FOUND."""
    order_id = None
    if Action.DISPATCH in call.scope.actions:
        order_id = await call.session.scalar(
            select(Shipment.order_id)
            .join(Order, Order.id == Shipment.order_id)
            .where(order_scope(call.scope), Shipment.id == shipment_id)
        )
    if order_id is None:
        raise DomainError(ErrorCode.NOT_FOUND, "no such shipment", ("shipment_id",))
    # The order first, then the shipment: the same lock order as dispatching.
    order = await locked_order(call, order_id)
    shipment = await call.session.scalar(
        select(Shipment).where(Shipment.id == shipment_id).with_for_update()
    )
    if order is None or shipment is None:  # gone between the two reads: never, but typed
        raise DomainError(ErrorCode.NOT_FOUND, "no such shipment", ("shipment_id",))
    check_version(order, expected_version)
    if order.stage not in UPDATABLE_STAGES:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"cannot update a shipment of an order in stage {order.stage.value}",
            ("shipment_id",),
        )
    if shipment.status is ShipmentStatus.DELIVERED:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION, "this shipment has been delivered", ("status",)
        )
    errors: list[DomainError | None] = [v.optional_text(note, ("note",), max_len=NOTE_MAX)]
    if estimated_arrival is not None:
        errors.append(future_date(estimated_arrival, call.now, ("estimated_arrival",)))
    changes_status = status is not shipment.status
    if status is ShipmentStatus.DISPATCHED and changes_status:
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                "a shipment on its way cannot be dispatched again",
                ("status",),
            )
        )
    new_estimate = estimated_arrival is not None and estimated_arrival != shipment.estimated_arrival
    has_note = bool(note and note.strip())
    if not (changes_status or new_estimate or has_note):
        errors.append(
            DomainError(
                ErrorCode.VALIDATION,
                "is already the shipment's status; give a new status, estimate or note",
                ("status",),
            )
        )
    raise_if(errors)
    if changes_status:
        shipment.status = status
        shipment.status_changed_at = call.now
    if new_estimate:
        shipment.estimated_arrival = estimated_arrival
    kind = status_event_kind(status) if changes_status else "SHIPMENT_UPDATED"
    await call.record(order, kind, note=note.strip() if has_note and note else None)
    return order
