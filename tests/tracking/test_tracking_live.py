"""The tracking page's live stream (server-sent events) against a real uvicorn on
loopback: a supplier's update arrives re-rendered without reload; what the client may
not see wakes nothing; a revoked link's stream ends; a reconnection catches up."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from server_support import Served, serve
from sse_support import open_stream
from tracking_support import REVOKE_LINK, Journey, journey, path_of

from app.main import create_app
from app.settings import Settings
from conftest import FixedClock
from db.engine import Database
from graphql_support import mutate, payload_mutation

SUBMIT_INVOICE = payload_mutation("submitInvoice", "SubmitInvoiceInput", "invoice { id }")


@dataclass
class Live:
    served: Served
    http: httpx.AsyncClient  # to the real server: its writes wake its relay at once


@pytest.fixture
async def live(settings: Settings, db: Database, clock: FixedClock) -> AsyncIterator[Live]:
    app = create_app(settings, db=db, clock=clock)
    app.state.tracking.heartbeat_seconds = 0.3
    app.state.tracking.refresh_seconds = 3600.0
    async with serve(app) as served, httpx.AsyncClient(base_url=served.base, timeout=10) as http:
        yield Live(served, http)


async def _page(live: Live, j: Journey) -> tuple[str, str]:
    """A new link's path and the event id its page carries."""
    path = path_of((await j.link())["url"])
    page = await live.http.get(path)
    assert page.status_code == 200
    [after] = re.findall(r'data-after="([^"]+)"', page.text)
    return path, after


async def test_a_supplier_update_arrives_re_rendered_without_reload(live: Live) -> None:
    j = await journey(live.http, stage="DISPATCHED")
    path, after = await _page(live, j)
    async with open_stream(live.http, f"{path}/events?after={after}") as stream:
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert (await stream.next()).event == "comment"  # up to date: nothing to send
        found = await mutate(
            j.supplier,
            payload_mutation("updateShipment", "UpdateShipmentInput", "order { events { id } }"),
            {"shipmentId": j.shipments["OWN_DRIVER"], "status": "OUT_FOR_DELIVERY"},
        )
        update = await stream.next_event()
    assert update.event == "update"
    assert update.id == found["events"][-1]["id"]
    assert "Out for delivery" in update.data
    assert update.data.lstrip().startswith('<section class="card"')


async def test_a_page_behind_the_order_gets_the_current_state_at_once(live: Live) -> None:
    j = await journey(live.http, stage="DISPATCHED")
    path, after = await _page(live, j)
    await j.report("COURIER", "IN_TRANSIT")  # before the stream opens
    async with open_stream(live.http, f"{path}/events?after={after}") as stream:
        update = await stream.next_event()
    assert update.event == "update"
    assert "In transit" in update.data


async def test_a_reconnection_with_last_event_id_catches_up(live: Live) -> None:
    j = await journey(live.http, stage="DISPATCHED")
    path, after = await _page(live, j)
    await j.report("COURIER", "IN_TRANSIT")
    async with open_stream(live.http, f"{path}/events", {"Last-Event-ID": after}) as stream:
        update = await stream.next_event()
    assert "In transit" in update.data
    async with open_stream(live.http, f"{path}/events", {"Last-Event-ID": update.id or ""}) as s:
        assert (await s.next()).event == "comment"


async def test_what_the_client_may_not_see_wakes_nothing(live: Live) -> None:
    j = await journey(live.http, stage="DISPATCHED")
    other = await journey(live.http, stage="DISPATCHED")
    path, after = await _page(live, j)
    async with open_stream(live.http, f"{path}/events?after={after}") as stream:
        assert (await stream.next()).event == "comment"
        invoice = {
            "orderId": j.order_id,
            "number": "INV-1",
            "lines": [{"lineNo": 1, "quantity": 5, "unitPrice": "12.50"}],
        }
        await mutate(j.supplier, SUBMIT_INVOICE, invoice)
        await mutate(
            other.supplier,
            payload_mutation("updateShipment", "UpdateShipmentInput", "order { id }"),
            {"shipmentId": other.shipments["COURIER"], "status": "IN_TRANSIT"},
        )
        # Then one the client sees: it is the next event, and nothing came before it.
        await mutate(
            j.supplier,
            payload_mutation("updateShipment", "UpdateShipmentInput", "order { id }"),
            {"shipmentId": j.shipments["COURIER"], "status": "IN_TRANSIT"},
        )
        update = await stream.next_event()
    assert "In transit" in update.data
    assert "INV-1" not in stream.raw.decode()
    assert "Invoice" not in stream.raw.decode()


async def test_a_revoked_links_stream_ends_at_its_next_check(live: Live) -> None:
    j = await journey(live.http, stage="DISPATCHED")
    path, after = await _page(live, j)
    link_id = (
        await j.buyer(
            "query($id: ID!) { order(id: $id) { trackingLinks { id } } }", {"id": j.order_id}
        )
    )["data"]["order"]["trackingLinks"][0]["id"]
    async with open_stream(live.http, f"{path}/events?after={after}") as stream:
        assert (await stream.next()).event == "comment"
        await j.buyer(REVOKE_LINK, {"input": {"linkId": link_id}})
        await mutate(
            j.supplier,
            payload_mutation("updateShipment", "UpdateShipmentInput", "order { id }"),
            {"shipmentId": j.shipments["COURIER"], "status": "IN_TRANSIT"},
        )
        gone = await stream.next_event()
        assert gone.event == "gone"
        with pytest.raises(EOFError):
            await stream.next()
    assert "In transit" not in stream.raw.decode()
    again = await live.http.get(f"{path}/events")
    assert again.status_code == 404


async def test_a_dead_tokens_stream_is_the_same_404_as_its_page(live: Live) -> None:
    page = await live.http.get("/track/not-a-token")
    stream = await live.http.get("/track/not-a-token/events")
    assert stream.status_code == page.status_code == 404
    assert stream.content == page.content
