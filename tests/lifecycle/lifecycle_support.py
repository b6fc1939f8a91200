"""Shared building blocks for the lifecycle tests: GraphQL documents, a small world
(a buyer, the order's supplier, a second supplier), walkers that bring an order to a
stage through the public mutations, and snapshots of what the buyer sees.

Not a test module and not a conftest (a second ``conftest`` module would shadow the
root one that other tests import from).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from conftest import GraphQL
from db.base import Base
from db.engine import Database
from db.lifecycle import Action
from db.models import OrderStage
from graphql_support import CREATE_SUPPLIER, NEED_BY, USER_ERRORS, payload_mutation

ISSUE_ORDER = """
mutation IssueOrder($input: IssueOrderInput!) {
  issueOrder(input: $input) { order { id version } userErrors { code message field } }
}
"""

# Everything about one order the buyer can see that a lifecycle step could touch.
# ``outlook`` is left out on purpose: it depends on the clock, not on the data.
ORDER_SNAPSHOT = """
fragment OrderSnapshot on Order {
  id number stage version needBy promisedDate total revision awaiting
  issuedAt acknowledgedAt productionStartedAt dispatchedAt deliveredAt stageEnteredAt
  lines { lineNo partNumber quantity unitPrice lineTotal dispatchedQuantity receivedQuantity
          rejectedQuantity cancelledQuantity }
  events { at stage kind actorRole actorSubject note promisedDate }
  shipments { id method carrier trackingReference trackingUrl dispatchedAt
              lines { lineNo quantity } }
  receipts { id receivedAt note
             lines { lineNo quantity rejectedQuantity rejectReason } }
  revisions { number at by reason changes { field lineNo before after } }
  pendingProposal { id revision proposedAt promisedDate note
                    lines { lineNo quantity unitPrice } }
  invoices { id number submittedAt total lines { lineNo quantity unitPrice }
             match discrepancies }
  match
}
"""

ORDER = "query Order($id: ID!) { order(id: $id) { ...OrderSnapshot } }" + ORDER_SNAPSHOT


def _order_mutation(name: str, input_type: str) -> str:
    return payload_mutation(name, input_type, "order { ...OrderSnapshot }") + ORDER_SNAPSHOT


def _light_mutation(name: str, input_type: str) -> str:
    return payload_mutation(name, input_type, "order { id stage version }")


ACKNOWLEDGE_ORDER = _order_mutation("acknowledgeOrder", "AcknowledgeOrderInput")
DECLINE_ORDER = _order_mutation("declineOrder", "DeclineOrderInput")
START_PRODUCTION = _order_mutation("startProduction", "OrderActionInput")
UPDATE_PROMISED_DATE = _order_mutation("updatePromisedDate", "UpdatePromisedDateInput")
ADD_MILESTONE = _order_mutation("addMilestone", "AddMilestoneInput")
DISPATCH_ORDER = _order_mutation("dispatchOrder", "DispatchOrderInput")
RECEIVE_DELIVERY = _order_mutation("receiveDelivery", "ReceiveDeliveryInput")
CANCEL_ORDER = _order_mutation("cancelOrder", "CancelOrderInput")

# Light versions for walking an order to a stage: the walk is set-up, not the subject.
WALK_ACKNOWLEDGE = _light_mutation("acknowledgeOrder", "AcknowledgeOrderInput")
WALK_DECLINE = _light_mutation("declineOrder", "DeclineOrderInput")
WALK_START = _light_mutation("startProduction", "OrderActionInput")
WALK_DISPATCH = _light_mutation("dispatchOrder", "DispatchOrderInput")
WALK_RECEIVE = _light_mutation("receiveDelivery", "ReceiveDeliveryInput")
WALK_CANCEL = _light_mutation("cancelOrder", "CancelOrderInput")

SUBMIT_INVOICE = f"""
mutation SubmitInvoice($input: SubmitInvoiceInput!) {{
  submitInvoice(input: $input) {{
    invoice {{ id number total lines {{ lineNo quantity unitPrice }} match discrepancies }}
    {USER_ERRORS}
  }}
}}
"""

SET_MATCHING_TOLERANCES = f"""
mutation SetMatchingTolerances($input: SetMatchingTolerancesInput!) {{
  setMatchingTolerances(input: $input) {{
    tolerances {{ priceTolerancePercent quantityTolerance }}
    {USER_ERRORS}
  }}
}}
"""

PROMISED = "2026-03-20"
LATER = "2026-03-27"
YESTERDAY = "2026-03-01"

# Two lines: 3 x 10.00 and 4 x 2.50.
LINES = (
    {"partNumber": "BRKT-1001", "description": "Bracket", "quantity": 3, "unitPrice": "10.00"},
    {"partNumber": "HSG-2002", "quantity": 4, "unitPrice": "2.50"},
)


@dataclass(frozen=True)
class World:
    """One org: a buyer, the supplier the orders go to, and a second supplier."""

    buyer: GraphQL
    supplier: GraphQL
    other_supplier: GraphQL
    supplier_id: str
    other_supplier_id: str


async def create_supplier(buyer: GraphQL, name: str) -> str:
    body = await buyer(CREATE_SUPPLIER, {"input": {"name": name}})
    payload = body["data"]["createSupplier"]
    assert payload["userErrors"] == []
    supplier_id: str = payload["supplier"]["id"]
    return supplier_id


async def make_world(as_role: Callable[..., GraphQL]) -> World:
    buyer = as_role("buyer")
    supplier_id = await create_supplier(buyer, "Northwind Machining")
    other_id = await create_supplier(buyer, "Southwind Castings")
    return World(
        buyer=buyer,
        supplier=as_role("supplier", supplier_id=supplier_id),
        other_supplier=as_role("supplier", supplier_id=other_id),
        supplier_id=supplier_id,
        other_supplier_id=other_id,
    )


async def issue_order(world: World) -> str:
    body = await world.buyer(
        ISSUE_ORDER,
        {
            "input": {
                "supplierId": world.supplier_id,
                "needBy": NEED_BY,
                "currency": "EUR",
                "lines": list(LINES),
            }
        },
    )
    payload = body["data"]["issueOrder"]
    assert payload["userErrors"] == []
    order_id: str = payload["order"]["id"]
    return order_id


async def ok(gql: GraphQL, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    """Run a mutation that must succeed; its payload."""
    body = await gql(document, variables)
    assert "errors" not in body, body
    (payload,) = body["data"].values()
    assert payload["userErrors"] == [], payload
    result: dict[str, Any] = payload
    return result


async def walk_to(world: World, stage: OrderStage) -> str:
    """A new order brought to ``stage`` through the public mutations.

    DISPATCHED means partly dispatched: all of line 1 is on its way, line 2 is not,
    so that a further dispatch is still possible. DELIVERED means everything was
    dispatched and received.
    """
    order_id = await issue_order(world)
    if stage is OrderStage.ISSUED:
        return order_id
    if stage is OrderStage.DECLINED:
        await ok(world.supplier, WALK_DECLINE, {"input": {"orderId": order_id, "reason": "full"}})
        return order_id
    if stage is OrderStage.CANCELLED:
        await ok(world.buyer, WALK_CANCEL, {"input": {"orderId": order_id, "reason": "gone"}})
        return order_id
    await ok(
        world.supplier, WALK_ACKNOWLEDGE, {"input": {"orderId": order_id, "promisedDate": PROMISED}}
    )
    if stage is OrderStage.ACKNOWLEDGED:
        return order_id
    await ok(world.supplier, WALK_START, {"input": {"orderId": order_id}})
    if stage is OrderStage.IN_PRODUCTION:
        return order_id
    await ok(
        world.supplier,
        WALK_DISPATCH,
        {
            "input": {
                "orderId": order_id,
                "method": "OWN_DRIVER",
                "lines": [{"lineNo": 1, "quantity": 3}],
            }
        },
    )
    if stage is OrderStage.DISPATCHED:
        return order_id
    await ok(
        world.supplier,
        WALK_DISPATCH,
        {"input": {"orderId": order_id, "method": "FREIGHT", "carrier": "Rhenus"}},
    )
    await ok(
        world.buyer,
        WALK_RECEIVE,
        {
            "input": {
                "orderId": order_id,
                "lines": [{"lineNo": 1, "quantity": 3}, {"lineNo": 2, "quantity": 4}],
            }
        },
    )
    assert stage is OrderStage.DELIVERED
    return order_id


async def snapshot(world: World, order_id: str) -> dict[str, Any]:
    body = await world.buyer(ORDER, {"id": order_id})
    assert "errors" not in body, body
    order: dict[str, Any] = body["data"]["order"]
    return order


async def database_state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order: the database's own word on
    'nothing written'."""
    async with db.read_session() as session:
        state: dict[str, list[tuple[Any, ...]]] = {}
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            state[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return state


@dataclass(frozen=True)
class Step:
    """One lifecycle mutation as the API offers it."""

    field: str
    document: str
    role: str  # "buyer" or "supplier"
    action: Action
    make_input: Callable[[dict[str, Any]], dict[str, Any]]  # from the order snapshot


def _receive_input(order: dict[str, Any]) -> dict[str, Any]:
    # Everything on its way; a token quantity where nothing is (the step is illegal then).
    lines = [
        {"lineNo": ln["lineNo"], "quantity": ln["dispatchedQuantity"] - ln["receivedQuantity"]}
        for ln in order["lines"]
        if ln["dispatchedQuantity"] > ln["receivedQuantity"]
    ]
    return {"orderId": order["id"], "lines": lines or [{"lineNo": 1, "quantity": 1}]}


def _invoice_input(order: dict[str, Any]) -> dict[str, Any]:
    line = order["lines"][0]
    return {
        "orderId": order["id"],
        "number": "INV-0001",
        "lines": [
            {
                "lineNo": 1,
                "quantity": max(line["dispatchedQuantity"], 1),
                "unitPrice": line["unitPrice"],
            }
        ],
    }


STEPS: tuple[Step, ...] = (
    Step(
        "acknowledgeOrder",
        ACKNOWLEDGE_ORDER,
        "supplier",
        Action.ACKNOWLEDGE,
        lambda o: {"orderId": o["id"], "promisedDate": PROMISED, "note": "can do"},
    ),
    Step(
        "declineOrder",
        DECLINE_ORDER,
        "supplier",
        Action.DECLINE,
        lambda o: {"orderId": o["id"], "reason": "no capacity"},
    ),
    Step(
        "startProduction",
        START_PRODUCTION,
        "supplier",
        Action.START_PRODUCTION,
        lambda o: {"orderId": o["id"], "note": "first cut"},
    ),
    Step(
        "updatePromisedDate",
        UPDATE_PROMISED_DATE,
        "supplier",
        Action.UPDATE_PROMISED_DATE,
        lambda o: {"orderId": o["id"], "promisedDate": LATER, "reason": "steel is late"},
    ),
    Step(
        "addMilestone",
        ADD_MILESTONE,
        "supplier",
        Action.ADD_MILESTONE,
        lambda o: {"orderId": o["id"], "note": "material ordered"},
    ),
    Step(
        "dispatchOrder",
        DISPATCH_ORDER,
        "supplier",
        Action.DISPATCH,
        lambda o: {
            "orderId": o["id"],
            "method": "COURIER",
            "carrier": "DHL",
            "trackingReference": "JD014600006281",
            "trackingUrl": "https://track.example/JD014600006281",
        },
    ),
    Step("receiveDelivery", RECEIVE_DELIVERY, "buyer", Action.RECEIVE, _receive_input),
    Step(
        "cancelOrder",
        CANCEL_ORDER,
        "buyer",
        Action.CANCEL,
        lambda o: {"orderId": o["id"], "reason": "client withdrew"},
    ),
    Step("submitInvoice", SUBMIT_INVOICE, "supplier", Action.SUBMIT_INVOICE, _invoice_input),
)

STEP_BY_FIELD = {step.field: step for step in STEPS}


def caller(world: World, role: str) -> GraphQL:
    return world.buyer if role == "buyer" else world.supplier
