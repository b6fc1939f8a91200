"""updateShipment: the supplier reports where each shipment is (its own van too), each
change an event; the client sees status and estimates, never the driver or a note."""

from __future__ import annotations

import httpx
import pytest
from tracking_support import PROMISED, RECEIVE, UPDATE_SHIPMENT, journey, user_errors

from conftest import FixedClock, GraphQL, make_token
from db.lifecycle import Action
from graphql_support import CREATE_SUPPLIER, mutate
from permissions.policy import ACTION_MUTATIONS, allowed_actions, is_hidden
from permissions.principal import Role

CLIENT_VIEW = """query View($id: ID!) { order(id: $id) { estimatedDelivery
  shipments { method carrier trackingReference trackingUrl status estimatedArrival }
  events { kind actorRole actorSubject note } } }"""


async def test_each_status_change_is_an_event_named_after_the_status(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client, stage="DISPATCHED")
    before = await j.report("COURIER", "IN_TRANSIT", estimatedArrival="2026-03-05")
    after = await j.report("COURIER", "OUT_FOR_DELIVERY")
    assert after["version"] == before["version"] + 1
    kinds = [e["kind"] for e in after["events"]]
    assert kinds[-2:] == ["SHIPMENT_IN_TRANSIT", "SHIPMENT_OUT_FOR_DELIVERY"]
    courier = next(s for s in after["shipments"] if s["method"] == "COURIER")
    assert courier == {
        "id": j.shipments["COURIER"],
        "method": "COURIER",
        "status": "OUT_FOR_DELIVERY",
        "estimatedArrival": "2026-03-05",  # omitted: the estimate stays
    }


async def test_a_new_estimate_alone_is_a_shipment_update(client: httpx.AsyncClient) -> None:
    j = await journey(client, stage="DISPATCHED")
    found = await j.report("COURIER", "DISPATCHED", estimatedArrival="2026-03-06")
    assert found["events"][-1]["kind"] == "SHIPMENT_UPDATED"


async def test_the_client_sees_an_own_driver_shipments_progress_but_not_the_driver(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client, stage="DISPATCHED")
    await j.report(
        "OWN_DRIVER", "OUT_FOR_DELIVERY", estimatedArrival="2026-03-03", note="Dave, van 3"
    )
    seen = (await j.client(CLIENT_VIEW, {"id": j.order_id}))["data"]["order"]
    van = next(s for s in seen["shipments"] if s["method"] == "OWN_DRIVER")
    assert van == {
        "method": "OWN_DRIVER",
        "carrier": None,
        "trackingReference": None,
        "trackingUrl": None,
        "status": "OUT_FOR_DELIVERY",
        "estimatedArrival": "2026-03-03",
    }
    last = seen["events"][-1]
    assert last == {
        "kind": "SHIPMENT_OUT_FOR_DELIVERY",
        "actorRole": "supplier",
        "actorSubject": None,
        "note": None,
    }
    assert "Dave" not in str(seen)
    buyer_seen = (await j.buyer(CLIENT_VIEW, {"id": j.order_id}))["data"]["order"]
    assert buyer_seen["events"][-1]["note"] == "Dave, van 3"


async def test_estimated_delivery_follows_the_shipments_else_the_promise(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client, stage="IN_PRODUCTION")
    view = (await j.client(CLIENT_VIEW, {"id": j.order_id}))["data"]["order"]
    assert view["estimatedDelivery"] == PROMISED
    # Brackets by courier, due earlier; the pins are not shipped: the promise still counts.
    await j.dispatch("COURIER", carrier="DHL", lines=[{"lineNo": 1, "quantity": 5}])
    found = await j.report("COURIER", "IN_TRANSIT", estimatedArrival="2026-03-04")
    assert found["estimatedDelivery"] == PROMISED
    # Everything shipped, every shipment estimated: the latest estimate.
    await j.dispatch("OWN_DRIVER")
    found = await j.report("OWN_DRIVER", "DISPATCHED", estimatedArrival="2026-03-06")
    assert found["estimatedDelivery"] == "2026-03-06"
    found = await j.report("OWN_DRIVER", "DELIVERED")
    assert found["estimatedDelivery"] == "2026-03-04"
    # All received: nothing left to estimate.
    lines = [{"lineNo": 1, "quantity": 5}, {"lineNo": 2, "quantity": 100}]
    await mutate(j.buyer, RECEIVE, {"orderId": j.order_id, "lines": lines})
    view = (await j.client(CLIENT_VIEW, {"id": j.order_id}))["data"]["order"]
    assert view["estimatedDelivery"] is None


