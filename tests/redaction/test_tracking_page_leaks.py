"""The tracking page, its live stream and its 404s carry no byte the client must not
see: the canary world searched byte by byte, and twin worlds that differ only in what
the client must not see render the same page (ids aside; the twins:
``worlds.twins.tracking_twin``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from server_support import serve
from sse_support import open_stream

from app.main import create_app
from app.settings import Settings
from conftest import FixedClock, GraphQL
from db.engine import Database
from graphql_support import (
    CREATE_TRACKING_LINK,
    SUBMIT_INVOICE,
    UPDATE_SHIPMENT,
    mutate,
    payload_mutation,
)
from redaction_support import leaked
from worlds.canary import BUYER_A, CLIENT_A, CLIENT_B, SUPPLIER_A, SUPPLIER_NOTE, World
from worlds.twins import PAGE_TWINS, tracking_twin

REVOKE_LINK = payload_mutation(
    "revokeTrackingLink", "RevokeTrackingLinkInput", "trackingLink { id }"
)
IDS = re.compile(r"\b(?:evt|shp|ord|trk|cli|sup|inv|rcp)_[a-z2-7]{20}\b")
# PO numbers are random too (they count nothing): identical twins differ in them.
PO_NUMBERS = re.compile(r"\bPO-[0-9]{6}-[2-9A-Z]{6}\b")
# Whose page each order is: the order's client.
WATCHERS = {
    "main": CLIENT_A,  # delivered, a courier and an own-driver shipment, invoiced
    "cancelled": CLIENT_A,  # cancelled by the buyer after a supplier milestone
    "twin_a": CLIENT_A,
    "twin_b": CLIENT_A,
    "cross": CLIENT_B,  # supplier A's job for client B
    "b_acked": CLIENT_B,
    "b_dispatched": CLIENT_B,
}


def _path(url: str) -> str:
    return url[url.index("/track/") :]


async def _link(world: World, order: str) -> tuple[str, str]:
    made = await mutate(
        world.caller(BUYER_A), CREATE_TRACKING_LINK, {"orderId": world.orders[order].id}
    )
    return made["id"], _path(made["url"])


@pytest.mark.parametrize("order", sorted(WATCHERS))
async def test_no_canary_hidden_from_the_orders_client_is_on_its_page(
    world: World, order: str
) -> None:
    _, path = await _link(world, order)
    page = await world.http.get(path)
    assert page.status_code == 200
    assert leaked(page.content, world.hidden_from(WATCHERS[order])) == {}


async def test_the_courier_is_shown_and_the_own_driver_is_not(world: World) -> None:
    _, path = await _link(world, "main")
    html = (await world.http.get(path)).text
    assert "CANARY-CARRIER-91c2" in html  # the courier's name: the client's to see
    assert "CANARY-A-PART-e0b7" in html
    assert "Client moved the build" not in html  # the cancel reason is on another order


async def test_no_404_carries_a_canary_and_every_404_is_the_same(
    world: World, clock: FixedClock
) -> None:
    link_id, revoked = await _link(world, "main")
    await world.caller(BUYER_A)(REVOKE_LINK, {"input": {"linkId": link_id}})
    expiring = await mutate(
        world.caller(BUYER_A),
        CREATE_TRACKING_LINK,
        {
            "orderId": world.orders["main"].id,
            "expiresAt": (clock.now + timedelta(hours=1)).isoformat(),
        },
    )
    clock.advance(hours=2)
    bodies = set()
    for path in (revoked, _path(expiring["url"]), "/track/never-issued", revoked + "/events"):
        response = await world.http.get(path)
        assert response.status_code == 404
        assert leaked(response.content, world.hidden_from(CLIENT_A)) == {}
        bodies.add(response.content)
    assert len(bodies) == 1


async def test_the_live_stream_carries_no_canary(
    world: World, settings: Settings, db: Database, clock: FixedClock
) -> None:
    _, path = await _link(world, "main")
    app = create_app(settings, db=db, clock=clock)
    async with serve(app) as served, httpx.AsyncClient(base_url=served.base, timeout=10) as http:
        supplier = GraphQL(http, world.caller(SUPPLIER_A).token)
        main = world.orders["main"].id
        async with open_stream(http, f"{path}/events") as stream:
            first = await stream.next_event()  # no ?after: the current page at once
            assert first.event == "update"
            await mutate(
                supplier,
                SUBMIT_INVOICE,
                {
                    "orderId": main,
                    "number": "CANARY-INV-LIVE-5e1",
                    "lines": [{"lineNo": 1, "quantity": 1, "unitPrice": "13377.31"}],
                },
            )
            await mutate(
                supplier,
                UPDATE_SHIPMENT,
                {
                    "shipmentId": world.shipments["own_driver"],
                    "status": "DELIVERED",
                    "note": SUPPLIER_NOTE,
                },
            )
            update = await stream.next_event()
        assert "Delivered" in update.data
    hidden = world.hidden_from(CLIENT_A) | {"live invoice": "CANARY-INV-LIVE-5e1"}
    assert leaked(bytes(stream.raw), hidden) == {}


# -- twin worlds -----------------------------------------------------------------------------


@pytest.fixture
async def http(
    settings: Settings, db: Database, clock: FixedClock
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, db=db, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_twins_differing_only_in_what_the_client_must_not_see_render_the_same_page(
    http: httpx.AsyncClient, clock: FixedClock
) -> None:
    pages = []
    for org, secrets in zip(("twin-1", "twin-2"), PAGE_TWINS, strict=True):
        path = _path(await tracking_twin(http, clock, org, secrets))
        page = await http.get(path)
        assert page.status_code == 200
        pages.append(page.content)
    normalised = [PO_NUMBERS.sub("<po>", IDS.sub("<id>", p.decode())) for p in pages]
    assert normalised[0] == normalised[1]
    # and the twins are not alike by accident: the page is full, their secrets differ
    assert "Out for delivery" in normalised[0]
    assert "DHL" in normalised[0]
    for secrets in PAGE_TWINS:
        for name, value in vars(secrets).items():
            if value is not None:
                assert value not in normalised[0], (name, value)
