"""``GET /track/{token}/events``: the tracking page, live, as server-sent events.

The stream follows the same feed as the ``orderEvents`` subscription — this process's
hub (``app.hub.Hub.entries``: replay from the log, then live, gap-free) — and keeps
the entries ``schema.live.visible`` lets the link's principal see for its one order.
On each, it checks the link again (revoked or expired: an ``event: gone`` and the
end), re-executes the page's document and, when the rendered ``<main>`` changed,
sends it as ``event: update``. It also re-renders every ``refresh_seconds`` (the
outlook moves with time alone) and sends a comment every ``heartbeat_seconds``.

Where it starts: the page carries the id of the last event it shows (``?after=``;
on reconnection the browser's ``Last-Event-ID``). The stream renders once at once,
sends that if the page is behind, and follows the feed from the last event of that
render, so nothing committed in between is missed. Event ids, never feed positions,
go to the browser: a position would count the whole organisation's activity.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from app.hub import Hub, Overflow
from app.tracking import HEADERS, OpenLink, PageError, Tracking, tracking_asset, tracking_page
from db.ids import type_of
from schema.live import LiveOperation, visible
from schema.subscription import after_position_for

GONE = b"event: gone\ndata: \n\n"
RETRY = b"retry: 5000\n\n"
HEARTBEAT = b": keep-alive\n\n"
SSE_HEADERS = {**HEADERS, "X-Accel-Buffering": "no"}  # nginx: pass each event through


def frame(order: dict[str, Any], html: str) -> bytes:
    """One ``update`` event: the id of the last event shown, the fragment's lines."""
    events = order["events"]
    head = f"id: {events[-1]['id']}\n" if events else ""
    data = "".join(f"data: {line}\n" for line in html.splitlines())
    return f"{head}event: update\n{data}\n".encode()


async def tracking_events(request: Request) -> Response:
    tracking: Tracking = request.app.state.tracking
    link = await tracking.admit(request)
    if isinstance(link, Response):
        return link
    after = request.headers.get("last-event-id") or request.query_params.get("after") or ""
    return StreamingResponse(
        _stream(tracking, request.app.state.hub, link, after),
        media_type="text/event-stream",
        headers=SSE_HEADERS,
    )


async def _render(tracking: Tracking, link: OpenLink) -> tuple[dict[str, Any], str] | None:
    """The link checked again, then the page's order and fragment; None: gone.
    Raises ``PageError`` when the document fails (logged; the stream just ends, and
    the browser reconnects)."""
    again = await tracking.reopen(link.digest)
    if again is None:
        return None
    order = await tracking.order_of(again)
    if order is None:
        return None
    return order, tracking.view.fragment(order)


async def _stream(tracking: Tracking, hub: Hub, link: OpenLink, after: str) -> AsyncIterator[bytes]:
    async with contextlib.aclosing(_follow(tracking, hub, link, after)) as chunks:
        with contextlib.suppress(PageError):
            async for chunk in chunks:
                yield chunk


async def _follow(
    tracking: Tracking, hub: Hub, link: OpenLink, after: str
) -> AsyncGenerator[bytes, None]:
    scope = link.principal.scope
    operation = LiveOperation("orderEvents", order_id=scope.order_id)
    yield RETRY
    rendered = await _render(tracking, link)
    if rendered is None:
        yield GONE
        return
    order, shown = rendered
    events = order["events"]
    last_id = str(events[-1]["id"]) if events else None
    if after != last_id:
        yield frame(order, shown)
    start = None
    if last_id is not None and type_of(last_id) == "OrderEvent":
        with contextlib.suppress(Exception):
            start = await after_position_for(hub, scope, last_id)

    changed = asyncio.Event()
    overflowed = False

    async def follow() -> None:
        nonlocal overflowed
        try:
            async for entry in hub.entries(scope.org, after=start):
                if visible(scope, entry, operation):
                    changed.set()
        except Overflow:
            overflowed = True
            changed.set()

    follower = asyncio.create_task(follow(), name=f"tracking-{link.link_id}")
    loop = asyncio.get_running_loop()
    next_refresh = loop.time() + tracking.refresh_seconds
    try:
        while True:
            timeout = min(tracking.heartbeat_seconds, max(0.0, next_refresh - loop.time()))
            if link.expires_at is not None:
                left = (link.expires_at - tracking.clock()).total_seconds()
                timeout = min(timeout, max(0.0, left))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout)
            if overflowed:
                return  # the browser reconnects with Last-Event-ID and catches up
            due = loop.time() >= next_refresh
            if not changed.is_set() and not due:
                if link.expires_at is not None and tracking.clock() >= link.expires_at:
                    yield GONE
                    return
                yield HEARTBEAT
                continue
            changed.clear()
            next_refresh = loop.time() + tracking.refresh_seconds
            rendered = await _render(tracking, link)
            if rendered is None:
                yield GONE
                return
            order, html = rendered
            if html != shown:
                shown = html
                yield frame(order, html)
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await follower


def tracking_routes() -> list[Route]:
    """The tracking page, its live stream and its static files."""
    return [
        Route("/track/{token}", tracking_page, methods=["GET"]),
        Route("/track/{token}/events", tracking_events, methods=["GET"]),
        Route("/track-assets/{name}", tracking_asset, methods=["GET"]),
    ]
