"""What a tracking page shows: one fixed GraphQL document (``documents/tracking_page.graphql``),
executed against the client role's schema with the link's principal.

No second redaction and no data assembled by hand: the page renders this result, so it
can show exactly the client projection of that one order — the policy table's client
column, its row rules, and a row scope that admits that order alone.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path

from graphql import DocumentNode, ExecutionResult, parse, validate

from db.engine import Database
from permissions.principal import Principal, Role
from schema.build import schema_for
from schema.context import make_context
from schema.execute import run

DOCUMENT_PATH = Path(__file__).parent / "documents" / "tracking_page.graphql"
OPERATION = "TrackingPage"


@cache
def tracking_page_document() -> DocumentNode:
    """The page's document, parsed and validated against the client schema once.

    Raises if the client schema no longer has a field the page selects: the page then
    fails loudly (and its tests) instead of showing anything a client may not see.
    """
    document = parse(DOCUMENT_PATH.read_text(encoding="utf-8"))
    errors = validate(schema_for(Role.CLIENT)._schema, document)
    if errors:
        raise RuntimeError(f"the tracking page's document is invalid for clients: {errors}")
    return document


async def project_tracking_page(
    *, db: Database, principal: Principal, now: datetime, request_id: str
) -> ExecutionResult:
    """Execute the page's document as ``principal`` (a link: a client narrowed to one
    order). ``data["order"]`` is null when the order is out of that scope."""
    if principal.role is not Role.CLIENT or principal.order_id is None:
        raise ValueError("a tracking page is read as a client narrowed to one order")
    context = make_context(principal=principal, db=db, now=now, request_id=request_id)
    return await run(
        schema_for(Role.CLIENT),
        tracking_page_document(),
        context=context,
        variables={"orderId": principal.order_id},
        operation_name=OPERATION,
    )
