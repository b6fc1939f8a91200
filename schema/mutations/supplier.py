"""The supplier's mutations: acknowledge (or propose changes instead) or decline,
produce, keep the promise current, dispatch, invoice."""

from __future__ import annotations

import strawberry

from db.commands import supplier
from db.commands.context import OrderRef
from db.commands.lines import InvoiceLineInput as DomainInvoiceLine
from schema import relations
from schema.context import Info
from schema.mutations.base import command, line_changes, order_command, quantities
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
        return await order_command(
            info,
            "acknowledgeOrder",
            input,
            supplier.acknowledge,
            promised_date=input.promised_date,
            note=input.note,
        )

    @strawberry.mutation(
        description="Instead of acknowledging: propose a date, quantities or unit prices "
        "(note required); the buyer accepts or rejects."
    )
    async def propose_changes(self, info: Info, input: ProposeChangesInput) -> OrderPayload:
        return await order_command(
            info,
            "proposeChanges",
            input,
            supplier.propose_changes,
            promised_date=input.promised_date,
            lines=line_changes(input.lines),
            note=input.note,
        )

    @strawberry.mutation(description="Turn the PO down (reason required).")
    async def decline_order(self, info: Info, input: DeclineOrderInput) -> OrderPayload:
        return await order_command(
            info, "declineOrder", input, supplier.decline, reason=input.reason
        )

    @strawberry.mutation(description="Production has started (ACKNOWLEDGED → IN_PRODUCTION).")
    async def start_production(self, info: Info, input: OrderActionInput) -> OrderPayload:
        return await order_command(
            info, "startProduction", input, supplier.start_production, note=input.note
        )

    @strawberry.mutation(description="Move the promised date (reason required): a heartbeat.")
    async def update_promised_date(
        self, info: Info, input: UpdatePromisedDateInput
    ) -> OrderPayload:
        return await order_command(
            info,
            "updatePromisedDate",
            input,
            supplier.update_promised_date,
            promised_date=input.promised_date,
            reason=input.reason,
        )

    @strawberry.mutation(description='Record progress, e.g. "material ordered".')
    async def add_milestone(self, info: Info, input: AddMilestoneInput) -> OrderPayload:
        return await order_command(
            info, "addMilestone", input, supplier.add_milestone, note=input.note
        )

    @strawberry.mutation(description="Ship all that remains, or the given lines (partial).")
    async def dispatch_order(self, info: Info, input: DispatchOrderInput) -> OrderPayload:
        return await order_command(
            info,
            "dispatchOrder",
            input,
            supplier.dispatch,
            method=input.method,
            carrier=input.carrier,
            tracking_reference=input.tracking_reference,
            tracking_url=input.tracking_url,
            lines=quantities(input.lines),
        )

    @strawberry.mutation(description="Invoice the order (from DISPATCHED on).")
    async def submit_invoice(self, info: Info, input: SubmitInvoiceInput) -> InvoicePayload:
        lines = [
            DomainInvoiceLine(line_no=ln.line_no, quantity=ln.quantity, unit_price=ln.unit_price)
            for ln in input.lines
        ]
        invoice, errors = await command(
            info,
            operation=f"submitInvoice:{input.order_id}"[:60],
            idempotency_key=input.idempotency_key,
            run=lambda call: supplier.submit_invoice(
                call,
                OrderRef(str(input.order_id), input.expected_version),
                number=input.number,
                lines=lines,
            ),
            result=relations.get("Mutation", "submitInvoice"),
        )
        return InvoicePayload(invoice=invoice, user_errors=errors)
