"""The order state machine as data: which action moves which stage.

An order's state is its stage and whose move it is (``Awaiting``): every ISSUED order
awaits the supplier's acknowledgement, and so does an acknowledged one the buyer
amended (a revision awaiting acknowledgement); after the supplier proposes changes
the order awaits the buyer's answer (a proposal pending). An action is legal in the
stages it ``moves`` from, while the order awaits one of ``awaiting``.

Pure: no I/O. Commands (``db.commands``) consult it before touching a row. Who may
take each action is policy (``permissions.policy.ACTION_MUTATIONS``): it reaches the
commands as ``Scope.actions``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from db.errors import DomainError, ErrorCode
from db.models import Awaiting, OrderStage

S = OrderStage
W = Awaiting


class Action(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    DECLINE = "decline"
    PROPOSE_CHANGES = "propose changes to"
    ACCEPT_PROPOSAL = "accept a proposal on"
    REJECT_PROPOSAL = "reject a proposal on"
    AMEND = "amend"
    START_PRODUCTION = "start production of"
    UPDATE_PROMISED_DATE = "update the promised date of"
    ADD_MILESTONE = "add a milestone to"
    DISPATCH = "dispatch"
    RECEIVE = "receive"
    CANCEL = "cancel"
    CLOSE = "close"
    SUBMIT_INVOICE = "invoice"


@dataclass(frozen=True)
class Transition:
    moves: Mapping[OrderStage, OrderStage]  # stage before -> stage after
    event_kind: str
    awaiting: frozenset[Awaiting]  # legal only while the order awaits one of these
    then: Awaiting | None = None  # what the order awaits afterwards (None: unchanged)

    @property
    def sources(self) -> frozenset[OrderStage]:
        return frozenset(self.moves)

    def target(self, stage: OrderStage) -> OrderStage:
        return self.moves[stage]


def _stay(*stages: OrderStage) -> dict[OrderStage, OrderStage]:
    return {stage: stage for stage in stages}


ANY = frozenset(Awaiting)
RUNNING = frozenset({W.NOTHING})  # acknowledged as it stands, nothing pending
UNACKNOWLEDGED = frozenset({W.ACKNOWLEDGEMENT})
PROPOSED = frozenset({W.ANSWER})
# Stages in which terms may change: until the last unit has been dispatched and
# received, revisions and proposals stay possible (never below what was dispatched).
OPEN = (S.ISSUED, S.ACKNOWLEDGED, S.IN_PRODUCTION, S.DISPATCHED)

TRANSITIONS: dict[Action, Transition] = {
    # Acknowledging the PO as issued moves it on; acknowledging a later revision keeps
    # the stage and lets production or dispatch continue.
    Action.ACKNOWLEDGE: Transition(
        {S.ISSUED: S.ACKNOWLEDGED} | _stay(S.ACKNOWLEDGED, S.IN_PRODUCTION, S.DISPATCHED),
        "ACKNOWLEDGED",
        UNACKNOWLEDGED,
        then=W.NOTHING,
    ),
    Action.DECLINE: Transition({S.ISSUED: S.DECLINED}, "DECLINED", UNACKNOWLEDGED, W.NOTHING),
    # Instead of acknowledging: the supplier's own terms; the buyer answers.
    Action.PROPOSE_CHANGES: Transition(_stay(*OPEN), "CHANGES_PROPOSED", UNACKNOWLEDGED, W.ANSWER),
    # Accepting acknowledges on the proposed terms; rejecting puts back what the proposal
    # answered (the PO or the revision), for the supplier to acknowledge or propose again.
    Action.ACCEPT_PROPOSAL: Transition(
        {S.ISSUED: S.ACKNOWLEDGED} | _stay(S.ACKNOWLEDGED, S.IN_PRODUCTION, S.DISPATCHED),
        "PROPOSAL_ACCEPTED",
        PROPOSED,
        then=W.NOTHING,
    ),
    Action.REJECT_PROPOSAL: Transition(
        _stay(*OPEN), "PROPOSAL_REJECTED", PROPOSED, then=W.ACKNOWLEDGEMENT
    ),
    # A new revision the supplier must acknowledge (an ISSUED order awaits that anyway).
    # Not while a proposal waits for the buyer's answer: answer it first.
    Action.AMEND: Transition(
        _stay(*OPEN), "AMENDED", RUNNING | UNACKNOWLEDGED, then=W.ACKNOWLEDGEMENT
    ),
    Action.START_PRODUCTION: Transition(
        {S.ACKNOWLEDGED: S.IN_PRODUCTION}, "PRODUCTION_STARTED", RUNNING
    ),
    Action.UPDATE_PROMISED_DATE: Transition(
        _stay(S.ACKNOWLEDGED, S.IN_PRODUCTION), "PROMISE_UPDATED", RUNNING
    ),
    # A milestone is news, not a commitment: it may come whatever is pending.
    Action.ADD_MILESTONE: Transition(_stay(S.ACKNOWLEDGED, S.IN_PRODUCTION), "MILESTONE", ANY),
    # A first dispatch moves IN_PRODUCTION to DISPATCHED; later partial shipments stay there.
    Action.DISPATCH: Transition(
        {S.IN_PRODUCTION: S.DISPATCHED, S.DISPATCHED: S.DISPATCHED}, "DISPATCHED", RUNNING
    ),
    # Goods already on their way can be checked in whatever is pending. Partial receipts
    # stay DISPATCHED; the command moves to DELIVERED when all is in.
    Action.RECEIVE: Transition(_stay(S.DISPATCHED), "RECEIVED", ANY),
    Action.CANCEL: Transition(
        dict.fromkeys((S.ISSUED, S.ACKNOWLEDGED, S.IN_PRODUCTION), S.CANCELLED),
        "CANCELLED",
        ANY,
        then=W.NOTHING,
    ),
    # Short-close: some of it came, the rest will not (before any dispatch: cancel).
    Action.CLOSE: Transition({S.DISPATCHED: S.CLOSED}, "CLOSED", ANY, then=W.NOTHING),
    Action.SUBMIT_INVOICE: Transition(
        _stay(S.DISPATCHED, S.DELIVERED, S.CLOSED), "INVOICE_SUBMITTED", ANY
    ),
}

_WHY = {
    W.ACKNOWLEDGEMENT: "the supplier has not acknowledged its current revision",
    W.ANSWER: "a proposal is waiting for the buyer's answer",
    W.NOTHING: "there is no new revision to acknowledge and no proposal to answer",
}


def check(action: Action, stage: OrderStage, awaiting: Awaiting) -> Transition:
    """The transition for ``action`` from this state, or INVALID_TRANSITION naming the
    stage (and, when the stage is right, what the order is waiting for)."""
    transition = TRANSITIONS[action]
    if stage not in transition.moves:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"cannot {action.value} an order in stage {stage.value}",
            ("order_id",),
        )
    if awaiting not in transition.awaiting:
        raise DomainError(
            ErrorCode.INVALID_TRANSITION,
            f"cannot {action.value} an order in stage {stage.value} while {_WHY[awaiting]}",
            ("order_id",),
        )
    return transition


def event_kinds(action: Action, stage: OrderStage) -> tuple[str, ...]:
    """The events ``action`` writes from ``stage``, in order. Its transition's kind —
    except that acknowledging a later revision is ``REVISION_ACKNOWLEDGED``, and a
    proposal accepted while the PO was still unacknowledged is followed by the supplier's
    ``ACKNOWLEDGED`` (the proposal was its acknowledgement). Both keep the negotiation
    apart from the plain progress that the client's row rules let it see."""
    kind = TRANSITIONS[action].event_kind
    if action is Action.ACKNOWLEDGE and stage is not OrderStage.ISSUED:
        return ("REVISION_ACKNOWLEDGED",)
    if action is Action.ACCEPT_PROPOSAL and stage is OrderStage.ISSUED:
        return (kind, TRANSITIONS[Action.ACKNOWLEDGE].event_kind)
    return (kind,)
