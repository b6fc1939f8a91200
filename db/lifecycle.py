"""The order state machine as data: which action moves which stage.

Pure: no I/O. Commands (``db.commands``) consult it before touching a row. Who may
take each action is policy (``permissions.policy.ACTION_MUTATIONS``): it reaches the
commands as ``Scope.actions``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from db.errors import DomainError, ErrorCode
from db.models import OrderStage

S = OrderStage


class Action(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DECLINE = "decline"
    START_PRODUCTION = "start production of"
    UPDATE_PROMISED_DATE = "update the promised date of"
    ADD_MILESTONE = "add a milestone to"
    DISPATCH = "dispatch"
    RECEIVE = "receive"
    CANCEL = "cancel"
    SUBMIT_INVOICE = "invoice"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[OrderStage]
    target: OrderStage | None  # None: the stage stays (heartbeat, partial steps)
    event_kind: str


TRANSITIONS: dict[Action, Transition] = {
    Action.ACKNOWLEDGE: Transition(frozenset({S.ISSUED}), S.ACKNOWLEDGED, "ACKNOWLEDGED"),
    Action.DECLINE: Transition(frozenset({S.ISSUED}), S.DECLINED, "DECLINED"),
    Action.START_PRODUCTION: Transition(
        frozenset({S.ACKNOWLEDGED}), S.IN_PRODUCTION, "PRODUCTION_STARTED"
    ),
    Action.UPDATE_PROMISED_DATE: Transition(
        frozenset({S.ACKNOWLEDGED, S.IN_PRODUCTION}), None, "PROMISE_UPDATED"
    ),
    Action.ADD_MILESTONE: Transition(
        frozenset({S.ACKNOWLEDGED, S.IN_PRODUCTION}), None, "MILESTONE"
    ),
    # A first dispatch moves IN_PRODUCTION to DISPATCHED; later partial shipments stay there.
    Action.DISPATCH: Transition(
        frozenset({S.IN_PRODUCTION, S.DISPATCHED}), S.DISPATCHED, "DISPATCHED"
    ),
    # Partial receipts stay DISPATCHED; the command moves to DELIVERED when all is in.
    Action.RECEIVE: Transition(frozenset({S.DISPATCHED}), None, "RECEIVED"),
    Action.CANCEL: Transition(
        frozenset({S.ISSUED, S.ACKNOWLEDGED, S.IN_PRODUCTION}), S.CANCELLED, "CANCELLED"
    ),
    Action.SUBMIT_INVOICE: Transition(
        frozenset({S.DISPATCHED, S.DELIVERED}), None, "INVOICE_SUBMITTED"
    ),
}


def check(action: Action, stage: OrderStage) -> Transition:
    """The transition for ``action`` from ``stage``, or INVALID_TRANSITION naming the stage."""
    transition = TRANSITIONS[action]
    if stage not in transition.sources:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"cannot {action.value} an order in stage {stage.value}",
            ("order_id",),
        )
    return transition
