"""Canaries, byte by byte: every Query entry point of a client's and a supplier's schema,
selected as deeply as the role's schema allows, never returns a value that viewer must
not learn (supplier identity, prices, internal notes, invoices, the other client, the
other supplier, the other organisation); nor do a supplier's mutation payloads.
"""

from __future__ import annotations

from typing import Any

import pytest

from permissions.principal import Role
from redaction_support import (
    MaximalSelection,
    assert_not_masked,
    entry_points,
    leaked,
    sweep_entry_points,
)
from worlds.canary import (
    CLIENT_A,
    CLIENT_B,
    INVOICE_NUMBER,
    SUPPLIER_A,
    SUPPLIER_B,
    UNIT_PRICE,
    World,
)

CLIENT_ENTRY_POINTS = entry_points(Role.CLIENT)
SUPPLIER_ENTRY_POINTS = entry_points(Role.SUPPLIER)
ENTRY_POINTS = {
    CLIENT_A: CLIENT_ENTRY_POINTS,
    CLIENT_B: CLIENT_ENTRY_POINTS,
    SUPPLIER_A: SUPPLIER_ENTRY_POINTS,
    SUPPLIER_B: SUPPLIER_ENTRY_POINTS,
}


@pytest.mark.parametrize("viewer", [CLIENT_A, CLIENT_B, SUPPLIER_A, SUPPLIER_B])
async def test_no_query_entry_point_returns_a_canary_the_viewer_must_not_see(
    viewer: str, world: World
) -> None:
    # given
    gql = world.caller(viewer)
    hidden = world.hidden_from(viewer)

    # when
    responses = await sweep_entry_points(world, gql, ENTRY_POINTS[viewer])

    # then
    for label, response in responses:
        assert_not_masked(response, label)
        assert "errors" not in response.json(), (label, response.content[:500])
    leaks = {label: found for label, r in responses if (found := leaked(r.content, hidden))}
    assert leaks == {}, f"{viewer} received canaries: {leaks}"
    # ... and the sweep did reach the data: every canary this viewer may see came back.
    everything = b"".join(r.content for _, r in responses)
    visible = {c.name: c.value for c in world.canaries if viewer in c.seen_by}
    assert visible
    assert leaked(everything, visible) == visible


# -- supplier mutation payloads ------------------------------------------------------------

SUPPLIER_MUTATION = MaximalSelection(Role.SUPPLIER)


def _supplier_mutation(name: str, input_type: str, payload: str) -> str:
    return SUPPLIER_MUTATION.document(
        f"mutation {name[0].upper()}{name[1:]}($input: {input_type}!) "
        f"{{ {name}(input: $input) {SUPPLIER_MUTATION.of(payload)} }}"
    )


ACKNOWLEDGE_ORDER = _supplier_mutation("acknowledgeOrder", "AcknowledgeOrderInput", "OrderPayload")
DECLINE_ORDER = _supplier_mutation("declineOrder", "DeclineOrderInput", "OrderPayload")
START_PRODUCTION = _supplier_mutation("startProduction", "OrderActionInput", "OrderPayload")
UPDATE_PROMISED_DATE = _supplier_mutation(
    "updatePromisedDate", "UpdatePromisedDateInput", "OrderPayload"
)
ADD_MILESTONE = _supplier_mutation("addMilestone", "AddMilestoneInput", "OrderPayload")
DISPATCH_ORDER = _supplier_mutation("dispatchOrder", "DispatchOrderInput", "OrderPayload")
SUBMIT_INVOICE = _supplier_mutation("submitInvoice", "SubmitInvoiceInput", "InvoicePayload")


async def test_supplier_mutation_payloads_never_carry_the_client_or_internal_canaries(
    world: World,
) -> None:
    # given: supplier A's job for client B (ISSUED) and one for client A (twin, ISSUED)
    gql = world.caller(SUPPLIER_A)
    hidden = world.hidden_from(SUPPLIER_A)
    cross, twin = world.orders["cross"].id, world.orders["twin_a"].id
    main = world.orders["main"].id
    steps: list[tuple[str, str, dict[str, Any], bool]] = [
        # (label, document, input, succeeds?)
        ("acknowledge", ACKNOWLEDGE_ORDER, {"orderId": cross, "promisedDate": "2026-03-20"}, True),
        ("acknowledge again", ACKNOWLEDGE_ORDER, {"orderId": cross, "promisedDate": "2026-03-20"},
         False),
        ("milestone", ADD_MILESTONE, {"orderId": cross, "note": "material ordered"}, True),
        ("promise", UPDATE_PROMISED_DATE,
         {"orderId": cross, "promisedDate": "2026-03-22", "reason": "saw broke"}, True),
        ("same promise", UPDATE_PROMISED_DATE,
         {"orderId": cross, "promisedDate": "2026-03-22", "reason": "again"}, False),
        ("stale version", START_PRODUCTION, {"orderId": cross, "expectedVersion": 1}, False),
        ("start", START_PRODUCTION, {"orderId": cross, "note": "on the mill"}, True),
        ("keyed milestone", ADD_MILESTONE,
         {"orderId": cross, "note": "parts cut", "idempotencyKey": "k-1"}, True),
        ("replayed milestone", ADD_MILESTONE,
         {"orderId": cross, "note": "parts cut", "idempotencyKey": "k-1"}, True),
        ("dispatch", DISPATCH_ORDER,
         {"orderId": cross, "method": "FREIGHT", "carrier": "Freight Co",
          "trackingReference": "FR-1"}, True),
        ("dispatch nothing left", DISPATCH_ORDER, {"orderId": cross, "method": "OWN_DRIVER"},
         False),
        ("invoice", SUBMIT_INVOICE,
         {"orderId": cross, "number": "INV-CROSS-1",
          "lines": [{"lineNo": 1, "quantity": 1, "unitPrice": UNIT_PRICE}]}, True),
        ("duplicate invoice number", SUBMIT_INVOICE,
         {"orderId": main, "number": INVOICE_NUMBER,
          "lines": [{"lineNo": 1, "quantity": 1, "unitPrice": UNIT_PRICE}]}, False),
        ("decline", DECLINE_ORDER, {"orderId": twin, "reason": "no capacity"}, True),
        ("decline again", DECLINE_ORDER, {"orderId": twin, "reason": "no capacity"}, False),
    ]  # fmt: skip

    # when
    results = [(label, ok, await gql.raw(doc, {"input": data})) for label, doc, data, ok in steps]

    # then: the steps did what they say (so the payloads held real orders), and no leak
    for label, ok, response in results:
        assert_not_masked(response, label)
        [payload] = response.json()["data"].values()
        assert (payload["userErrors"] == []) is ok, (label, payload["userErrors"])
    leaks = {label: found for label, _, r in results if (found := leaked(r.content, hidden))}
    assert leaks == {}