async def test_a_delivered_shipment_takes_no_more_updates(client: httpx.AsyncClient) -> None:
    j = await journey(client, stage="DISPATCHED")
    await j.report("COURIER", "DELIVERED")
    errors = await user_errors(
        j.supplier,
        UPDATE_SHIPMENT,
        {"shipmentId": j.shipments["COURIER"], "status": "EXCEPTION"},
    )
    assert errors == [
        {
            "code": "INVALID_TRANSITION",
            "message": "this shipment has been delivered",
            "field": ["input", "status"],
        }
    ]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"status": "IN_TRANSIT", "estimatedArrival": "2026-03-01"}, "estimatedArrival"),
        ({"status": "DISPATCHED"}, "status"),  # nothing new
        ({"status": "IN_TRANSIT", "note": "x" * 2001}, "note"),
    ],
)
async def test_bad_updates_are_refused_and_change_nothing(
    client: httpx.AsyncClient, data: dict[str, str], field: str
) -> None:
    j = await journey(client, stage="DISPATCHED")
    before = (await j.client(CLIENT_VIEW, {"id": j.order_id}))["data"]
    errors = await user_errors(
        j.supplier, UPDATE_SHIPMENT, {"shipmentId": j.shipments["COURIER"], **data}
    )
    assert [(e["code"], e["field"]) for e in errors] == [("VALIDATION", ["input", field])]
    assert (await j.client(CLIENT_VIEW, {"id": j.order_id}))["data"] == before


async def test_a_shipment_cannot_go_back_to_dispatched(client: httpx.AsyncClient) -> None:
    j = await journey(client, stage="DISPATCHED")
    await j.report("COURIER", "IN_TRANSIT")
    errors = await user_errors(
        j.supplier, UPDATE_SHIPMENT, {"shipmentId": j.shipments["COURIER"], "status": "DISPATCHED"}
    )
    assert [e["code"] for e in errors] == ["VALIDATION"]


async def test_a_stale_expected_version_is_a_conflict(client: httpx.AsyncClient) -> None:
    j = await journey(client, stage="DISPATCHED")
    errors = await user_errors(
        j.supplier,
        UPDATE_SHIPMENT,
        {"shipmentId": j.shipments["COURIER"], "status": "IN_TRANSIT", "expectedVersion": 1},
    )
    assert [e["code"] for e in errors] == ["CONFLICT"]


async def test_another_supplier_gets_the_same_not_found_as_for_no_shipment(
    client: httpx.AsyncClient,
) -> None:
    j = await journey(client, stage="DISPATCHED")
    other_id = (await mutate(j.buyer, CREATE_SUPPLIER, {"name": "Rival"}))["id"]
    rival = GraphQL(client, make_token("supplier", supplier_id=other_id))
    theirs = await user_errors(
        rival, UPDATE_SHIPMENT, {"shipmentId": j.shipments["COURIER"], "status": "IN_TRANSIT"}
    )
    missing = await user_errors(
        j.supplier,
        UPDATE_SHIPMENT,
        {"shipmentId": "shp_aaaaaaaaaaaaaaaaaaaa", "status": "IN_TRANSIT"},
    )
    assert (
        theirs
        == missing
        == [{"code": "NOT_FOUND", "message": "no such shipment", "field": ["input", "shipmentId"]}]
    )


@pytest.mark.parametrize("role", ["buyer", "client"])
async def test_update_shipment_does_not_exist_for_the_buyer_or_the_client(
    client: httpx.AsyncClient, role: str
) -> None:
    j = await journey(client, stage="DISPATCHED")
    caller = j.buyer if role == "buyer" else j.client
    body = await caller(
        UPDATE_SHIPMENT,
        {"input": {"shipmentId": j.shipments["COURIER"], "status": "DELIVERED"}},
    )
    assert "data" not in body, body
    assert body["errors"], body
    seen = (await j.buyer(CLIENT_VIEW, {"id": j.order_id}))["data"]["order"]
    assert {s["status"] for s in seen["shipments"]} == {"DISPATCHED"}


def test_whoever_may_dispatch_is_whoever_sees_update_shipment() -> None:
    dispatchers = {r for r in Role if Action.DISPATCH in allowed_actions(r)}
    reporters = {r for r in Role if not is_hidden(r, "Mutation", "updateShipment")}
    assert dispatchers == reporters == {Role.SUPPLIER}
    assert ACTION_MUTATIONS[Action.DISPATCH] == "dispatchOrder"


async def test_the_carriers_delivered_may_come_after_the_buyer_checked_everything_in(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    j = await journey(client, stage="DISPATCHED")
    lines = [{"lineNo": 1, "quantity": 5}, {"lineNo": 2, "quantity": 100}]
    assert (await mutate(j.buyer, RECEIVE, {"orderId": j.order_id, "lines": lines}))[
        "stage"
    ] == "DELIVERED"
    clock.advance(hours=2)
    found = await j.report("COURIER", "DELIVERED")
    assert found["events"][-1]["kind"] == "SHIPMENT_DELIVERED"
