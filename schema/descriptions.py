"""What every type, field, argument, input field and enum value means, as data.

The per-role schemas take their descriptions from here at build time
(``apply_descriptions``), so the type modules need no edits and a description is
reviewed like the policy table. Keys:

* ``"Type"`` — a type (object, interface, input, enum, scalar);
* ``"Type.field"`` — an object, interface or input field;
* ``"Type.field(arg)"`` — an argument;
* ``"Enum.VALUE"`` — an enum value.

An entry here replaces the ``description=`` written in the code; a member without an
entry keeps the code's text, else takes the first matching ``PATTERNS`` entry (shapes
every connection, edge, payload and input shares). Where the buyer's wording would
mention what another role cannot see (a supplier, a price, a client), the entry is a
``PerRole`` with that role's own wording: ``tests/schema/test_descriptions.py`` fails on
a missing description, and on a client or supplier description naming hidden things.

``python -m schema.artifacts`` (which regenerates the SDL) lists the members still
without a description, in the key format above: add them to ``DESCRIPTIONS``.

Long because it is the table itself: one line per member of three schemas.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)

from permissions.principal import Role

BUILT_IN = frozenset({"String", "Int", "Float", "Boolean", "ID"})


@dataclass(frozen=True)
class PerRole:
    """Wording per role: ``default`` unless the role has its own."""

    default: str
    client: str | None = None
    supplier: str | None = None

    def text(self, role: Role) -> str:
        own = {Role.CLIENT: self.client, Role.SUPPLIER: self.supplier}.get(role)
        return own if own is not None else self.default


Text = str | PerRole

_ORDER_ID = "The order's ID."
_EXPECTED_VERSION = (
    "Apply only if the order's version still equals this; otherwise nothing changes and "
    "the payload carries a CONFLICT user error."
)
_IDEMPOTENCY_KEY = (
    "Your key for this request: sending the same key again returns the first result "
    "instead of acting twice."
)
_NOTE = "A free-text note recorded on the order's audit trail."
_FIRST = "Return at most this many items from the start (forward), up to 100."
_AFTER = "Return items after this cursor (an edge's cursor or pageInfo.endCursor)."
_LAST = "Return at most this many items from the end (backward), up to 100. Not with first."
_BEFORE = "Return items before this cursor (an edge's cursor or pageInfo.startCursor)."

DESCRIPTIONS: dict[str, Text] = {
    # --- roots -------------------------------------------------------------------------
    "Query": "Reading: everything here is scoped to the caller's token.",
    "Mutation": (
        "Changes. Each mutation applies entirely or not at all: a problem comes back as "
        "userErrors and nothing changes."
    ),
    "Subscription": "Live updates over graphql-transport-ws (WebSocket), same scope as queries.",
    "Query.node(id)": "A global ID as returned by any object's id field.",
    "Query.order(id)": "The order's global ID (Order.id).",
    "Query.orderByNumber(number)": "The PO number, exactly as issued, e.g. PO-2026-00042.",
    "Query.orders": (
        "Orders the caller may see, paginated by cursor: forward with first/after, "
        "backward with last/before."
    ),
    "Query.orders(filter)": "Conditions every returned order must meet.",
    "Query.orders(orderBy)": "Sort order; ties are broken by ID, so pages never overlap.",
    "Query.clients": PerRole("Clients, by name.", client="You: the one client your token is for."),
    "Query.suppliers": PerRole(
        "Suppliers, by name.", supplier="You: the one supplier your token is for."
    ),
    "Query.alerts(kind)": "Only alerts of this kind.",
    "Supplier.scorecard(windowDays)": "How many days back to look, from 1 to 3660.",
    "Subscription.orderEvents(orderId)": "Only events of this order; omitted: every order.",
    "Subscription.orderEvents(after)": (
        "An OrderEvent.id you already have: first replay the events that came after it, "
        "then go live, with no gap and no duplicate."
    ),
    # --- lifecycle mutations (declared as one line each in schema/mutations) ---------------
    "Mutation.cancelOrder": "Cancel an order before dispatch (reason required).",
    "Mutation.closeOrder": (
        "Short-close a dispatched order: what is outstanding will not come; what was "
        "received stays invoiceable (reason required)."
    ),
    "Mutation.receiveDelivery": (
        "Check goods in against the order, per line; rejected units go back to the "
        "supplier to be dispatched again."
    ),
    "Mutation.respondToProposal": (
        "Answer the supplier's proposal: accept (the order is acknowledged on the "
        "proposed terms, a new revision) or reject (the supplier acknowledges or proposes "
        "again)."
    ),
    "Mutation.amendOrder": (
        "Change need-by, quantities or prices, or add lines, before dispatch: a new "
        "revision the supplier must acknowledge (reason required)."
    ),
    "Mutation.acknowledgeOrder": (
        "Confirm the current revision and commit to a date: the PO as issued (ISSUED → "
        "ACKNOWLEDGED), or a revision the buyer made since."
    ),
    "Mutation.proposeChanges": (
        "Instead of acknowledging: propose a date, quantities or unit prices (note "
        "required); the buyer accepts or rejects."
    ),
    "Mutation.declineOrder": "Turn the PO down (reason required).",
    "Mutation.startProduction": "Production has started (ACKNOWLEDGED → IN_PRODUCTION).",
    "Mutation.updatePromisedDate": "Move the promised date (reason required): a heartbeat.",
    "Mutation.addMilestone": 'Record progress, e.g. "material ordered".',
    "Mutation.dispatchOrder": "Ship all that remains, or the given lines (partial).",
    # --- viewer and node -----------------------------------------------------------------
    "Viewer.role": PerRole(
        "buyer, client or supplier.", client="Your role: client.", supplier="Your role: supplier."
    ),
    "Viewer.org": "The organisation (tenant) the token belongs to.",
    "Viewer.subject": "The token's subject (sub claim): who is calling.",
    "Viewer.clientId": PerRole(
        "For a client token, its Client.id; null for a buyer.",
        client="Your Client.id.",
    ),
    "Viewer.supplierId": PerRole(
        "For a supplier token, its Supplier.id; null for a buyer.",
        supplier="Your Supplier.id.",
    ),
    "Node.id": "Global, opaque ID: use it with node(id:) and in mutation inputs.",
    # --- order ---------------------------------------------------------------------------
    "Order.id": "Global, opaque ID.",
    "Order.number": "The PO number, unique in the organisation, e.g. PO-2026-00042.",
    "Order.stage": "Where the order is in its lifecycle.",
    "Order.clientReference": PerRole(
        "The client's own reference for this order, if the buyer gave one.",
        client="Your own reference for this order, if one was given.",
    ),
    "Order.currency": "ISO 4217 currency code of every amount on the order, e.g. EUR.",
    "Order.total": "Sum of the line totals, in the order's currency.",
    "Order.terms": "Payment and delivery terms, as free text.",
    "Order.leadTimeDays": "Lead time in days, as agreed when the PO was issued.",
    "Order.needBy": "The day the goods are needed by.",
    "Order.promisedDate": PerRole(
        "The day the supplier promises to dispatch; null until acknowledged.",
        client="The day the order is promised to ship; null until confirmed.",
        supplier="The day you promise to dispatch; null until you acknowledge.",
    ),
    "Order.issuedAt": "When the PO was issued (stage ISSUED).",
    "Order.acknowledgedAt": PerRole(
        "When the supplier acknowledged it; null before.",
        client="When the order was confirmed; null before.",
        supplier="When you acknowledged it; null before.",
    ),
    "Order.productionStartedAt": "When production started; null before.",
    "Order.dispatchedAt": "When the first shipment left; null before.",
    "Order.deliveredAt": "When everything was received; null before.",
    "Order.stageEnteredAt": "When the order entered its current stage.",
    "Order.internalNote": "The buyer's own note on the order; no one else ever sees it.",
    "Order.version": (
        "Grows by one on every change; pass it as expectedVersion so a mutation applies "
        "only to the order as you saw it."
    ),
    "Order.revision": PerRole(
        "The terms' revision: 1 as issued, one more per amendment or accepted proposal.",
        client="1 as first issued, one more each time the order was changed.",
    ),
    "Order.outlook": PerRole(
        "ON_TRACK, AT_RISK, LATE or DELIVERED: the delivery outlook, from dates and stage.",
        client="ON_TRACK, AT_RISK, LATE or DELIVERED: how delivery looks, from dates and stage.",
    ),
    "Order.supplier": PerRole(
        "The supplier making the order.",
        supplier="You: the supplier making the order.",
    ),
    "Order.client": PerRole(
        "The client the goods are for; null for the buyer's own stock.",
        client="You: the client the goods are for.",
    ),
    "Order.lines": "The ordered lines, by line number.",
    "Order.shipments": "Shipments dispatched so far, oldest first.",
    "Order.receipts": PerRole(
        "Goods receipts: the buyer checking deliveries in, oldest first.",
        supplier="Goods receipts: the buyer checking your deliveries in, oldest first.",
    ),
    "Order.invoices": PerRole(
        "The supplier's invoices against this order, oldest first.",
        supplier="Your invoices against this order, oldest first.",
    ),
    # --- order parts ---------------------------------------------------------------------
    "OrderLine.lineNo": "The line's number on the order, from 1.",
    "OrderLine.partNumber": "The part number, as ordered.",
    "OrderLine.description": "What the part is, as free text.",
    "OrderLine.quantity": "Units ordered.",
    "OrderLine.receivedQuantity": "Units received and accepted so far.",
    "OrderLine.unitPrice": "Price of one unit, in the order's currency.",
    "OrderLine.lineTotal": "quantity × unitPrice, in the order's currency.",
    "OrderLine.dispatchedQuantity": PerRole(
        "On its way or received: rejected units go back to be dispatched again.",
        client="Units shipped so far (on their way or received).",
    ),
    "OrderEvent": PerRole(
        "An entry in the order's append-only audit trail.",
        client="An entry in the order's history.",
    ),
    "OrderEvent.id": "Global, opaque ID; pass it as orderEvents(after:) to resume.",
    "OrderEvent.at": "When it happened.",
    "OrderEvent.stage": "The order's stage after this event.",
    "OrderEvent.kind": PerRole(
        "What happened: ISSUED, ACKNOWLEDGED, PRODUCTION_STARTED, PROMISE_UPDATED, "
        "MILESTONE, DISPATCHED, RECEIVED, DELIVERED, INVOICE_SUBMITTED, CHANGES_PROPOSED, "
        "PROPOSAL_ACCEPTED, PROPOSAL_REJECTED, AMENDED, REVISION_ACKNOWLEDGED, DECLINED, "
        "CANCELLED, CLOSED, SHIPMENT_IN_TRANSIT, ...",
        client="What happened, e.g. ISSUED, ACKNOWLEDGED, PRODUCTION_STARTED, "
        "PROMISE_UPDATED, MILESTONE, DISPATCHED, RECEIVED, DELIVERED, CANCELLED.",
    ),
    "OrderEvent.actorRole": PerRole(
        "The role of whoever did it: buyer or supplier.",
        client="The role of whoever did it.",
    ),
    "OrderEvent.actorSubject": PerRole(
        "Who did it: the token subject (sub claim) of the caller that did it.",
        client="Who did it, where you may know; otherwise null.",
    ),
    "OrderEvent.note": PerRole(
        "The note given with it, if any.",
        client="The note given with it, where it was shared with you; otherwise null.",
        supplier="The note given with it, where it was shared with you; otherwise null.",
    ),
    "OrderEvent.promisedDate": "The promised date this event set, if it set one.",
    "Shipment.id": "Global, opaque ID.",
    "Shipment.method": "How the goods travel.",
    "Shipment.carrier": PerRole(
        "Who carries the goods.",
        client="The courier or freight company; null for a direct delivery.",
    ),
    "Shipment.trackingReference": "The carrier's tracking number, if any.",
    "Shipment.trackingUrl": "A page where the carrier tracks it, if any.",
    "Shipment.dispatchedAt": "When it left.",
    "ShipmentLine.lineNo": "The order line shipped.",
    "ShipmentLine.quantity": "Units of that line in this shipment.",
    "Receipt.id": "Global, opaque ID.",
    "Receipt.receivedAt": "When the buyer checked the goods in.",
    "Receipt.note": PerRole(
        "The buyer's note on the receipt, if any.",
        supplier="The buyer's note on the receipt, where it was shared with you.",
    ),
    "Receipt.lines": "Per order line: accepted and rejected units.",
    "ReceiptLine.lineNo": "The order line checked in.",
    "ReceiptLine.rejectedQuantity": "Units rejected, to be dispatched again.",
    "ReceiptLine.rejectReason": "Why the units were rejected; null when none were.",
    "Invoice.id": "Global, opaque ID.",
    "Invoice.number": "The invoice number, as the supplier wrote it.",
    "Invoice.submittedAt": "When it was submitted.",
    "Invoice.total": "Sum of quantity × unit price over its lines.",
    "Invoice.lines": "The invoiced lines.",
    "InvoiceLine.lineNo": "The order line invoiced.",
    "InvoiceLine.quantity": "Units invoiced.",
    "InvoiceLine.unitPrice": "Invoiced price of one unit.",
    "Revision.number": "1 is the PO as issued; one more per accepted change.",
    "Revision.at": "When it took effect.",
    "Revision.reason": PerRole(
        "Why the terms changed.",
        supplier="Why the terms changed, where it was shared with you.",
    ),
    "Revision.changes": "Each term that changed, before and after.",
    "RevisionChange.field": "Which term changed.",
    "RevisionChange.lineNo": "The line it changed; null for an order-level term.",
    "RevisionChange.after": "As text: dates ISO-8601, money exact.",
    "Proposal.id": "Global, opaque ID.",
    "Proposal.proposedAt": "When the supplier proposed it.",
    "Proposal.promisedDate": "The date the supplier can promise; null: unchanged.",
    "Proposal.note": "The supplier's reason.",
    "Proposal.lines": "The lines it changes.",
    "ProposedLine.lineNo": "The order line.",
    "ProposedLine.quantity": "Proposed quantity; null: unchanged.",
    "ProposedLine.unitPrice": "Proposed unit price; null: unchanged.",
    "TrackingLink.id": "Global, opaque ID.",
    "TrackingLink.revokedAt": "When it was revoked; null while it works.",
    "TrackingLink.createdAt": "When it was made.",
    # --- parties -------------------------------------------------------------------------
    "Supplier": PerRole(
        "A company that makes parts for the buyer.",
        supplier="You, as the buyer knows you.",
    ),
    "Supplier.id": "Global, opaque ID.",
    "Supplier.name": "The company's name.",
    "Supplier.contactEmail": "Where new POs are e-mailed, if set.",
    "Supplier.orders": PerRole(
        "This supplier's orders, newest first.",
        supplier="Your orders, newest first.",
    ),
    "Client": PerRole(
        "The buyer's own customer, who watches delivery progress.",
        client="You, as the buyer knows you.",
    ),
    "Client.id": "Global, opaque ID.",
    "Client.name": "The client's name.",
    "Client.orders": PerRole(
        "This client's orders, newest first.",
        client="Your orders, newest first.",
    ),
    "SupplierScorecard.windowDays": "The window, in days back from now.",
    "SupplierScorecard.orders": "Orders issued in the window.",
    "SupplierScorecard.medianHoursToAcknowledge": "Median hours from issue to acknowledgement.",
    "SupplierScorecard.promiseSlips": "How often a promised date moved later.",
    # --- alerts and dashboard --------------------------------------------------------------
    "Alert.kind": "Which rule raised it.",
    "Alert.stage": "The order's stage, the one that overstays for a stage kind.",
    "Alert.since": (
        "Where the clock started: when the order entered the stage that overstays, the "
        "midnight after the promised date (LATE), or when the promise slipped."
    ),
    "Alert.ageHours": "Hours from since to now.",
    "Alert.thresholdHours": (
        "The organisation's threshold for this kind, in hours; null for LATE and "
        "PROMISE_SLIPPED, which have none."
    ),
    "Alert.message": "A one-line explanation for people.",
    "Alert.order": "The order it is about.",
    "AlertKind": "Why an order needs attention.",
    "Dashboard.stageCounts": "Orders per stage.",
    "Dashboard.openAlerts": "Open alerts per kind.",
    "Dashboard.unacknowledged": "Orders waiting too long for acknowledgement.",
    "Dashboard.late": "Orders past their promised date, not dispatched.",
    "StageCount": "How many orders are in one stage.",
    "StageCount.stage": "The stage.",
    "StageCount.count": "Orders in it.",
    "AlertCount": "How many alerts of one kind are open.",
    "AlertCount.kind": "The kind.",
    "AlertCount.count": "Open alerts of that kind.",
    "AlertThresholds.acknowledgeWithinHours": "UNACKNOWLEDGED after this long in ISSUED.",
    "AlertThresholds.startProductionWithinHours": (
        "PRODUCTION_NOT_STARTED after this long in ACKNOWLEDGED."
    ),
    "AlertThresholds.deliverWithinHours": "DELIVERY_OVERDUE after this long in DISPATCHED.",
    "MatchingTolerances.priceTolerancePercent": (
        "How far, in percent, an invoiced unit price may differ."
    ),
    "MatchingTolerances.quantityTolerance": "How many units an invoiced quantity may differ.",
    # --- filter --------------------------------------------------------------------------
    "OrderFilter.stages": "Only orders in one of these stages (empty: none).",
    "OrderFilter.supplierId": "Only orders of this supplier (a Supplier.id).",
    "OrderFilter.clientId": PerRole(
        "Only orders for this client (a Client.id).",
        client="Only orders for this client (your Client.id).",
    ),
    "OrderFilter.needByBefore": "Only orders needed before this day.",
    "OrderFilter.needByAfter": "Only orders needed after this day.",
    "OrderFilter.search": PerRole(
        "Substring of a PO number or part number (or a client reference, where shown).",
        client="Substring of a PO number, part number or your own reference.",
        supplier="Substring of a PO number or part number.",
    ),
    "OrderFilter.minTotal": "Only orders whose total is at least this.",
    # --- enums ---------------------------------------------------------------------------
    "OrderStage.ISSUED": PerRole(
        "Sent to the supplier; waiting for acknowledgement.",
        client="Ordered; waiting for confirmation.",
        supplier="Sent to you; waiting for your acknowledgement.",
    ),
    "OrderStage.ACKNOWLEDGED": PerRole(
        "The supplier accepted it and promised a date.",
        client="Confirmed, with a promised date.",
        supplier="You accepted it and promised a date.",
    ),
    "OrderStage.IN_PRODUCTION": "Being made.",
    "OrderStage.DISPATCHED": "At least one shipment has left; not everything received yet.",
    "OrderStage.DELIVERED": "Everything was received.",
    "OrderStage.DECLINED": PerRole(
        "The supplier turned it down.",
        client="Turned down: it will not be made.",
        supplier="You turned it down.",
    ),
    "OrderStage.CANCELLED": "Cancelled by the buyer before dispatch.",
    "OrderStage.CLOSED": "Short-closed: what was not delivered will not come.",
    "Awaiting.NOTHING": "No one's: the order moves with its stage.",
    "Awaiting.ACKNOWLEDGEMENT": "The supplier must acknowledge the current revision.",
    "Awaiting.ANSWER": "The buyer must accept or reject the supplier's proposal.",
    "Outlook": PerRole(
        "Delivery outlook derived from dates and stage only.",
        client="How delivery looks, from dates and stage.",
    ),
    "Outlook.ON_TRACK": "Nothing is behind plan.",
    "Outlook.AT_RISK": PerRole(
        "Something is behind plan (an alert is open) or the order was declined or cancelled.",
        client="Something is behind plan: a step is taking longer than usual, the promised "
        "date moved or is after the need-by date, or the order was declined or cancelled.",
    ),
    "Outlook.LATE": PerRole(
        "The promised date passed before dispatch, or the need-by date passed.",
        client="The promised date passed before shipping, or the need-by date passed.",
    ),
    "Outlook.DELIVERED": "Everything came, or the rest was short-closed: nothing more to come.",
    "AlertKind.UNACKNOWLEDGED": "ISSUED for longer than acknowledgeWithinHours.",
    "AlertKind.PRODUCTION_NOT_STARTED": "ACKNOWLEDGED for longer than startProductionWithinHours.",
    "AlertKind.LATE": "The promised date passed and the order is not dispatched.",
    "AlertKind.DELIVERY_OVERDUE": "DISPATCHED for longer than deliverWithinHours.",
    "AlertKind.PROMISE_SLIPPED": "The promised date is after the need-by date, or moved later.",
    "ShipmentMethod": "How goods travel.",
    "ShipmentMethod.OWN_DRIVER": PerRole(
        "The supplier's own vehicle and driver.",
        client="Delivered directly, without a courier.",
        supplier="Your own vehicle and driver.",
    ),
    "ShipmentMethod.COURIER": "A parcel courier.",
    "ShipmentMethod.FREIGHT": "A freight forwarder or haulier.",
    "ShipmentStatus.DISPATCHED": "It left.",
    "ShipmentStatus.IN_TRANSIT": "On its way.",
    "ShipmentStatus.OUT_FOR_DELIVERY": "Out for delivery today.",
    "ShipmentStatus.DELIVERED": "Arrived.",
    "ShipmentStatus.EXCEPTION": "A problem on the way: delayed, damaged, lost or refused.",
    "MatchStatus": "Three-way match of ordered, received and invoiced.",
    "MatchStatus.AWAITING_RECEIPT": "Invoiced beyond what has been received so far.",
    "MatchStatus.MATCHED": PerRole(
        "Quantities and prices agree within the tolerances.",
        supplier="Quantities and prices agree.",
    ),
    "MatchStatus.QUANTITY_MISMATCH": "An invoiced quantity differs from the received one.",
    "MatchStatus.PRICE_MISMATCH": "An invoiced unit price differs from the ordered one.",
    "RevisionField": "A term of an order that a revision can change.",
    "RevisionField.NEED_BY": "The need-by date.",
    "RevisionField.PROMISED_DATE": "The promised date.",
    "RevisionField.LINE_ADDED": "A new line.",
    "RevisionField.QUANTITY": "A line's quantity.",
    "RevisionField.UNIT_PRICE": "A line's unit price.",
    "NoteAudience.SUPPLIER": "The order's supplier.",
    "NoteAudience.CLIENT": "The order's client.",
    "OrderSort": "How to sort orders; ties are broken by ID.",
    "OrderSort.ISSUED_AT_DESC": "Newest first.",
    "OrderSort.ISSUED_AT_ASC": "Oldest first.",
    "OrderSort.NEED_BY_ASC": "Soonest need-by date first.",
    "OrderSort.STAGE_ENTERED_AT_ASC": "Longest in its current stage first.",
    "OrderSort.TOTAL_DESC": "Largest total first.",
    "ErrorCode": "The kind of a user error.",
    "ErrorCode.NOT_FOUND": "The object does not exist, or the caller may not see it.",
    "ErrorCode.INVALID_TRANSITION": "The order's stage does not allow this action.",
    "ErrorCode.CONFLICT": "expectedVersion no longer matches: reload and try again.",
    "ErrorCode.RATE_LIMITED": "Too many of one action in a short time: try again later.",
    "Order.events(first)": "At most this many events, oldest first (default 20, at most 100).",
    "Order.events(after)": "An OrderEvent.id: only the events after it.",
    "ErrorCode.VALIDATION": "An input value is not acceptable; see field.",
    "UserError.code": "What kind of problem.",
    "UserError.message": "A sentence for people.",
    "UserError.field": "Path of the input field at fault, e.g. [input, lines, 0, quantity].",
    # --- mutation inputs (fields not covered by PATTERNS) ---------------------------------
    "CreateSupplierInput": "A new supplier.",
    "CreateSupplierInput.name": "The company's name.",
    "CreateSupplierInput.contactEmail": "Where new POs are e-mailed.",
    "CreateClientInput": "A new client.",
    "CreateClientInput.name": "The client's name.",
    "IssueOrderInput": "A new purchase order.",
    "IssueOrderInput.supplierId": "Who makes it (a Supplier.id).",
    "IssueOrderInput.needBy": "The day the goods are needed by.",
    "IssueOrderInput.currency": "ISO 4217 code, e.g. EUR.",
    "IssueOrderInput.lines": "At least one line.",
    "IssueOrderInput.clientId": "Whom it is for (a Client.id); omitted: the buyer's own stock.",
    "IssueOrderInput.clientReference": "The client's own reference, shown to the client.",
    "IssueOrderInput.terms": "Payment and delivery terms, as free text.",
    "IssueOrderInput.leadTimeDays": "Agreed lead time in days.",
    "IssueOrderInput.internalNote": "Your own note; no one else ever sees it.",
    "OrderLineInput": "One line of a new order.",
    "OrderLineInput.partNumber": "The part number.",
    "OrderLineInput.quantity": "Units, at least 1.",
    "OrderLineInput.unitPrice": "Price of one unit, at most 4 decimals.",
    "OrderLineInput.description": "What the part is.",
    "CancelOrderInput": "Cancel an order before dispatch.",
    "CancelOrderInput.reason": "Why; yours alone unless shared with visibleTo.",
    "CloseOrderInput": "Short-close an order.",
    "CloseOrderInput.reason": "Why; yours alone unless shared with visibleTo.",
    "ReceiveDeliveryInput": "A goods receipt.",
    "ReceiveDeliveryInput.lines": "Per line: units accepted and rejected.",
    "ReceiveDeliveryInput.note": "A note on the receipt; yours alone unless shared.",
    "ReceiptLineInput.lineNo": "The order line.",
    "RespondToProposalInput": "Your answer to the supplier's proposal.",
    "RespondToProposalInput.accept": "true: accept the proposed terms; false: reject them.",
    "RespondToProposalInput.note": "A note with the answer.",
    "AmendOrderInput": "New terms for an order before dispatch.",
    "AmendOrderInput.reason": "Why the terms change.",
    "AmendOrderInput.needBy": "A new need-by date.",
    "AmendOrderInput.lines": "New quantities or prices for existing lines.",
    "AmendOrderInput.addLines": "Lines to add.",
    "LineChangeInput.lineNo": "The order line.",
    "LineChangeInput.quantity": "New quantity; omitted: unchanged.",
    "LineChangeInput.unitPrice": "New unit price; omitted: unchanged.",
    "SetMatchingTolerancesInput": "New matching tolerances.",
    "SetMatchingTolerancesInput.priceTolerancePercent": "Percent a unit price may differ.",
    "SetMatchingTolerancesInput.quantityTolerance": "Units a quantity may differ.",
    "AlertThresholdsInput": "New alert thresholds; omitted ones keep their value.",
    "AlertThresholdsInput.acknowledgeWithinHours": "Hours in ISSUED before UNACKNOWLEDGED.",
    "AlertThresholdsInput.startProductionWithinHours": (
        "Hours in ACKNOWLEDGED before PRODUCTION_NOT_STARTED."
    ),
    "AlertThresholdsInput.deliverWithinHours": "Hours in DISPATCHED before DELIVERY_OVERDUE.",
    "CreateTrackingLinkInput": "A new tracking link.",
    "RevokeTrackingLinkInput": "The link to stop.",
    "RevokeTrackingLinkInput.linkId": "The TrackingLink.id.",
    "AcknowledgeOrderInput": "Accept the order's current revision.",
    "AcknowledgeOrderInput.promisedDate": "The day you promise to dispatch.",
    "AcknowledgeOrderInput.note": "A note for the buyer.",
    "ProposeChangesInput": "Your own terms instead of an acknowledgement.",
    "ProposeChangesInput.note": "Why: the buyer reads it.",
    "ProposeChangesInput.lines": "Proposed quantities or unit prices per line.",
    "DeclineOrderInput": "Turn an order down.",
    "DeclineOrderInput.reason": "Why, for the buyer.",
    "OrderActionInput": "An action on one order.",
    "OrderActionInput.note": "A note for the buyer.",
    "UpdatePromisedDateInput": "A new promised date.",
    "UpdatePromisedDateInput.promisedDate": "The new day you promise to dispatch.",
    "UpdatePromisedDateInput.reason": "Why it moved, for the buyer.",
    "AddMilestoneInput": "A progress note.",
    "AddMilestoneInput.note": 'What happened, e.g. "material ordered".',
    "DispatchOrderInput": "A shipment leaving.",
    "DispatchOrderInput.method": "How it travels.",
    "DispatchOrderInput.carrier": "Who carries it.",
    "DispatchOrderInput.trackingReference": "The carrier's tracking number.",
    "DispatchOrderInput.trackingUrl": "An http(s) page where the carrier tracks it.",
    "LineQuantityInput.lineNo": "The order line.",
    "LineQuantityInput.quantity": "Units, at least 1.",
    "SubmitInvoiceInput": "An invoice against an order.",
    "SubmitInvoiceInput.number": "Your invoice number.",
    "SubmitInvoiceInput.lines": "Invoiced lines.",
    "InvoiceLineInput": "One invoiced line.",
    "InvoiceLineInput.lineNo": "The order line.",
    "InvoiceLineInput.quantity": "Units invoiced.",
    "InvoiceLineInput.unitPrice": "Price of one unit, at most 4 decimals.",
    "UpdateShipmentInput": "A shipment's progress.",
    "UpdateShipmentInput.shipmentId": "The Shipment.id.",
    "UpdateShipmentInput.status": "Where it is now.",
    "SupplierPayload.supplier": "The supplier as saved; null when userErrors is not empty.",
    "ClientPayload.client": "The client as saved; null when userErrors is not empty.",
    "OrderPayload.order": "The order after the change; null when userErrors is not empty.",
    "InvoicePayload.invoice": "The invoice as saved; null when userErrors is not empty.",
    "MatchingTolerancesPayload.tolerances": "The tolerances now in force; null on error.",
    "AlertThresholdsPayload.thresholds": "The thresholds now in force; null on error.",
    "TrackingLinkPayload": "The result of a tracking-link mutation.",
    # --- webhooks (their types arrive with the webhooks branch) ------------------------
    "WebhookEndpoint.id": "Global, opaque ID.",
    "WebhookEndpoint.url": "Where deliveries are POSTed (http or https).",
    "WebhookEndpoint.events": "Which events it receives.",
    "WebhookEndpoint.description": "Your own label for it, if any.",
    "WebhookEndpoint.createdAt": "When it was registered.",
    "WebhookEvent": PerRole(
        "What a webhook endpoint receives: ORDER_EVENT as orderEvents, ALERT_RAISED as "
        "alertRaised would deliver it.",
        client="What a webhook endpoint receives: ORDER_EVENT, each order event as "
        "orderEvents would deliver it.",
    ),
    "WebhookEvent.ORDER_EVENT": 'Each order event the caller may see; type "order.event".',
    "WebhookEvent.ALERT_RAISED": 'Each alert as it is raised; type "alert.raised".',
    "WebhookDelivery.event": "Which event it carries.",
    "WebhookDelivery.status": "Where its delivery stands.",
    "WebhookDelivery.createdAt": "When the event was queued for this endpoint.",
    "DeliveryStatus": "Where a webhook delivery stands.",
    "DeliveryStatus.PENDING": "Not yet accepted by the receiver: waiting for its next attempt.",
    "DeliveryStatus.DELIVERED": "The receiver answered 2xx.",
    "DeliveryStatus.FAILED": "Every attempt failed; redeliverWebhook tries again.",
    "WebhookEndpointPayload.webhookEndpoint": (
        "The endpoint as it is now; null when userErrors is not empty."
    ),
    "CreateWebhookEndpointInput.events": "Which events to receive.",
    "CreateWebhookEndpointInput.description": "Your own label for it.",
    "DeleteWebhookEndpointInput.endpointId": "The WebhookEndpoint.id.",
    "RotateWebhookSecretInput.endpointId": "The WebhookEndpoint.id.",
    "RedeliverWebhookInput.deliveryId": "The WebhookDelivery.id.",
}

# Shapes many types share. fnmatch patterns over the keys above, tried in order after
# the exact keys and the code's own text; ``{base}`` is the type name without its
# Connection/Edge/Payload/Input suffix, ``{type}`` the whole name.
PATTERNS: dict[str, str] = {
    "*Connection": "A page of {base} items, in the list's order (cursor pagination).",
    "*Connection.edges": "The items of this page, each with its cursor.",
    "*Connection.pageInfo": "Cursors and whether there are more pages either way.",
    "*Connection.totalCount": "How many items match the arguments, of those the caller may see.",
    "*Edge": "One {base} in a page, with the cursor that points at it.",
    "*Edge.cursor": "Opaque: pass it as after (or before) to continue from this item.",
    "*Edge.node": "The item.",
    "PageInfo.hasNextPage": "Whether items follow this page (for paging forward with first).",
    "PageInfo.hasPreviousPage": (
        "Whether items precede this page (for paging backward with last)."
    ),
    "PageInfo.startCursor": "The first edge's cursor; null on an empty page.",
    "PageInfo.endCursor": "The last edge's cursor; null on an empty page.",
    # Paging arguments of connection fields only (an argument is also matched as
    # "Type.field(arg) -> ReturnType"): a list's own `after: ID` means something else.
    "*(first) -> *Connection": _FIRST,
    "*(after) -> *Connection": _AFTER,
    "*(last) -> *Connection": _LAST,
    "*(before) -> *Connection": _BEFORE,
    "*(input)": "What to do; see the input type.",
    "*Payload": "The result of a mutation: the object (null on error) and userErrors.",
    "*Payload.userErrors": "Why nothing changed; empty on success.",
    "*Input.orderId": _ORDER_ID,
    "*Input.expectedVersion": _EXPECTED_VERSION,
    "*Input.idempotencyKey": _IDEMPOTENCY_KEY,
    "*Input.note": _NOTE,
    "*Input": "The arguments of a mutation, as one input object.",
}


@dataclass(frozen=True)
class Member:
    """One describable member of a schema, with its graphql-core object."""

    key: str
    type_name: str
    target: object
    returns: str | None = None  # an argument's field's named type, for PATTERNS


def members(schema: GraphQLSchema) -> Iterator[Member]:
    """Every type, field, argument, input field and enum value of ``schema``,
    built-in scalars and introspection types excluded."""
    for name, gql_type in schema.type_map.items():
        if name.startswith("__") or name in BUILT_IN:
            continue
        yield Member(name, name, gql_type)
        if isinstance(gql_type, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in gql_type.fields.items():
                yield Member(f"{name}.{field_name}", name, field)
                returns = get_named_type(field.type).name
                for arg_name, arg in field.args.items():
                    yield Member(f"{name}.{field_name}({arg_name})", name, arg, returns)
        elif isinstance(gql_type, GraphQLInputObjectType):
            for field_name, input_field in gql_type.fields.items():
                yield Member(f"{name}.{field_name}", name, input_field)
        elif isinstance(gql_type, GraphQLEnumType):
            for value_name, value in gql_type.values.items():
                yield Member(f"{name}.{value_name}", name, value)


_SUFFIXES = ("Connection", "Edge", "Payload", "Input")


def _base(type_name: str) -> str:
    for suffix in _SUFFIXES:
        if type_name.endswith(suffix) and type_name != suffix:
            return type_name[: -len(suffix)]
    return type_name


def description_for(member: Member, role: Role, current: str | None) -> str | None:
    """The text a member gets: the table's, else the code's, else a pattern's."""
    entry = DESCRIPTIONS.get(member.key)
    if entry is not None:
        return entry.text(role) if isinstance(entry, PerRole) else entry
    if current:
        return current
    names = [member.key]
    if member.returns is not None:
        names.append(f"{member.key} -> {member.returns}")
    # An argument takes only the argument patterns ("*Connection" would match its
    # "-> XConnection" form and describe the argument as a page).
    argument = member.returns is not None
    for pattern, text in PATTERNS.items():
        if argument != ("(" in pattern):
            continue
        if any(fnmatch.fnmatchcase(name, pattern) for name in names):
            return text.format(base=_base(member.type_name), type=member.type_name)
    return None


def apply_descriptions(schema: GraphQLSchema, role: Role) -> None:
    """Set every member's description from the table (in place; the schema is the role's own)."""
    for member in members(schema):
        target = member.target
        text = description_for(member, role, _description(target))
        if text is not None:
            target.description = text  # type: ignore[attr-defined]


def _description(target: object) -> str | None:
    text = getattr(target, "description", None)
    return text if isinstance(text, str) else None


def missing_descriptions(schema: GraphQLSchema) -> list[str]:
    """Keys of members without a description (empty when the schema is complete)."""
    return [m.key for m in members(schema) if not (_description(m.target) or "").strip()]


def described_texts(schema: GraphQLSchema) -> dict[str, str]:
    """Every member's description by key, for the leak tests."""
    return {m.key: text for m in members(schema) if (text := _description(m.target))}
