"""What a webhook endpoint receives: its owner's own subscription payloads.

A delivery body is produced the way every payload is: a fixed, committed document
(``documents/webhooks_<role>.graphql``, one operation per event type) executed against
the owner's role schema with the owner's principal and the feed entry as the root
value (``schema.live``). No dict is assembled by hand, so a body can carry only what
the policy table lets that party see. ``visible`` decides which entries reach the
owner at all (its scope, the event kinds its role may read, whether its role has the
subscription).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from graphql import DocumentNode

from db.engine import Database
from db.feed import FeedEntry, FeedEvent
from db.models import WebhookEndpoint, WebhookEvent
from db.scope import Role
from permissions.principal import Principal
from schema.build import schema_for
from schema.context import make_context
from schema.documents import role_document
from schema.execute import format_error
from schema.live import LiveOperation, execute_for, executor_for, source_of, visible
from schema.types.webhooks import ROOT_FIELDS, allowed_events

OPERATIONS = {WebhookEvent.ORDER_EVENT: "OrderEvent", WebhookEvent.ALERT_RAISED: "AlertRaised"}
TYPES = {WebhookEvent.ORDER_EVENT: "order.event", WebhookEvent.ALERT_RAISED: "alert.raised"}


def webhook_document(role: Role) -> DocumentNode:
    """The role's committed document, validated against its schema once."""
    return role_document(f"webhooks_{role.value}", role, "webhook")


def owner_principal(endpoint: WebhookEndpoint) -> Principal:
    """The party the endpoint belongs to, as a caller (its registering subject)."""
    role = Role(endpoint.owner_role)
    return Principal(
        role=role,
        org=endpoint.org,
        subject=endpoint.owner_subject,
        client_id=endpoint.owner_party if role is Role.CLIENT else None,
        supplier_id=endpoint.owner_party if role is Role.SUPPLIER else None,
    )


def event_of(entry: FeedEntry) -> WebhookEvent:
    return WebhookEvent.ORDER_EVENT if isinstance(entry, FeedEvent) else WebhookEvent.ALERT_RAISED


@dataclass(frozen=True)
class Body:
    entry: FeedEntry
    event: WebhookEvent
    body: str


async def render(
    *, db: Database, endpoint: WebhookEndpoint, entries: Sequence[FeedEntry], now: datetime
) -> list[Body]:
    """The bodies ``endpoint`` receives for ``entries`` (in order; entries it must not
    receive, or did not subscribe to, are left out)."""
    principal = owner_principal(endpoint)
    subscribed = {WebhookEvent(e) for e in endpoint.events.split(",") if e}
    subscribed &= allowed_events(principal.role)
    scope = principal.scope
    operations = {e: LiveOperation(field=ROOT_FIELDS[e]) for e in subscribed}
    wanted = [
        (entry, event)
        for entry in entries
        if (event := event_of(entry)) in subscribed and visible(scope, entry, operations[event])
    ]
    if not wanted:
        return []
    schema = schema_for(principal.role)
    document = webhook_document(principal.role)
    context = make_context(principal=principal, db=db, now=now, request_id=uuid.uuid4().hex)
    executors = {
        event: executor_for(
            schema, document, operation_name=OPERATIONS[event], variables=None, context=context
        )
        for event in {event for _, event in wanted}
    }
    # Executed together: the relations they ask for load in one batch per relation.
    results = await asyncio.gather(
        *(execute_for(executors[event], source_of(entry, now)) for entry, event in wanted)
    )
    bodies: list[Body] = []
    for (entry, event), result in zip(wanted, results, strict=True):
        payload: dict[str, Any] = {
            "type": TYPES[event],
            "data": (result.data or {}).get(ROOT_FIELDS[event]),
        }
        if result.errors:
            payload["errors"] = [format_error(e, context.request_id) for e in result.errors]
        bodies.append(Body(entry, event, orjson.dumps(payload).decode()))
    return bodies
