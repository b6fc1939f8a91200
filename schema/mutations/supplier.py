"""The supplier's mutations: acknowledge (or propose changes instead) or decline,
produce, keep the promise current, dispatch, invoice."""

from __future__ import annotations

import strawberry

from db.commands import supplier
from schema import relations
from schema.context import Info
from schema.mutations.base import on_order, order_command
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
from schema.mutations.payloads import InvoicePayload, OrderPayload


@strawberry.type
class SupplierMutations:
    @strawberry.mutation(
        description="Confirm the current revision and commit to a date: the PO as issued "
        "(ISSUED → ACKNOWLEDGED), or a revision the buyer made since."
    )
    async def acknowledge_order(self, info: Info, input: AcknowledgeOrderInput) -> OrderPayload:
        return await order_command(info, "acknowledgeOrder", input, supplier.acknowledge)

    @strawberry.mutation(
        description="Instead of acknowledging: propose a date, quantities or unit prices "
        "(note required); the buyer accepts or rejects."
    )
    async def propose_changes(self, info: Info, input: ProposeChangesInput) -> OrderPayload:
        return await order_command(info, "proposeChanges", input, supplier.propose_changes)

    @strawberry.mutation(description="Turn the PO down (reason required).")
    async def decline_order(self, info: Info, input: DeclineOrderInput) -> OrderPayload:
        return await order_command(info, "declineOrder", input, supplier.decline)

    @strawberry.mutation(description="Production has started (ACKNOWLEDGED → IN_PRODUCTION).")
    async def start_production(self, info: Info, input: OrderActionInput) -> OrderPayload:
        return await order_command(info, "startProduction", input, supplier.start_production)

    @strawberry.mutation(description="Move the promised date (reason required): a heartbeat.")
    async def update_promised_date(
        self, info: Info, input: UpdatePromisedDateInput
    ) -> OrderPayload:
        return await order_command(info, "updatePromisedDate", input, supplier.update_promised_date)

    @strawberry.mutation(description='Record progress, e.g. "material ordered".')
    async def add_milestone(self, info: Info, input: AddMilestoneInput) -> OrderPayload:
        return await order_command(info, "addMilestone", input, supplier.add_milestone)

    @strawberry.mutation(description="Ship all that remains, or the given lines (partial).")
    async def dispatch_order(self, info: Info, input: DispatchOrderInput) -> OrderPayload:
        return await order_command(info, "dispatchOrder", input, supplier.dispatch)

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
