"""The tracking page's HTML: Jinja2 templates over the page document's result.

Templates receive ``order`` — the ``order`` of ``schema.tracking_page``'s result, as
GraphQL returned it — and only words and formats for it (labels, dates, the stage
steps read from its own fields). Nothing here reads the database or adds a value the
document did not return. Autoescaping is on, and a template naming a field the
document does not select fails (``StrictUndefined``), in the tests first.

The static files are served by the app itself (``/track-assets/``, named by content
hash, with subresource integrity): no build step, no third-party request, and a CSP
of ``'self'`` with no inline script or style.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

HERE = Path(__file__).parent

STAGE_LABELS = {
    "ISSUED": "Order placed",
    "ACKNOWLEDGED": "Order confirmed",
    "IN_PRODUCTION": "In production",
    "DISPATCHED": "On its way",
    "DELIVERED": "Delivered",
    "DECLINED": "Declined",
    "CANCELLED": "Cancelled",
}
OUTLOOK_LABELS = {
    "ON_TRACK": "On track",
    "AT_RISK": "At risk of delay",
    "LATE": "Late",
    "DELIVERED": "Delivered",
}
STATUS_LABELS = {
    "DISPATCHED": "Dispatched",
    "IN_TRANSIT": "In transit",
    "OUT_FOR_DELIVERY": "Out for delivery",
    "DELIVERED": "Delivered",
    "EXCEPTION": "Delayed: a problem on the way",
}
METHOD_LABELS = {"OWN_DRIVER": "Direct delivery", "COURIER": "Courier", "FREIGHT": "Freight"}
KIND_LABELS = {
    "ISSUED": "Order placed",
    "ACKNOWLEDGED": "Order confirmed",
    "PRODUCTION_STARTED": "Production started",
    "PROMISE_UPDATED": "Delivery date changed",
    "MILESTONE": "Progress update",
    "DISPATCHED": "Shipment dispatched",
    "RECEIVED": "Goods checked in",
    "DELIVERED": "Order delivered",
    "DECLINED": "Order declined",
    "CANCELLED": "Order cancelled",
    "SHIPMENT_IN_TRANSIT": "Shipment in transit",
    "SHIPMENT_OUT_FOR_DELIVERY": "Shipment out for delivery",
    "SHIPMENT_DELIVERED": "Shipment delivered",
    "SHIPMENT_EXCEPTION": "Shipment delayed",
    "SHIPMENT_UPDATED": "Shipment update",
    "CLOSED": "Order closed",
    # A client sees these only where the buyer shared the note with it.
    "AMENDED": "Order updated",
    "PROPOSAL_ACCEPTED": "Terms agreed",
    "PROPOSAL_REJECTED": "Terms under discussion",
}
# The stages a delivery passes through, each with the order field that dates it.
STEPS = (
    ("ISSUED", "Ordered", "issuedAt"),
    ("ACKNOWLEDGED", "Confirmed", "acknowledgedAt"),
    ("IN_PRODUCTION", "In production", "productionStartedAt"),
    ("DISPATCHED", "Dispatched", "dispatchedAt"),
    ("DELIVERED", "Delivered", "deliveredAt"),
)


def _label(table: dict[str, str]) -> Any:
    def label(value: str | None) -> str:
        if value is None:
            return ""
        return table.get(value) or value.replace("_", " ").capitalize()

    return label


def when(value: str | None) -> str:
    """An ISO-8601 instant as '2 Mar 2026, 09:00 UTC'."""
    if not value:
        return ""
    at = datetime.fromisoformat(value)
    return f"{at.day} {at:%b %Y, %H:%M} UTC"


def day(value: str | None) -> str:
    """An ISO date as 'Wed 25 Mar 2026'."""
    if not value:
        return ""
    d = date.fromisoformat(value)
    return f"{d:%a} {d.day} {d:%b %Y}"


def http_url(value: str | None) -> str | None:
    """Only http(s) links become hrefs (dispatch validates them; this holds regardless)."""
    if value and value.lower().startswith(("https://", "http://")):
        return value
    return None


@dataclass(frozen=True)
class Step:
    label: str
    at: str | None
    state: str  # "done", "current" or "todo"


def timeline(order: dict[str, Any]) -> list[Step]:
    """The stage steps, dated by the order's own fields; a declined or cancelled order
    ends with that step."""
    stage = order["stage"]
    names = [s for s, _, _ in STEPS]
    closed = stage not in names
    reached = -1 if closed else names.index(stage)
    steps = []
    for i, (_, label, field) in enumerate(STEPS):
        at = order[field]
        if closed:
            if at is None:
                continue
            state = "done"
        else:
            state = "done" if i < reached else ("current" if i == reached else "todo")
            if stage == "DELIVERED" and i == reached:
                state = "done"
        steps.append(Step(label, at, state))
    if closed:
        steps.append(
            Step(STAGE_LABELS.get(stage, stage.capitalize()), order["stageEnteredAt"], "current")
        )
    return steps


def last_update(order: dict[str, Any]) -> str | None:
    """When the order last changed, as far as the client can see: its latest event."""
    events = order["events"]
    at = events[-1]["at"] if events else order["issuedAt"]
    return str(at) if at is not None else None


def last_event_id(order: dict[str, Any]) -> str:
    events = order["events"]
    return str(events[-1]["id"]) if events else ""


@dataclass(frozen=True)
class Asset:
    name: str  # content-addressed: tracking.<hash>.css
    body: bytes
    media_type: str
    integrity: str

    @property
    def url(self) -> str:
        return f"/track-assets/{self.name}"


def _asset(filename: str, media_type: str) -> Asset:
    body = (HERE / "static" / filename).read_bytes()
    stem, _, ext = filename.rpartition(".")
    digest = hashlib.sha256(body).hexdigest()[:12]
    integrity = "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
    return Asset(f"{stem}.{digest}.{ext}", body, media_type, integrity)


class TrackingView:
    """The templates and static files, loaded once per app."""

    def __init__(self, *, refresh_seconds: int) -> None:
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters.update(
            when=when,
            day=day,
            http_url=http_url,
            stage_label=_label(STAGE_LABELS),
            outlook_label=_label(OUTLOOK_LABELS),
            status_label=_label(STATUS_LABELS),
            method_label=_label(METHOD_LABELS),
            kind_label=_label(KIND_LABELS),
        )
        self.env.globals.update(timeline=timeline, last_update=last_update)
        self.css = _asset("tracking.css", "text/css; charset=utf-8")
        self.js = _asset("tracking.js", "text/javascript; charset=utf-8")
        self.assets = {a.name: a for a in (self.css, self.js)}
        self.refresh_seconds = refresh_seconds
        # One set of bytes for every link that does not open a page: never issued,
        # revoked or expired look exactly alike.
        self.not_found = self.message(
            "This link does not open an order",
            "The link may be mistyped, or it may have expired or been withdrawn.",
            "Ask whoever sent it to you for a new one.",
        )
        self.unavailable = self.message(
            "This page cannot be shown right now", "Please try again in a minute."
        )

    def message(self, title: str, *lines: str) -> bytes:
        template = self.env.get_template("tracking/message.html")
        return template.render(title=title, lines=lines, css=self.css).encode()

    def too_many(self, retry_after: int) -> bytes:
        return self.message("Too many requests", f"Please wait {retry_after} s, then reload.")

    def page(self, order: dict[str, Any]) -> bytes:
        return (
            self.env.get_template("tracking/page.html")
            .render(
                order=order,
                css=self.css,
                js=self.js,
                after=last_event_id(order),
                refresh_seconds=self.refresh_seconds,
            )
            .encode()
        )

    def fragment(self, order: dict[str, Any]) -> str:
        """What ``<main>`` holds: the part of the page that live updates replace."""
        return self.env.get_template("tracking/fragment.html").render(order=order)
