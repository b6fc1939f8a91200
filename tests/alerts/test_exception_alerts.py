"""Alerts when the order does not go to plan: they keep running while a proposal waits
for the buyer or a revision waits for the supplier (the clock does not stop for a
negotiation), and a short-close ends them; the client's outlook reads a short-closed
order as finished."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from conftest import FixedClock, GraphQL
from db import alerts as rules
from db.models import OrderStage

CREATE_SUPPLIER = 'mutation { createSupplier(input: {name: "Acme"}) { supplier { id } } }'
CREATE_CLIENT = 'mutation { createClient(input: {name: "Contoso"}) { client { id } } }'
ISSUE = """mutation($s: ID!, $c: ID, $needBy: Date!) {
  issueOrder(input: {supplierId: $s, clientId: $c, needBy: $needBy, currency: "EUR",
    lines: [{partNumber: "P-1", quantity: 10, unitPrice: "5.00"}]}) {
    order { id } userErrors { message } } }"""
PROPOSE = """mutation($o: ID!, $d: Date!) { proposeChanges(input: {orderId: $o, promisedDate: $d,
  note: "later"}) { userErrors { message } } }"""
ACK = """mutation($o: ID!, $d: Date!) { acknowledgeOrder(input: {orderId: $o, promisedDate: $d}) {
  userErrors { message } } }"""
AMEND = """mutation($o: ID!) { amendOrder(input: {orderId: $o, reason: "more",
  lines: [{lineNo: 1, quantity: 12}]}) { userErrors { message } } }"""
START = "mutation($o: ID!) { startProduction(input: {orderId: $o}) { userErrors { message } } }"
DISPATCH = """mutation($o: ID!) { dispatchOrder(input: {orderId: $o, method: OWN_DRIVER,
  lines: [{lineNo: 1, quantity: 6}]}) { userErrors { message } } }"""
RECEIVE = """mutation($o: ID!) { receiveDelivery(input: {orderId: $o,
  lines: [{lineNo: 1, quantity: 6}]}) { userErrors { message } } }"""
CLOSE = """mutation($o: ID!) { closeOrder(input: {orderId: $o, reason: "enough"}) {
  userErrors { message } } }"""
ORDER_ALERTS = "query($o: ID!) { order(id: $o) { stage awaiting outlook alerts { kind } } }"
ALERTS = """{ alerts { totalCount edges { node { kind order { id } } } }
  dashboard { openAlerts { kind count } } }"""
CLIENT_VIEW = "query($o: ID!) { order(id: $o) { stage outlook } }"


class Org:
    def __init__(self, buyer: GraphQL, supplier: GraphQL, client: GraphQL, clock: FixedClock):
        self.buyer, self.supplier, self.client, self.clock = buyer, supplier, client, clock
        self.supplier_id = self.client_id = ""

    async def ok(self, who: GraphQL, doc: str, **variables: Any) -> dict[str, Any]:
        body = await who(doc, variables)
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert not (payload or {}).get("userErrors"), payload
        data: dict[str, Any] = body["data"]
        return data

    def date(self, days: int) -> str:
        return (self.clock.now + timedelta(days=days)).date().isoformat()

    async def issue(self) -> str:
        data = await self.ok(
            self.buyer, ISSUE, s=self.supplier_id, c=self.client_id, needBy=self.date(30)
        )
        return str(data["issueOrder"]["order"]["id"])

    async def state(self, order_id: str) -> dict[str, Any]:
        order: dict[str, Any] = (await self.ok(self.buyer, ORDER_ALERTS, o=order_id))["order"]
        return order

    async def listed(self) -> dict[str, Any]:
        return await self.ok(self.buyer, ALERTS)


@pytest.fixture
async def org(as_role: Callable[..., GraphQL], clock: FixedClock) -> Org:
    buyer = as_role("buyer")
    supplier_id = (await buyer(CREATE_SUPPLIER))["data"]["createSupplier"]["supplier"]["id"]
    client_id = (await buyer(CREATE_CLIENT))["data"]["createClient"]["client"]["id"]
    world = Org(
        buyer,
        as_role("supplier", supplier_id=supplier_id),
        as_role("client", client_id=client_id),
        clock,
    )
    world.supplier_id, world.client_id = supplier_id, client_id
    return world


async def test_an_unanswered_proposal_does_not_stop_the_unacknowledged_alert(org: Org) -> None:
    # given a new PO the supplier answered with a proposal the buyer leaves waiting
    order_id = await org.issue()
    await org.ok(org.supplier, PROPOSE, o=order_id, d=org.date(20))

    # when 48 hours (the threshold) pass, then one second more
    org.clock.advance(hours=48)
    at_threshold = await org.state(order_id)
    org.clock.advance(seconds=1)
    past = await org.state(order_id)

    # then the order is still unacknowledged, and says so
    assert (at_threshold["awaiting"], at_threshold["alerts"]) == ("ANSWER", [])
    assert past["alerts"] == [{"kind": "UNACKNOWLEDGED"}]
    assert past["outlook"] == "AT_RISK"
    listed = await org.listed()
    assert listed["alerts"]["edges"] == [
        {"node": {"kind": "UNACKNOWLEDGED", "order": {"id": order_id}}}
    ]


async def test_a_revision_awaiting_acknowledgement_keeps_its_stage_alerts_running(
    org: Org,
) -> None:
    # given an acknowledged order the buyer amended, the supplier silent
    order_id = await org.issue()
    await org.ok(org.supplier, ACK, o=order_id, d=org.date(20))
    await org.ok(org.buyer, AMEND, o=order_id)

    # when production should have started (168 h) and has not
    org.clock.advance(hours=168, seconds=1)

    # then
    order = await org.state(order_id)
    assert (order["stage"], order["awaiting"]) == ("ACKNOWLEDGED", "ACKNOWLEDGEMENT")
    assert order["alerts"] == [{"kind": "PRODUCTION_NOT_STARTED"}]


async def test_a_short_close_ends_the_alerts_and_the_client_sees_the_order_finished(
    org: Org,
) -> None:
    # given an order shipped short, long overdue and past its promise
    order_id = await org.issue()
    await org.ok(org.supplier, ACK, o=order_id, d=org.date(5))
    await org.ok(org.supplier, START, o=order_id)
    await org.ok(org.supplier, DISPATCH, o=order_id)
    await org.ok(org.buyer, RECEIVE, o=order_id)
    org.clock.advance(days=40)
    before = await org.state(order_id)
    assert before["alerts"] == [{"kind": "DELIVERY_OVERDUE"}]
    assert (await org.ok(org.client, CLIENT_VIEW, o=order_id))["order"]["outlook"] == "LATE"

    # when the buyer closes it
    await org.ok(org.buyer, CLOSE, o=order_id)

    # then no alert remains, anywhere, and the client reads it as finished
    after = await org.state(order_id)
    assert (after["stage"], after["alerts"], after["outlook"]) == ("CLOSED", [], "DELIVERED")
    listed = await org.listed()
    assert listed["alerts"] == {"totalCount": 0, "edges": []}
    assert {c["count"] for c in listed["dashboard"]["openAlerts"]} <= {0}
    client_view = await org.ok(org.client, CLIENT_VIEW, o=order_id)
    assert client_view["order"] == {"stage": "CLOSED", "outlook": "DELIVERED"}


def test_the_rules_raise_nothing_on_a_closed_order_whatever_its_dates() -> None:
    now = datetime(2026, 6, 1, tzinfo=UTC)
    facts = rules.OrderFacts(
        id="ord_x",
        number="PO-000001",
        stage=OrderStage.CLOSED,
        stage_entered_at=now - timedelta(days=90),
        need_by=date(2026, 3, 1),
        promised_date=date(2026, 4, 1),
        first_promised_date=date(2026, 3, 1),
        promise_changed_at=now - timedelta(days=80),
    )

    assert rules.alerts_for(facts, rules.Thresholds(), now) == []
    assert rules.outlook_for(facts, rules.Thresholds(), now) is rules.Outlook.DELIVERED
