"""What an e-mail may show: its recipient's own projection.

Each message is rendered (``app.email``) from the result of a fixed, committed document
executed against the recipient's role schema as the recipient: the supplier's contact
reads the order as its supplier, the client's contact as its client, the buyer its
alerts as the buyer's ``alertRaised`` would deliver them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graphql import DocumentNode

from db.engine import Database
from db.feed import FeedAlert
from db.scope import Role
from permissions.principal import Principal
from schema.build import schema_for
from schema.context import make_context
from schema.documents import role_document
from schema.execute import run
from schema.live import execute_for, executor_for, source_of
from schema.webhook_bodies import webhook_document

ORDER_DOCUMENTS = {Role.SUPPLIER: "email_supplier", Role.CLIENT: "email_client"}


def email_document(role: Role) -> DocumentNode:
    return role_document(ORDER_DOCUMENTS[role], role, "e-mail")


async def order_view(
    *, db: Database, principal: Principal, order_id: str, now: datetime
) -> dict[str, Any] | None:
    """The order as ``principal`` (a supplier or a client) may see it; None when out
    of its scope or on any error (nothing is mailed then)."""
    context = make_context(principal=principal, db=db, now=now, request_id=uuid.uuid4().hex)
    result = await run(
        schema_for(principal.role),
        email_document(principal.role),
        context=context,
        variables={"id": order_id},
        operation_name=None,
    )
    if result.errors or not result.data:
        return None
    order: dict[str, Any] | None = result.data.get("order")
    return order


async def alert_views(
    *, db: Database, principal: Principal, alerts: Sequence[FeedAlert], now: datetime
) -> list[dict[str, Any]]:
    """The alerts as ``principal``'s ``alertRaised`` would deliver them."""
    if not alerts:
        return []
    context = make_context(principal=principal, db=db, now=now, request_id=uuid.uuid4().hex)
    executor = executor_for(
        schema_for(principal.role),
        webhook_document(principal.role),
        operation_name="AlertRaised",
        variables=None,
        context=context,
    )
    results = await asyncio.gather(*(execute_for(executor, source_of(a, now)) for a in alerts))
    return [r.data["alertRaised"] for r in results if r.data and not r.errors]
