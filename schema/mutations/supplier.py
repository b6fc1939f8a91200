"""The supplier's mutations: acknowledge (or propose changes instead) or decline,
produce, keep the promise current, dispatch, invoice."""

from __future__ import annotations

import strawberry

from db.commands import supplier
from schema import relations
from schema.context import Info
from schema.mutations.base import on_order, order_mutation
from schema.mutations.inputs import (
    AcknowledgeOrderInput,
    AddMilestoneInput,
    DeclineOrderInput,
    DispatchOrderInput,
    OrderActionInput,
    ProposeChangesInput,
    SubmitInvoiceInput,
    UpdatePromisedDateInput,
)
from schema.mutations.payloads import InvoicePayload


@strawberry.type
class SupplierMutations:
    # The lifecycle: each a domain command on one order (descriptions: schema.descriptions).
    acknowledge_order = order_mutation(supplier.acknowledge, AcknowledgeOrderInput)
    propose_changes = order_mutation(supplier.propose_changes, ProposeChangesInput)
    decline_order = order_mutation(supplier.decline, DeclineOrderInput)
    start_production = order_mutation(supplier.start_production, OrderActionInput)
    update_promised_date = order_mutation(supplier.update_promised_date, UpdatePromisedDateInput)
    add_milestone = order_mutation(supplier.add_milestone, AddMilestoneInput)
    dispatch_order = order_mutation(supplier.dispatch, DispatchOrderInput)

    @strawberry.mutation(description="Invoice the order (from DISPATCHED on).")
    async def submit_invoice(self, info: Info, input: SubmitInvoiceInput) -> InvoicePayload:
        invoice, errors = await on_order(
            info,
            "submitInvoice",
            input,
            supplier.submit_invoice,
            relations.get("Mutation", "submitInvoice"),
        )
        return InvoicePayload(invoice=invoice, user_errors=errors)
