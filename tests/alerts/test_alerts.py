"""Alerts with a fixed clock: each kind one second before and after its threshold,
thresholds that change, alerts that vanish when the stage moves on, the outlook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from conftest import FixedClock, GraphQL
from db.alerts import OrderFacts, Thresholds, alerts_for, human_duration
from db.models import OrderStage

CREATE_SUPPLIER = "mutation($n: String!) { createSupplier(input: {name: $n}) { supplier { id } } }"
ISSUE = """
mutation($s: ID!, $needBy: Date!, $price: Decimal!) {
  issueOrder(input: {supplierId: $s, needBy: $needBy, currency: "EUR",
                     lines: [{partNumber: "P-1", quantity: 10, unitPrice: $price}]}) {
    order { id } userErrors { message }
  }
}"""
ACK = """mutation($o: ID!, $d: Date!) { acknowledgeOrder(input: {orderId: $o, promisedDate: $d}) {
  userErrors { message } } }"""
START = "mutation($o: ID!) { startProduction(input: {orderId: $o}) { userErrors { message } } }"
DISPATCH = """mutation($o: ID!) {
  dispatchOrder(input: {orderId: $o, method: COURIER, carrier: "DHL"}) { userErrors { message } }
}"""
RECEIVE = """mutation($o: ID!) {
  receiveDelivery(input: {orderId: $o, lines: [{lineNo: 1, quantity: 10}]}) {
    userErrors { message }
  }
}"""
SLIP = """mutation($o: ID!, $d: Date!) { updatePromisedDate(input: {orderId: $o, promisedDate: $d,
  reason: "late steel"}) { userErrors { message } } }"""
THRESHOLDS = """mutation($a: Float, $p: Float, $d: Float) { setAlertThresholds(input:
  {acknowledgeWithinHours: $a, startProductionWithinHours: $p, deliverWithinHours: $d}) {
  thresholds { acknowledgeWithinHours startProductionWithinHours deliverWithinHours }
  userErrors { code message field } } }"""
ORDER_ALERTS = """query($o: ID!) { order(id: $o) { outlook alerts { kind stage since ageHours
  thresholdHours message } } }"""
ALERTS = """query($k: AlertKind) { alerts(kind: $k) { totalCount edges { node { kind
  order { id } } } } }"""
OUTLOOK = "query($o: ID!) { order(id: $o) { outlook } }"


@dataclass
class World:
    buyer: GraphQL
    supplier: GraphQL
    supplier_id: str
    clock: FixedClock

    async def ok(self, who: GraphQL, doc: str, **variables: Any) -> dict[str, Any]:
        body = await who(doc, variables)
        assert "errors" not in body, body
        payload = next(iter(body["data"].values()))
        assert not (payload or {}).get("userErrors"), payload
        return body["data"]

    async def issue(self, *, need_by_days: int = 30, price: str = "5.00") -> str:
        need_by = (self.clock.now + timedelta(days=need_by_days)).date().isoformat()
        data = await self.ok(self.buyer, ISSUE, s=self.supplier_id, needBy=need_by, price=price)
        return str(data["issueOrder"]["order"]["id"])

    async def kinds(self, order_id: str) -> list[str]:
        data = await self.ok(self.buyer, ORDER_ALERTS, o=order_id)
        return [a["kind"] for a in data["order"]["alerts"]]

    async def outlook(self, order_id: str) -> str:
        return str((await self.ok(self.buyer, OUTLOOK, o=order_id))["order"]["outlook"])

    def date(self, days: int) -> str:
        return (self.clock.now + timedelta(days=days)).date().isoformat()


@pytest.fixture
async def world(buyer: GraphQL, as_role: Callable[..., GraphQL], clock: FixedClock) -> World:
    body = await buyer(CREATE_SUPPLIER, {"n": "Acme Machining"})
    supplier_id = body["data"]["createSupplier"]["supplier"]["id"]
    return World(buyer, as_role("supplier", supplier_id=supplier_id), supplier_id, clock)


async def test_unacknowledged_appears_one_second_after_48_hours(world: World) -> None:
    order = await world.issue()
    world.clock.advance(hours=48)
    assert await world.kinds(order) == []  # exactly at the threshold: not yet
    world.clock.advance(seconds=-1)
    assert await world.kinds(order) == []
    world.clock.advance(seconds=2)
    assert await world.kinds(order) == ["UNACKNOWLEDGED"]
    assert await world.outlook(order) == "AT_RISK"


async def test_production_not_started_appears_one_second_after_168_hours(world: World) -> None:
    order = await world.issue()
    world.clock.advance(hours=1)
    await world.ok(world.supplier, ACK, o=order, d=world.date(20))
    world.clock.advance(hours=168, seconds=-1)
    assert await world.kinds(order) == []
    world.clock.advance(seconds=2)
    assert await world.kinds(order) == ["PRODUCTION_NOT_STARTED"]


async def test_delivery_overdue_appears_one_second_after_240_hours(world: World) -> None:
    order = await world.issue(need_by_days=60)
    await world.ok(world.supplier, ACK, o=order, d=world.date(40))
    await world.ok(world.supplier, START, o=order)
    await world.ok(world.supplier, DISPATCH, o=order)
    world.clock.advance(hours=240, seconds=-1)
    assert await world.kinds(order) == []
    world.clock.advance(seconds=2)
    assert await world.kinds(order) == ["DELIVERY_OVERDUE"]
    data = await world.ok(world.buyer, ORDER_ALERTS, o=order)
    alert = data["order"]["alerts"][0]
    assert alert["thresholdHours"] == 240.0
    assert alert["ageHours"] == 240.0  # 240 h + 1 s, rounded to two places


async def test_late_appears_one_second_after_the_promised_day_ends(world: World) -> None:
    order = await world.issue(need_by_days=30)
    await world.ok(world.supplier, ACK, o=order, d=world.date(2))
    await world.ok(world.supplier, START, o=order)
    promised_end = (world.clock.now + timedelta(days=3)).replace(hour=0, minute=0, second=0)
    world.clock.now = promised_end - timedelta(seconds=1)
    assert "LATE" not in await world.kinds(order)
    world.clock.now = promised_end + timedelta(seconds=1)
    assert "LATE" in await world.kinds(order)
    assert await world.outlook(order) == "LATE"


async def test_a_promise_after_need_by_is_a_slip_at_once(world: World) -> None:
    order = await world.issue(need_by_days=10)
    await world.ok(world.supplier, ACK, o=order, d=world.date(10))
    assert await world.kinds(order) == []
    await world.ok(world.supplier, SLIP, o=order, d=world.date(11))
    assert await world.kinds(order) == ["PROMISE_SLIPPED"]
    assert await world.outlook(order) == "AT_RISK"


async def test_a_promise_moved_later_is_a_slip_even_before_need_by(world: World) -> None:
    order = await world.issue(need_by_days=30)
    await world.ok(world.supplier, ACK, o=order, d=world.date(10))
    await world.ok(world.supplier, SLIP, o=order, d=world.date(12))
    assert await world.kinds(order) == ["PROMISE_SLIPPED"]
    await world.ok(world.supplier, SLIP, o=order, d=world.date(9))  # back ahead of the first
    assert await world.kinds(order) == []


async def test_changed_thresholds_take_effect_and_keep_omitted_ones(world: World) -> None:
    order = await world.issue()
    data = await world.ok(world.buyer, THRESHOLDS, a=1.5, p=None, d=None)
    assert data["setAlertThresholds"]["thresholds"] == {
        "acknowledgeWithinHours": 1.5,
        "startProductionWithinHours": 168.0,
        "deliverWithinHours": 240.0,
    }
    world.clock.advance(hours=1.5, seconds=-1)
    assert await world.kinds(order) == []
    world.clock.advance(seconds=2)
    assert await world.kinds(order) == ["UNACKNOWLEDGED"]


@pytest.mark.parametrize("bad", [0, -1, 24 * 366 + 1])
async def test_a_threshold_out_of_range_is_refused(world: World, bad: float) -> None:
    body = await world.buyer(THRESHOLDS, {"a": bad, "p": None, "d": None})
    payload = body["data"]["setAlertThresholds"]
    assert payload["thresholds"] is None
    assert payload["userErrors"][0]["code"] == "VALIDATION"
    assert payload["userErrors"][0]["field"] == ["input", "acknowledgeWithinHours"]


async def test_an_alert_disappears_when_the_stage_moves_on(world: World) -> None:
    order = await world.issue()
    world.clock.advance(hours=49)
    assert await world.kinds(order) == ["UNACKNOWLEDGED"]
    body = await world.buyer(ALERTS, {"k": "UNACKNOWLEDGED"})
    assert body["data"]["alerts"]["totalCount"] == 1
    await world.ok(world.supplier, ACK, o=order, d=world.date(20))
    assert await world.kinds(order) == []
    body = await world.buyer(ALERTS, {"k": "UNACKNOWLEDGED"})
    assert body["data"]["alerts"]["totalCount"] == 0


async def test_outlook_takes_each_value(world: World) -> None:
    fresh = await world.issue(need_by_days=30)
    assert await world.outlook(fresh) == "ON_TRACK"
    done = await world.issue(need_by_days=30)
    await world.ok(world.supplier, ACK, o=done, d=world.date(5))
    await world.ok(world.supplier, START, o=done)
    await world.ok(world.supplier, DISPATCH, o=done)
    await world.ok(world.buyer, RECEIVE, o=done)
    assert await world.outlook(done) == "DELIVERED"
    world.clock.advance(hours=49)
    assert await world.outlook(fresh) == "AT_RISK"
    world.clock.advance(days=40)
    assert await world.outlook(fresh) == "LATE"  # need-by passed, still not here
    assert await world.outlook(done) == "DELIVERED"


async def test_client_outlook_never_differs_between_orders_differing_in_supplier_and_price(
    world: World, as_role: Callable[..., GraphQL]
) -> None:
    other = await world.buyer(CREATE_SUPPLIER, {"n": "Other Works"})
    other_id = other["data"]["createSupplier"]["supplier"]["id"]
    other_supplier = as_role("supplier", supplier_id=other_id)
    client_body = await world.buyer(
        'mutation { createClient(input: {name: "C"}) { client { id } } }'
    )
    client_id = client_body["data"]["createClient"]["client"]["id"]
    need_by = world.date(20)
    issue = """mutation($s: ID!, $c: ID!, $n: Date!, $p: Decimal!) { issueOrder(input: {
      supplierId: $s, clientId: $c, needBy: $n, currency: "EUR",
      lines: [{partNumber: "P-1", quantity: 10, unitPrice: $p}]}) { order { id } } }"""
    a = (
        await world.buyer(
            issue, {"s": world.supplier_id, "c": client_id, "n": need_by, "p": "1.00"}
        )
    )["data"]["issueOrder"]["order"]["id"]
    b = (await world.buyer(issue, {"s": other_id, "c": client_id, "n": need_by, "p": "99999.99"}))[
        "data"
    ]["issueOrder"]["order"]["id"]
    client = as_role("client", client_id=client_id)
    steps: list[tuple[str, dict[str, Any]]] = [
        (ACK, {"d": world.date(15)}),
        (START, {}),
        (SLIP, {"d": world.date(25)}),
        (DISPATCH, {}),
    ]
    for hours in (0, 30, 60, 200, 300):
        world.clock.advance(hours=hours)
        seen = [(await client(OUTLOOK, {"o": o}))["data"]["order"]["outlook"] for o in (a, b)]
        assert seen[0] == seen[1]
        if steps:
            doc, extra = steps.pop(0)
            for order_id, who in ((a, world.supplier), (b, other_supplier)):
                await world.ok(who, doc, o=order_id, **extra)


async def test_a_client_cannot_select_alerts_or_the_dashboard(
    as_role: Callable[..., GraphQL],
) -> None:
    client = as_role("client", client_id="cli_aaaaaaaaaaaaaaaaaaaa")
    for doc in (
        "{ alerts { totalCount } }",
        "{ dashboard { late } }",
        "{ orders { edges { node { alerts { kind } } } } }",
        "{ orders(filter: {hasAlert: true}) { totalCount } }",
    ):
        body = await client(doc)
        assert "data" not in body or body.get("data") is None
        message = body["errors"][0]["message"]
        assert "Cannot query field" in message or "unknown field 'hasAlert'" in message


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(days=3, hours=4, minutes=57), "3 days 4 h"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=135, hours=23, minutes=59), "135 days 23 h"),
        (timedelta(hours=5, minutes=12, seconds=59), "5 h 12 min"),
        (timedelta(hours=48), "2 days"),
        (timedelta(minutes=40), "40 min"),
        (timedelta(seconds=59), "less than a minute"),
    ],
)
def test_durations_in_alert_messages_read_as_a_person_says_them(
    delta: timedelta, said: str
) -> None:
    assert human_duration(delta) == said


def test_an_overstay_message_says_its_age_and_threshold_in_days_and_hours() -> None:
    entered = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    facts = OrderFacts(
        id="ord_x",
        number="PO-000042",
        stage=OrderStage.ISSUED,
        stage_entered_at=entered,
        need_by=date(2026, 4, 1),
        promised_date=None,
        first_promised_date=None,
        promise_changed_at=None,
    )
    now = entered + timedelta(days=135, hours=23, minutes=57)
    (alert,) = alerts_for(facts, Thresholds(), now)
    assert alert.message == "PO-000042 has been ISSUED for 135 days 23 h (threshold 2 days)"
    assert alert.age_hours == 3263.95  # the number stays a number, for sorting and charts
