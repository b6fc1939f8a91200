"""The buyer's mutations: parties, issuing POs, answering proposals, amending, receiving
(with rejects), cancelling and short-closing, org settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from db.alerts import Thresholds
from db.commands import buyer, orders, parties, settings
from db.unit_of_work import HasId
from schema import relations
from schema.context import Info
from schema.mutations.base import command, domain_value, order_mutation, settings_command
from schema.mutations.inputs import (
    AlertThresholdsInput,
    AmendOrderInput,
    CancelOrderInput,
    CloseOrderInput,
    CreateClientInput,
    CreatePartyInput,
    CreateSupplierInput,
    IssueOrderInput,
    ReceiveDeliveryInput,
    RespondToProposalInput,
    SetMatchingTolerancesInput,
)
from schema.mutations.payloads import (
    AlertThresholdsPayload,
    ClientPayload,
    MatchingTolerances,
    MatchingTolerancesPayload,
    OrderPayload,
    SupplierPayload,
    UserError,
)
from schema.types.alerts import AlertThresholds


@strawberry.type
class BuyerMutations:
    @strawberry.mutation(description="Add a supplier to the organisation.")
    async def create_supplier(self, info: Info, input: CreateSupplierInput) -> SupplierPayload:
        supplier, errors = await create_party(info, input, "Supplier", parties.create_supplier)
        return SupplierPayload(supplier=supplier, user_errors=errors)

    @strawberry.mutation(description="Add a client (the buyer's own customer).")
    async def create_client(self, info: Info, input: CreateClientInput) -> ClientPayload:
        client, errors = await create_party(info, input, "Client", parties.create_client)
        return ClientPayload(client=client, user_errors=errors)

    @strawberry.mutation(description="Issue a purchase order to a supplier (stage ISSUED).")
    async def issue_order(self, info: Info, input: IssueOrderInput) -> OrderPayload:
        data: orders.IssueOrderInput = domain_value(input)
        order, errors = await command(
            info,
            operation="issueOrder",
            idempotency_key=input.idempotency_key,
            run=lambda call: orders.issue_order(call, data),
            result=relations.get("Node", "Order"),
        )
        return OrderPayload(order=order, user_errors=errors)

    # The lifecycle: each a domain command on one order (descriptions: schema.descriptions).
    cancel_order = order_mutation(buyer.cancel, CancelOrderInput)
    close_order = order_mutation(buyer.close, CloseOrderInput)
    receive_delivery = order_mutation(buyer.receive, ReceiveDeliveryInput)
    respond_to_proposal = order_mutation(buyer.respond_to_proposal, RespondToProposalInput)
    amend_order = order_mutation(buyer.amend, AmendOrderInput)

    @strawberry.mutation(description="Price and quantity tolerance for invoice matching.")
    async def set_matching_tolerances(
        self, info: Info, input: SetMatchingTolerancesInput
    ) -> MatchingTolerancesPayload:
        row, errors = await settings_command(
            info,
            lambda call: settings.set_tolerances(
                call,
                price_tolerance_percent=input.price_tolerance_percent,
                quantity_tolerance=input.quantity_tolerance,
            ),
        )
        tolerances = (
            MatchingTolerances(
                price_tolerance_percent=row.price_tolerance_percent,
                quantity_tolerance=row.quantity_tolerance,
            )
            if row is not None
            else None
        )
        return MatchingTolerancesPayload(tolerances=tolerances, user_errors=errors)

    @strawberry.mutation(description="Alert thresholds in hours; omitted ones keep their value.")
    async def set_alert_thresholds(
        self, info: Info, input: AlertThresholdsInput
    ) -> AlertThresholdsPayload:
        row, errors = await settings_command(
            info,
            lambda call: settings.set_alert_thresholds(
                call,
                values={
                    "acknowledge_within_hours": input.acknowledge_within_hours,
                    "start_production_within_hours": input.start_production_within_hours,
                    "deliver_within_hours": input.deliver_within_hours,
                },
            ),
        )
        return AlertThresholdsPayload(
            thresholds=AlertThresholds.of(Thresholds.of(row)) if row is not None else None,
            user_errors=errors,
        )


async def create_party(
    info: Info,
    input: CreatePartyInput,
    node: str,
    create: Callable[..., Awaitable[HasId]],
) -> tuple[Any, list[UserError]]:
    """Add a supplier or a client (``node`` its type name): a name and a contact."""
    return await command(
        info,
        operation=f"create{node}",
        idempotency_key=input.idempotency_key,
        run=lambda call: create(call, name=input.name, contact_email=input.contact_email),
        result=relations.get("Node", node),
    )
