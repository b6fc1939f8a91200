"""The watchable link: the buyer makes and revokes tracking links; the supplier reports
each shipment's progress, which every open tracking page hears of."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from db import models
from db.commands import shipments, tracking_links
from schema import relations
from schema.context import Info
from schema.mutations.base import by_id, command, unit_of_work
from schema.mutations.payloads import OrderPayload, UserError
from schema.types.order import Order
from schema.types.tracking import TrackingLink


@strawberry.input
class CreateTrackingLinkInput:
    order_id: strawberry.ID
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the link stops working; omitted: until revoked."
    )
    idempotency_key: str | None = None


@strawberry.input
class RevokeTrackingLinkInput:
    link_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class UpdateShipmentInput:
    shipment_id: strawberry.ID
    status: models.ShipmentStatus
    estimated_arrival: date | None = strawberry.field(
        default=None, description="Expected arrival; omitted: the current estimate stays."
    )
    note: str | None = strawberry.field(default=None, description="Seen by the buyer only.")
    expected_version: int | None = None
    idempotency_key: str | None = None


@strawberry.type
class TrackingLinkPayload:
    tracking_link: TrackingLink | None = strawberry.field(
        description="In createTrackingLink's payload its url carries the token: the only time."
    )
    user_errors: list[UserError]


@strawberry.type
class TrackingMutations:
    @strawberry.mutation(
        description="A link that shows the order to its client, live, without an account."
    )
    async def create_tracking_link(
        self, info: Info, input: CreateTrackingLinkInput
    ) -> TrackingLinkPayload:
        link, token, errors = await unit_of_work(
            info,
            operation=f"createTrackingLink:{input.order_id}"[:60],
            idempotency_key=input.idempotency_key,
            run=lambda call: tracking_links.create_link(
                call, order_id=str(input.order_id), expires_at=input.expires_at
            ),
            load=by_id(info, relations.get("Node", "TrackingLink")),
        )
        found: TrackingLink | None = link
        if found is not None and token is not None:
            # Just made (not a replay): the one time the token can be shown.
            found.token = token
        return TrackingLinkPayload(tracking_link=found, user_errors=errors)

    @strawberry.mutation(description="Stop a tracking link: its page answers 404 from now on.")
    async def revoke_tracking_link(
        self, info: Info, input: RevokeTrackingLinkInput
    ) -> TrackingLinkPayload:
        link, errors = await command(
            info,
            operation="revokeTrackingLink",
            idempotency_key=input.idempotency_key,
            run=lambda call: tracking_links.revoke_link(call, link_id=str(input.link_id)),
            result=relations.get("Node", "TrackingLink"),
        )
        return TrackingLinkPayload(tracking_link=link, user_errors=errors)

    @strawberry.mutation(
        description="Report a shipment's progress (own driver too): status and expected arrival."
    )
    async def update_shipment(self, info: Info, input: UpdateShipmentInput) -> OrderPayload:
        order, errors = await command(
            info,
            operation=f"updateShipment:{input.shipment_id}"[:60],
            idempotency_key=input.idempotency_key,
            run=lambda call: shipments.update_shipment(
                call,
                shipment_id=str(input.shipment_id),
                status=input.status,
                estimated_arrival=input.estimated_arrival,
                note=input.note,
                expected_version=input.expected_version,
            ),
            result=relations.get("Node", "Order"),
        )
        found: Order | None = order
        return OrderPayload(order=found, user_errors=errors)
