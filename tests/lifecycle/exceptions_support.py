"""Building blocks for the tests of orders that do not go to plan: the mutations that
propose, answer, amend and short-close, as lifecycle steps; every reachable state
(stage x what the order awaits); and a walker that brings a new order to any of them
through the public mutations.

Kept apart from ``lifecycle_support`` (whose steps the older tests walk one by one);
``ALL_STEPS`` joins both.
"""

from __future__ import annotations

from typing import Any

from lifecycle_support import (
    ORDER_SNAPSHOT,
    STEPS,
    WALK_RECEIVE,
    Step,
    World,
    ok,
    walk_to,
)

from db.lifecycle import Action
from db.models import Awaiting, OrderStage
from graphql_support import payload_mutation

S, W = OrderStage, Awaiting

PROPOSED = "2026-03-24"  # the supplier's counter-date (PROMISED is 2026-03-20)


def _order_mutation(name: str, input_type: str) -> str:
    return payload_mutation(name, input_type, "order { ...OrderSnapshot }") + ORDER_SNAPSHOT


def _light_mutation(name: str, input_type: str) -> str:
    return payload_mutation(name, input_type, "order { id stage version awaiting revision }")


PROPOSE_CHANGES = _order_mutation("proposeChanges", "ProposeChangesInput")
RESPOND_TO_PROPOSAL = _order_mutation("respondToProposal", "RespondToProposalInput")
AMEND_ORDER = _order_mutation("amendOrder", "AmendOrderInput")
CLOSE_ORDER = _order_mutation("closeOrder", "CloseOrderInput")

WALK_PROPOSE = _light_mutation("proposeChanges", "ProposeChangesInput")
WALK_AMEND = _light_mutation("amendOrder", "AmendOrderInput")
WALK_CLOSE = _light_mutation("closeOrder", "CloseOrderInput")


def _line(order: dict[str, Any], line_no: int) -> dict[str, Any]:
    line: dict[str, Any] = next(ln for ln in order["lines"] if ln["lineNo"] == line_no)
    return line


def propose_input(order: dict[str, Any]) -> dict[str, Any]:
    """A counter-offer that always changes something: another date, one more of line 2
    (never dispatched in the walks) and a dearer line 1."""
    return {
        "orderId": order["id"],
        "promisedDate": PROPOSED,
        "lines": [
            {"lineNo": 1, "unitPrice": "10.50"},
            {"lineNo": 2, "quantity": _line(order, 2)["quantity"] + 1},
        ],
        "note": "steel went up; can ship one more",
    }


def amend_input(order: dict[str, Any]) -> dict[str, Any]:
    """Two more of line 2: a change in every state the order may be amended in."""
    return {
        "orderId": order["id"],
        "lines": [{"lineNo": 2, "quantity": _line(order, 2)["quantity"] + 2}],
        "reason": "client doubled the kit",
    }


EXCEPTION_STEPS: tuple[Step, ...] = (
    Step("proposeChanges", PROPOSE_CHANGES, "supplier", Action.PROPOSE_CHANGES, propose_input),
    Step(
        "respondToProposal",
        RESPOND_TO_PROPOSAL,
        "buyer",
        Action.ACCEPT_PROPOSAL,
        lambda o: {"orderId": o["id"], "accept": True, "note": "agreed"},
    ),
    Step(
        "respondToProposal",
        RESPOND_TO_PROPOSAL,
        "buyer",
        Action.REJECT_PROPOSAL,
        lambda o: {"orderId": o["id"], "accept": False, "note": "too dear"},
    ),
    Step("amendOrder", AMEND_ORDER, "buyer", Action.AMEND, amend_input),
    Step(
        "closeOrder",
        CLOSE_ORDER,
        "buyer",
        Action.CLOSE,
        lambda o: {"orderId": o["id"], "reason": "the rest is not needed"},
    ),
)
ALL_STEPS: tuple[Step, ...] = STEPS + EXCEPTION_STEPS

# Every state an order can be in: its stage and whose move it is.
STATES: tuple[tuple[OrderStage, Awaiting], ...] = (
    (S.ISSUED, W.ACKNOWLEDGEMENT),
    (S.ISSUED, W.ANSWER),
    *(
        (stage, awaiting)
        for stage in (S.ACKNOWLEDGED, S.IN_PRODUCTION, S.DISPATCHED)
        for awaiting in (W.NOTHING, W.ACKNOWLEDGEMENT, W.ANSWER)
    ),
    (S.DELIVERED, W.NOTHING),
    (S.DECLINED, W.NOTHING),
    (S.CANCELLED, W.NOTHING),
    (S.CLOSED, W.NOTHING),
)


def state_id(state: tuple[OrderStage, Awaiting]) -> str:
    stage, awaiting = state
    return stage.value if awaiting is W.NOTHING else f"{stage.value}+{awaiting.value}"


async def walk_to_state(world: World, stage: OrderStage, awaiting: Awaiting) -> str:
    """A new order brought to (``stage``, ``awaiting``) through the public mutations.

    A revision awaiting acknowledgement is an amendment after acknowledgement; a pending
    proposal is the supplier's answer to the PO (ISSUED) or to such a revision. CLOSED
    is a partly dispatched order (``walk_to``) whose line 1 was received, then closed.
    """
    if stage is S.CLOSED:
        order_id = await walk_to(world, S.DISPATCHED)
        receipt = {"orderId": order_id, "lines": [{"lineNo": 1, "quantity": 3}]}
        await ok(world.buyer, WALK_RECEIVE, {"input": receipt})
        await ok(world.buyer, WALK_CLOSE, {"input": {"orderId": order_id, "reason": "done"}})
        return order_id
    order_id = await walk_to(world, stage)
    amended = stage is not S.ISSUED and awaiting is not W.NOTHING
    if amended:
        change = {"orderId": order_id, "lines": [{"lineNo": 2, "quantity": 5}], "reason": "more"}
        await ok(world.buyer, WALK_AMEND, {"input": change})
    if awaiting is W.ANSWER:
        proposal = {
            "orderId": order_id,
            "promisedDate": PROPOSED,
            "lines": [{"lineNo": 2, "quantity": 6}],
            "note": "six is a full crate",
        }
        await ok(world.supplier, WALK_PROPOSE, {"input": proposal})
    return order_id
