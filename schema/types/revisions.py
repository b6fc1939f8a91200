"""When terms change: the revisions of an order's terms (each with what changed, why,
when and whose terms they are) and the supplier's proposal waiting for the buyer's
answer — and the relations that load them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from db import models
from db.commands.lines import LineChange
from db.commands.terms import Change
from db.notes import NoteAudience
from db.queries import relations as q
from permissions.fields import row_policy
from schema.relations import children
from schema.types.common import FromRow, copy_fields


@strawberry.type(description="One term a revision changed: its value before and after.")
class RevisionChange(FromRow):
    field: models.RevisionField
    line_no: int | None
    before: str | None = strawberry.field(
        description="As text: dates ISO-8601, money exact; null for a line it added."
    )
    after: str | None


@strawberry.type(description="A revision of the order's terms; 1 is the PO as issued.")
class Revision:
    number: int
    at: datetime
    by: str = strawberry.field(description="Whose terms: buyer, or supplier (a proposal).")
    reason: str | None = strawberry.field(extensions=row_policy("Revision.reason"))
    visible_to: list[NoteAudience] = strawberry.field(
        description="Who besides the buyer the buyer shared the reason with."
    )
    changes: list[RevisionChange]

    @classmethod
    def from_row(cls, row: models.OrderRevision) -> Revision:
        return copy_fields(
            cls,
            row,
            by=row.actor_role,
            visible_to=sorted(row.reason_audience),
            changes=[RevisionChange.from_row(Change.from_json(c)) for c in row.changes],
        )


@strawberry.type(description="A line as the supplier proposes it: null where unchanged.")
class ProposedLine(FromRow):
    line_no: int
    quantity: int | None
    unit_price: Decimal | None


@strawberry.type(description="The supplier's own terms, waiting for the buyer's answer.")
class Proposal:
    id: strawberry.ID
    revision: int = strawberry.field(description="The revision it answers.")
    proposed_at: datetime
    promised_date: date | None
    note: str
    lines: list[ProposedLine]

    @classmethod
    def from_row(cls, row: models.Proposal) -> Proposal:
        return copy_fields(
            cls,
            row,
            lines=[ProposedLine.from_row(LineChange.from_json(item)) for item in row.lines],
        )


ORDER_REVISIONS = children(
    "Order", "revisions", q.revisions_for_orders, keyword="order_ids", wrap=Revision.from_row
)
# Named as the GraphQL field: a page prefetches it when its document selects it.
PENDING_PROPOSAL = children(
    "Order",
    "pendingProposal",
    q.pending_proposals_for_orders,
    keyword="order_ids",
    wrap=Proposal.from_row,
    many=False,
)
