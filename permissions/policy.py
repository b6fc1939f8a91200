"""The redaction policy: one declarative table, role x ``Type.member`` -> access.

This table is the single source for
* the per-role schemas (HIDE: the member does not exist in that role's schema),
* the row-level permission classes (NULL: the field resolves to null on rows a
  rule rejects),
* the README role matrix, and the tests that walk every (role, member) pair.

Next to it, the two other things a role may or may not do, as data the data layer
applies through the caller's ``Scope`` (``scope_for``): ``ROW_CONTENT`` (what a role
reads inside rows it can reach: hidden event kinds, whose invoices) and
``ACTION_MUTATIONS`` (each lifecycle action is the mutation of that name, so a role may
take the action exactly when the mutation is in its schema).

Members are GraphQL names: object and input fields (``Order.total``,
``OrderFilter.minTotal``), enum values (``OrderSort.TOTAL_DESC``) and root fields
(``Query.suppliers``, ``Mutation.issueOrder``). ``Type.*`` covers every member of a
type not listed by name. Anything not in the table is **default-deny**: allowed
to the buyer (who owns the data), hidden from client and supplier.

Long because it is one table: it is reviewed whole, like data, and splitting it
would hide who sees what behind imports.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import ColumnElement, String, func, type_coerce

from db.lifecycle import Action
from db.notes import NoteAudience
from db.scope import InvoiceAccess, Role, RowContent, Scope

if TYPE_CHECKING:
    from permissions.principal import Principal


class Access(enum.Enum):
    ALLOW = "allow"
    HIDE = "hide"
    NULL = "null"


@dataclass(frozen=True)
class RowRule:
    """NULL-per-row: the field is in the role's schema; ``visible`` decides per row.

    ``sql`` is the same rule as a SQL condition over the row's table (given the mapped
    class or an alias of it): the compiled path (``schema.compiler``) puts it in its
    statement. tests/compiler/test_row_rule_sql.py holds the two forms to agreement on
    every row of the canary world; a rule without ``sql`` sends documents that select
    its field to the ordinary path.
    """

    name: str
    description: str
    visible: Callable[[Any, Principal], bool]
    sql: Callable[[Any], ColumnElement[bool]] | None = None

    @property
    def access(self) -> Access:
        return Access.NULL


Entry = Access | RowRule

# --- row rules (sync and cheap: they read attributes already loaded) --------------


def _audience_has(column: Any, audience: NoteAudience) -> ColumnElement[bool]:
    """SQL: ``audience in visible_to`` for a note-audience column (sorted names, comma
    separated; '' for the buyer's alone)."""
    names = type_coerce(column, String)
    return ("," + func.coalesce(names, "") + ",").contains(f",{audience.value},")


NOT_OWN_DRIVER = RowRule(
    "unless OWN_DRIVER",
    "null for OWN_DRIVER shipments: the carrier, its reference and link are the supplier's own",
    lambda shipment, _p: str(shipment.method) != "OWN_DRIVER",
    sql=lambda shipment: type_coerce(shipment.method, String) != "OWN_DRIVER",
)
BUYER_WROTE_IT = RowRule(
    "buyer-written only",
    "null unless the buyer wrote the event",
    lambda event, _p: event.actor_role == Role.BUYER.value,
    sql=lambda event: event.actor_role == Role.BUYER.value,
)


def _event_note(
    who: tuple[Role, Callable[[Any, Any], Any], NoteAudience], name: str, description: str
) -> RowRule:
    """An event's note, readable where (``author``, ``combine``, ``shared``) = ``who``:
    ``author`` wrote it, and (``&``) or (``|``) the buyer shared it with ``shared``;
    ``&`` and ``|`` mean the same on Python bools and on SQL conditions."""
    author, combine, shared = who
    return RowRule(
        name,
        description,
        lambda event, _p: bool(
            combine(event.actor_role == author.value, shared in event.visible_to)
        ),
        sql=lambda event: combine(
            event.actor_role == author.value, _audience_has(event.note_audience, shared)
        ),
    )


# Notes: the buyer's reach whom the buyer shared them with (``visibleTo``; none: the
# buyer's alone); a supplier's reach the buyer and the supplier, never the client.
SHARED_WITH_CLIENT = _event_note(
    (Role.BUYER, operator.and_, NoteAudience.CLIENT),
    "shared with the client",
    "null unless the buyer wrote it and shared it with the client (visibleTo CLIENT)",
)
SUPPLIERS_OR_SHARED = _event_note(
    (Role.SUPPLIER, operator.or_, NoteAudience.SUPPLIER),
    "the supplier's own or shared with it",
    "null unless the supplier wrote it or the buyer shared it with the supplier "
    "(visibleTo SUPPLIER)",
)
REASON_SUPPLIERS_OR_SHARED = RowRule(
    "the supplier's own or shared with it",
    "null unless the terms are the supplier's or the buyer shared the reason with the "
    "supplier (visibleTo SUPPLIER)",
    lambda revision, _p: (
        revision.by == Role.SUPPLIER.value or NoteAudience.SUPPLIER in revision.visible_to
    ),
)
SHARED_WITH_SUPPLIER = RowRule(
    "shared with the supplier",
    "null unless the buyer shared it with the supplier (visibleTo SUPPLIER)",
    lambda receipt, _p: NoteAudience.SUPPLIER in receipt.visible_to,
)

A, H = Access.ALLOW, Access.HIDE


@dataclass(frozen=True)
class Row:
    buyer: Entry
    client: Entry
    supplier: Entry

    def for_role(self, role: Role) -> Entry:
        entry: Entry = getattr(self, role.value)
        return entry


ALL = Row(A, A, A)
BUYER_ONLY = Row(A, H, H)
NOT_CLIENT = Row(A, H, A)  # prices, supplier identity, finance: buyer and supplier
NOT_SUPPLIER = Row(A, A, H)  # end-client identity: buyer and client
SUPPLIER_ONLY = Row(H, H, A)

POLICY: Final[Mapping[str, Row]] = {
    # --- entry points ---
    "Query.viewer": ALL,
    "Query.node": ALL,
    "Query.order": ALL,
    "Query.orderByNumber": ALL,
    "Query.orders": ALL,
    "Query.suppliers": NOT_CLIENT,  # a supplier sees only itself
    "Query.clients": NOT_SUPPLIER,  # a client sees only itself
    "Query.alerts": NOT_CLIENT,  # a supplier: alerts on its own jobs
    "Query.dashboard": NOT_CLIENT,
    "Query.alertThresholds": BUYER_ONLY,
    "Subscription.orderEvents": ALL,  # each event through the caller's own scope
    "Subscription.alertRaised": NOT_CLIENT,  # a supplier: alerts on its own jobs
    "Viewer.*": ALL,
    "Viewer.clientId": NOT_SUPPLIER,
    "Viewer.supplierId": NOT_CLIENT,
    "Node.id": ALL,
    # --- orders ---
    "Order.id": ALL,
    "Order.number": ALL,
    "Order.stage": ALL,
    "Order.needBy": ALL,
    "Order.promisedDate": ALL,
    "Order.outlook": ALL,
    "Order.issuedAt": ALL,
    "Order.acknowledgedAt": ALL,
    "Order.productionStartedAt": ALL,
    "Order.dispatchedAt": ALL,
    "Order.deliveredAt": ALL,
    "Order.stageEnteredAt": ALL,
    "Order.events": ALL,
    "Order.shipments": ALL,
    "Order.lines": ALL,
    # A client has nothing to write, and a version that moves without a visible event
    # would tell it an invoice arrived.
    "Order.version": NOT_CLIENT,
    "Order.clientReference": NOT_SUPPLIER,
    "Order.client": NOT_SUPPLIER,
    "Order.supplier": NOT_CLIENT,
    "Order.currency": NOT_CLIENT,
    "Order.total": NOT_CLIENT,
    "Order.terms": NOT_CLIENT,
    "Order.leadTimeDays": NOT_CLIENT,
    "Order.receipts": NOT_CLIENT,
    "Order.invoices": NOT_CLIENT,
    "Order.match": NOT_CLIENT,
    "Order.internalNote": BUYER_ONLY,
    "Order.alerts": NOT_CLIENT,
    # Revisions: a client sees the terms it may see change (need-by, quantities) and
    # which revision is current; never prices, proposals or who asked for what.
    "Order.revision": NOT_CLIENT,  # counts amendments: the deal, not the delivery
    "Order.revisions": NOT_CLIENT,
    "Order.pendingProposal": NOT_CLIENT,
    "Order.awaiting": NOT_CLIENT,
    "Awaiting.*": NOT_CLIENT,
    "Revision.reason": Row(A, H, REASON_SUPPLIERS_OR_SHARED),
    "Revision.visibleTo": BUYER_ONLY,
    "Revision.*": NOT_CLIENT,
    "RevisionChange.*": NOT_CLIENT,
    "RevisionField.*": NOT_CLIENT,
    "Proposal.*": NOT_CLIENT,
    "ProposedLine.*": NOT_CLIENT,
    # From shipment estimates, else the promised date: the client's "when".
    "Order.estimatedDelivery": ALL,
    # Capability links are the buyer's to give out; a link never lists links.
    "Order.trackingLinks": BUYER_ONLY,
    "OrderLine.lineNo": ALL,
    "OrderLine.partNumber": ALL,
    "OrderLine.description": ALL,
    "OrderLine.quantity": ALL,
    "OrderLine.dispatchedQuantity": ALL,
    "OrderLine.receivedQuantity": ALL,
    "OrderLine.cancelledQuantity": ALL,  # a short-close: these will not come
    "OrderLine.rejectedQuantity": NOT_CLIENT,  # the supplier's quality is not the client's
    "OrderLine.unitPrice": NOT_CLIENT,
    "OrderLine.lineTotal": NOT_CLIENT,
    "OrderEvent.id": ALL,
    "OrderEvent.order": ALL,  # resolved through the caller's own scope
    "OrderEvent.at": ALL,
    "OrderEvent.stage": ALL,
    "OrderEvent.kind": ALL,
    "OrderEvent.actorRole": ALL,
    "OrderEvent.promisedDate": ALL,
    "OrderEvent.actorSubject": Row(A, BUYER_WROTE_IT, A),
    "OrderEvent.note": Row(A, SHARED_WITH_CLIENT, SUPPLIERS_OR_SHARED),
    "OrderEvent.visibleTo": BUYER_ONLY,
    "NoteAudience.*": BUYER_ONLY,
    "Shipment.id": ALL,
    "Shipment.method": ALL,
    "Shipment.trackingReference": Row(A, NOT_OWN_DRIVER, A),
    "Shipment.trackingUrl": Row(A, NOT_OWN_DRIVER, A),
    "Shipment.dispatchedAt": ALL,
    "Shipment.lines": ALL,
    "Shipment.carrier": Row(A, NOT_OWN_DRIVER, A),
    # Progress is the client's to watch for every shipment, own driver included: it
    # names no driver or carrier.
    "Shipment.status": ALL,
    "Shipment.estimatedArrival": ALL,
    "ShipmentLine.*": ALL,
    "Receipt.note": Row(A, H, SHARED_WITH_SUPPLIER),
    "Receipt.visibleTo": BUYER_ONLY,
    "Receipt.*": NOT_CLIENT,
    "ReceiptLine.*": NOT_CLIENT,
    "Invoice.*": NOT_CLIENT,
    "InvoiceLine.*": NOT_CLIENT,
    # --- parties ---
    "Supplier.id": NOT_CLIENT,
    "Supplier.name": NOT_CLIENT,
    "Supplier.contactEmail": NOT_CLIENT,
    "Supplier.orders": NOT_CLIENT,
    "Supplier.scorecard": BUYER_ONLY,
    "SupplierScorecard.*": BUYER_ONLY,
    "Client.id": NOT_SUPPLIER,
    "Client.name": NOT_SUPPLIER,
    "Client.contactEmail": BUYER_ONLY,  # e-mail of dispatches (issue 12)
    "Client.orders": NOT_SUPPLIER,
    # --- connections ---
    "PageInfo.*": ALL,
    "OrderConnection.*": ALL,
    "OrderEdge.*": ALL,
    "SupplierConnection.*": NOT_CLIENT,
    "SupplierEdge.*": NOT_CLIENT,
    "ClientConnection.*": NOT_SUPPLIER,
    "ClientEdge.*": NOT_SUPPLIER,
    "AlertConnection.*": NOT_CLIENT,
    "AlertEdge.*": NOT_CLIENT,
    # --- alerts and dashboard: clients get the outlook instead ---
    "Alert.*": NOT_CLIENT,
    "AlertKind.*": NOT_CLIENT,
    "Dashboard.*": NOT_CLIENT,
    "StageCount.*": NOT_CLIENT,
    "AlertCount.*": NOT_CLIENT,
    "AlertThresholds.*": BUYER_ONLY,
    # --- filters and sort keys (an oracle is a leak: hidden values cannot be filtered on) ---
    "OrderFilter.stages": ALL,
    "OrderFilter.needByBefore": ALL,
    "OrderFilter.needByAfter": ALL,
    "OrderFilter.search": ALL,
    "OrderFilter.supplierId": NOT_CLIENT,
    "OrderFilter.clientId": NOT_SUPPLIER,
    "OrderFilter.minTotal": NOT_CLIENT,
    "OrderFilter.hasAlert": NOT_CLIENT,
    "OrderSort.ISSUED_AT_DESC": ALL,
    "OrderSort.ISSUED_AT_ASC": ALL,
    "OrderSort.NEED_BY_ASC": ALL,
    "OrderSort.STAGE_ENTERED_AT_ASC": ALL,
    "OrderSort.TOTAL_DESC": NOT_CLIENT,
    "OrderStage.*": ALL,
    "ShipmentMethod.*": ALL,
    "ShipmentStatus.*": ALL,
    "Outlook.*": ALL,
    "ErrorCode.*": ALL,  # userErrors of the webhook mutations reach clients too
    "MatchStatus.*": NOT_CLIENT,
    # --- buyer mutations ---
    "Mutation.createSupplier": BUYER_ONLY,
    "Mutation.createClient": BUYER_ONLY,
    "Mutation.issueOrder": BUYER_ONLY,
    "CreateSupplierInput.*": BUYER_ONLY,
    "CreateClientInput.*": BUYER_ONLY,
    "IssueOrderInput.*": BUYER_ONLY,
    "OrderLineInput.*": BUYER_ONLY,
    "SupplierPayload.*": BUYER_ONLY,
    "ClientPayload.*": BUYER_ONLY,
    "Mutation.cancelOrder": BUYER_ONLY,
    "Mutation.receiveDelivery": BUYER_ONLY,
    "Mutation.setMatchingTolerances": BUYER_ONLY,
    "Mutation.setAlertThresholds": BUYER_ONLY,
    "AlertThresholdsInput.*": BUYER_ONLY,
    "AlertThresholdsPayload.*": BUYER_ONLY,
    "CancelOrderInput.*": BUYER_ONLY,
    "ReceiveDeliveryInput.*": BUYER_ONLY,
    "ReceiptLineInput.*": BUYER_ONLY,
    "Mutation.respondToProposal": BUYER_ONLY,
    "Mutation.amendOrder": BUYER_ONLY,
    "Mutation.closeOrder": BUYER_ONLY,
    "RespondToProposalInput.*": BUYER_ONLY,
    "AmendOrderInput.*": BUYER_ONLY,
    "CloseOrderInput.*": BUYER_ONLY,
    "SetMatchingTolerancesInput.*": BUYER_ONLY,
    "MatchingTolerancesPayload.*": BUYER_ONLY,
    "MatchingTolerances.*": BUYER_ONLY,
    # --- supplier mutations ---
    "Mutation.acknowledgeOrder": SUPPLIER_ONLY,
    "Mutation.declineOrder": SUPPLIER_ONLY,
    "Mutation.startProduction": SUPPLIER_ONLY,
    "Mutation.updatePromisedDate": SUPPLIER_ONLY,
    "Mutation.addMilestone": SUPPLIER_ONLY,
    "Mutation.dispatchOrder": SUPPLIER_ONLY,
    "Mutation.submitInvoice": SUPPLIER_ONLY,
    "Mutation.proposeChanges": SUPPLIER_ONLY,
    "ProposeChangesInput.*": SUPPLIER_ONLY,
    "AcknowledgeOrderInput.*": SUPPLIER_ONLY,
    "DeclineOrderInput.*": SUPPLIER_ONLY,
    "OrderActionInput.*": SUPPLIER_ONLY,
    "UpdatePromisedDateInput.*": SUPPLIER_ONLY,
    "AddMilestoneInput.*": SUPPLIER_ONLY,
    "DispatchOrderInput.*": SUPPLIER_ONLY,
    "SubmitInvoiceInput.*": SUPPLIER_ONLY,
    "InvoiceLineInput.*": SUPPLIER_ONLY,
    "InvoicePayload.*": SUPPLIER_ONLY,
    # --- the watchable link (issue 13) ---
    "Mutation.createTrackingLink": BUYER_ONLY,
    "Mutation.revokeTrackingLink": BUYER_ONLY,
    "CreateTrackingLinkInput.*": BUYER_ONLY,
    "RevokeTrackingLinkInput.*": BUYER_ONLY,
    "TrackingLinkPayload.*": BUYER_ONLY,
    "TrackingLink.*": BUYER_ONLY,
    # Whoever dispatches reports the shipment's progress (``db.commands.shipments``
    # checks the dispatch action, which ACTION_MUTATIONS gives the supplier).
    "Mutation.updateShipment": SUPPLIER_ONLY,
    "UpdateShipmentInput.*": SUPPLIER_ONLY,
    # --- webhooks (issue 12): every party registers endpoints for itself only; the rows
    # it reaches are its own party's (``db.webhooks.endpoint_scope``) ---
    "Query.webhookEndpoints": ALL,
    "Mutation.createWebhookEndpoint": ALL,
    "Mutation.deleteWebhookEndpoint": ALL,
    "Mutation.rotateWebhookSecret": ALL,
    "Mutation.redeliverWebhook": ALL,
    "CreateWebhookEndpointInput.*": ALL,
    "DeleteWebhookEndpointInput.*": ALL,
    "RotateWebhookSecretInput.*": ALL,
    "RedeliverWebhookInput.*": ALL,
    "WebhookEndpointPayload.*": ALL,
    "WebhookEndpoint.*": ALL,
    "WebhookDelivery.*": ALL,
    "WebhookDeliveryConnection.*": ALL,
    "WebhookDeliveryEdge.*": ALL,
    "WebhookEndpointConnection.*": ALL,
    "WebhookEndpointEdge.*": ALL,
    # Which events an endpoint may take: those whose subscription the role has (a
    # client: no alertRaised, so ALERT_RAISED is refused by createWebhookEndpoint).
    "WebhookEvent.*": ALL,
    "WebhookEvent.ALERT_RAISED": NOT_CLIENT,  # a client never learns alerts exist
    "DeliveryStatus.*": ALL,
    # --- shared by buyer and supplier mutations (and everyone's webhook mutations) ---
    "OrderPayload.*": NOT_CLIENT,
    "UserError.*": ALL,
    "LineQuantityInput.*": NOT_CLIENT,
    "LineChangeInput.*": NOT_CLIENT,  # amendments (buyer) and proposals (supplier)
}

_DEFAULT = Row(A, H, H)

# --- what a role reads inside rows it can reach -------------------------------------

ROW_CONTENT: Final[Mapping[Role, RowContent]] = {
    Role.BUYER: RowContent(invoices=InvoiceAccess.ALL),
    # A client follows the delivery, not the deal: it never learns that an invoice
    # exists, nor that terms were proposed, answered, amended or re-acknowledged (its
    # stage, dates and shipments say where the order is) — unless the buyer shared the
    # note of that answer or amendment with it.
    Role.CLIENT: RowContent(
        hidden_event_kinds=frozenset(
            {"INVOICE_SUBMITTED", "CHANGES_PROPOSED", "REVISION_ACKNOWLEDGED"}
        ),
        unless_shared_kinds=frozenset({"PROPOSAL_ACCEPTED", "PROPOSAL_REJECTED", "AMENDED"}),
        shared_as=NoteAudience.CLIENT.value,
        invoices=InvoiceAccess.NONE,
    ),
    # A supplier reads the invoices it submitted, never another supplier's.
    Role.SUPPLIER: RowContent(invoices=InvoiceAccess.OWN),
}

# --- who takes each lifecycle action: the role whose schema has its mutation ----------

ACTION_MUTATIONS: Final[Mapping[Action, str]] = {
    Action.ACKNOWLEDGE: "acknowledgeOrder",
    Action.DECLINE: "declineOrder",
    Action.PROPOSE_CHANGES: "proposeChanges",
    Action.ACCEPT_PROPOSAL: "respondToProposal",
    Action.REJECT_PROPOSAL: "respondToProposal",
    Action.AMEND: "amendOrder",
    Action.START_PRODUCTION: "startProduction",
    Action.UPDATE_PROMISED_DATE: "updatePromisedDate",
    Action.ADD_MILESTONE: "addMilestone",
    Action.DISPATCH: "dispatchOrder",
    Action.SUBMIT_INVOICE: "submitInvoice",
    Action.RECEIVE: "receiveDelivery",
    Action.CANCEL: "cancelOrder",
    Action.CLOSE: "closeOrder",
}


def allowed_actions(role: Role) -> frozenset[str]:
    """The lifecycle actions ``role`` may take: those whose mutation it can see."""
    return frozenset(
        action for action, name in ACTION_MUTATIONS.items() if not is_hidden(role, "Mutation", name)
    )


@lru_cache(maxsize=4096)
def scope_for(principal: Principal) -> Scope:
    """The row scope the data layer applies for ``principal``: its org and party, with
    the actions and row content this table gives its role."""
    return Scope(
        org=principal.org,
        role=principal.role,
        subject=principal.subject,
        client_id=principal.client_id,
        supplier_id=principal.supplier_id,
        order_id=principal.order_id,
        actions=allowed_actions(principal.role),
        content=ROW_CONTENT[principal.role],
    )


def entry_for(role: Role, type_name: str, member: str) -> Entry:
    """The access of ``role`` to ``type_name.member`` (default-deny for non-buyers)."""
    row = POLICY.get(f"{type_name}.{member}") or POLICY.get(f"{type_name}.*") or _DEFAULT
    return row.for_role(role)


def access(role: Role, type_name: str, member: str) -> Access:
    entry = entry_for(role, type_name, member)
    return entry.access if isinstance(entry, RowRule) else entry


def is_hidden(role: Role, type_name: str, member: str) -> bool:
    return access(role, type_name, member) is Access.HIDE


def visible_on_row(key: str, principal: Principal, source: Any) -> bool:
    """Whether ``key`` (``Type.field``) shows its value on ``source`` to ``principal``."""
    type_name, _, member = key.partition(".")
    entry = entry_for(principal.role, type_name, member)
    if isinstance(entry, RowRule):
        return entry.visible(source, principal)
    return entry is Access.ALLOW


def row_rule_keys() -> set[str]:
    """Every ``Type.field`` that is NULL-per-row for at least one role."""
    return {
        key
        for key, row in POLICY.items()
        if any(isinstance(row.for_role(r), RowRule) for r in Role)
    }


# Text columns that ``OrderFilter.search`` matches, each with the field that shows it:
# a role may only search what it can see, or the search becomes an oracle.
_SEARCHABLE: Final = {
    "number": ("Order", "number"),
    "client_reference": ("Order", "clientReference"),
    "part_number": ("OrderLine", "partNumber"),
}


def searchable_columns(role: Role) -> tuple[str, ...]:
    return tuple(
        column
        for column, (type_name, member) in _SEARCHABLE.items()
        if access(role, type_name, member) is Access.ALLOW
    )
